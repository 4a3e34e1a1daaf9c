/**
 * Message counters of one channel, RabbitMQ's `message_stats` names. Plain integer fields, incremented
 * once per frame on the hot path; summed at scrape time (live channels plus the closed ones' totals).
 */
export class ChannelStats {
  publish = 0;
  /** Publishes on a channel in confirm mode. */
  publishConfirm = 0;
  confirm = 0;
  /** Publishes routed to at least one queue. */
  routed = 0;
  returnUnroutable = 0;
  dropUnroutable = 0;
  deliver = 0;
  deliverNoAck = 0;
  get = 0;
  getNoAck = 0;
  getEmpty = 0;
  redeliver = 0;
  ack = 0;

  /** Adds another channel's counts (a closing channel's, into the server's retired totals). */
  add(other: ChannelStats): void {
    this.publish += other.publish;
    this.publishConfirm += other.publishConfirm;
    this.confirm += other.confirm;
    this.routed += other.routed;
    this.returnUnroutable += other.returnUnroutable;
    this.dropUnroutable += other.dropUnroutable;
    this.deliver += other.deliver;
    this.deliverNoAck += other.deliverNoAck;
    this.get += other.get;
    this.getNoAck += other.getNoAck;
    this.getEmpty += other.getEmpty;
    this.redeliver += other.redeliver;
    this.ack += other.ack;
  }
}

/** Per-queue counters: what was stored in it and what left it. */
export class QueueStats {
  published = 0;
  publishedBytes = 0;
  /** Deliveries and basic.get answers, redeliveries included. */
  delivered = 0;
  deliveredBytes = 0;
  /** Of `delivered`: to consumers without acknowledgement, by basic.get with and without it. */
  deliveredNoAck = 0;
  got = 0;
  gotNoAck = 0;
  getEmpty = 0;
  redelivered = 0;
  acked = 0;
}

/** Lifecycle counters of the AMQP server (RabbitMQ's `*_opened_total`, `queues_declared_total`, ...). */
export class AmqpCounters {
  connectionsOpened = 0;
  channelsOpened = 0;
  queuesDeclared = 0;
  queuesCreated = 0;
  queuesDeleted = 0;
  /** The message counters of channels that have closed. */
  readonly retired = new ChannelStats();
}
