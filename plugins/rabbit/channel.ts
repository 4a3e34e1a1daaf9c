import { randomBytes } from 'node:crypto';
import { BrokerError, IntTable } from '../../core/index.ts';
import { AmqpError, amqpError, ReplyCode } from './amqp-error.ts';
import { ChannelStats } from './amqp-stats.ts';
import type { Permission, TopicPermissions } from './auth.ts';
import type { AmqpConnection } from './connection.ts';
import {
  contentFrames,
  encodePropertiesBytes,
  FrameType,
  isBasicPublish,
  parseMethod,
  PropertiesDecoder,
  PublishDecoder,
  type AmqpMethod,
  type BasicProperties,
  type DecodedPublish,
  type MethodArgs,
  writeDeliver,
} from './codec/index.ts';
import { ContentAssembler } from './content-assembler.ts';
import { PublisherConfirms } from './publisher-confirms.ts';
import { storedMessageOf } from './model/published-properties.ts';
import { DirectReplyTo, REPLY_TO_QUEUE, type ReplyConsumer } from './model/direct-reply-to.ts';
import { withDeliveryCount } from './model/delivery-count.ts';
import { checkConsumerArguments, consumerPriority, streamOffsetOf } from './model/queue-arguments.ts';
import { StreamQueue } from './model/stream-queue.ts';
import { streamFilterOf } from './model/stream-filter.ts';
import type { AmqpQueue, Delivery, QueueConsumer } from './model/queue.ts';
import { decodeMessageKey, STORED_ROUTING_AT, storedPropertiesAt, type StoredMessage } from './model/stored-message.ts';
import type { Vhost } from './model/vhost.ts';

type PublishArgs = DecodedPublish['args'];

/** What a quorum queue makes of prefetch 0 (no limit): 2000 unacked messages, as RabbitMQ 3.10 gives Ra. */
const QUORUM_UNLIMITED_PREFETCH = 2000;

interface Unacked {
  delivery: Delivery;
  consumer: Consumer | undefined;
}


/** One consumer on one channel: its prefetch window and how it writes deliveries. */
class Consumer implements QueueConsumer {
  unacked = 0;
  /** The tag as basic.deliver writes it, encoded once. */
  readonly tagBytes: Buffer;

  constructor(
    readonly tag: string,
    readonly queue: AmqpQueue,
    readonly noAck: boolean,
    readonly exclusive: boolean,
    readonly prefetch: number,
    readonly priority: number,
    private readonly channel: AmqpChannel,
  ) {
    this.tagBytes = Buffer.from(tag, 'utf8');
  }

  ready(): boolean {
    return (this.noAck || this.prefetch === 0 || this.unacked < this.prefetch) && this.channel.canDeliver(this.noAck);
  }

  deliver(delivery: Delivery): void {
    this.channel.deliver(this, delivery);
  }

  cancelled(): void {
    this.channel.serverCancel(this);
  }
}

/** The channel's consumer of direct replies (amq.rabbitmq.reply-to): no queue, no acks. */
interface ReplyConsumerState {
  tag: string;
  tagBytes: Buffer;
  /** The name requests carry as reply_to, `amq.rabbitmq.reply-to.<channel>.<key>`. */
  name: string;
}

/**
 * One AMQP channel: content assembly, exchange/queue/basic/confirm/tx methods, consumers with their
 * prefetch, delivery tags, acks, publisher confirms (coalesced with multiple=true) and transactions.
 */
export class AmqpChannel implements ReplyConsumer {
  readonly stats = new ChannelStats();
  private replyConsumer: ReplyConsumerState | undefined;
  private readonly content: ContentAssembler;
  private readonly publishes = new PublishDecoder();
  private readonly propertiesDecoder = new PropertiesDecoder();
  /** The exchange last found writable for this user (permissions are fixed for a connection's life). */
  private writableExchange: string | undefined;
  /** The user's topic permissions on `writableExchange`, if it has any there. */
  private writableTopics: TopicPermissions | undefined;
  private closing = false;
  private lastQueue: string | undefined;
  private readonly consumers = new Map<string, Consumer>();
  private readonly unacked = new IntTable<Unacked>();
  private nextDeliveryTag = 1;
  private prefetch = 0;
  private globalPrefetch = 0;
  /** Set by confirm.select. */
  private confirms: PublisherConfirms | undefined;
  private transactional = false;
  private txActions: Array<() => Promise<unknown> | void> = [];

  constructor(
    readonly id: number,
    private readonly connection: AmqpConnection,
    private readonly vhost: Vhost,
  ) {
    this.content = new ContentAssembler(connection.settings.maxMessageBytes);
  }

  /** The channel's consumers, for the management API. */
  get consumerList(): Iterable<Consumer> {
    return this.consumers.values();
  }

  get prefetchCount(): number {
    return this.prefetch;
  }

  get globalPrefetchCount(): number {
    return this.globalPrefetch;
  }

  get unackedCount(): number {
    return this.unacked.size;
  }

  get confirmMode(): boolean {
    return this.confirms !== undefined;
  }

  get isTransactional(): boolean {
    return this.transactional;
  }

  get uncommittedCount(): number {
    return this.txActions.length;
  }

  get vhostName(): string {
    return this.vhost.name;
  }

  /** Frames that arrived while a method was waiting on storage; they run, in order, once it is done. */
  private backlog: Array<{ type: number; payload: Buffer }> | undefined;

  onFrame(type: number, payload: Buffer): void {
    if (this.backlog) {
      this.backlog.push({ type, payload });
      return;
    }
    if (this.closing) {
      if (type === FrameType.method) {
        const method = parseMethod(payload);
        if (method.name === 'channel.close-ok') this.finishClose();
        else if (method.name === 'channel.close') {
          this.connection.sendMethod(this.id, 'channel.close-ok', {});
          this.finishClose();
        }
      }
      return;
    }
    try {
      if (this.content.active) {
        if (this.content.accept(type, payload)) this.publishContent();
      } else if (type !== FrameType.method) throw amqpError.unexpectedFrame('expected method frame, got non method frame instead');
      else if (isBasicPublish(payload)) this.startPublish(payload);
      else this.onMethod(parseMethod(payload));
    } catch (err) {
      this.fail(err);
    }
  }

  /** The storage-bound work under way (and the backlog behind it), while `backlog` is set. */
  private pending: Promise<void> = Promise.resolve();

  /** Runs storage-bound work; frames arriving meanwhile wait, so the channel's methods stay in order. */
  private runAsync(work: () => Promise<void>): void {
    this.backlog = [];
    this.pending = work().then(
      () => this.drainBacklog(),
      (err: unknown) => {
        // Not a protocol error (storage failed, say): the client would wait for a reply forever.
        this.connection.logger.error({ err }, 'channel work failed');
        this.closing = true;
        this.backlog = undefined;
        this.connection.closeWith(new AmqpError(ReplyCode.internalError, 'INTERNAL_ERROR'));
      },
    );
  }

  /** Resolves once every method received so far has been answered (connection.close waits for this). */
  async settled(): Promise<void> {
    while (this.backlog !== undefined) await this.pending.catch(() => undefined);
  }

  private drainBacklog(): void {
    const frames = this.backlog ?? [];
    this.backlog = undefined;
    for (let i = 0; i < frames.length; i++) {
      this.onFrame(frames[i]!.type, frames[i]!.payload);
      const waiting = this.backlog as typeof frames | undefined;
      if (waiting) {
        waiting.push(...frames.slice(i + 1));
        return;
      }
    }
  }

  /** A channel error: channel.close, then ignore everything until close-ok. Hard errors go to the connection. */
  fail(err: unknown, method?: AmqpMethod['name']): void {
    if (!(err instanceof AmqpError)) throw err;
    const error = method ? err.during(method) : err;
    if (error.closesConnection) {
      this.connection.closeWith(error);
      return;
    }
    this.connection.sendMethod(this.id, 'channel.close', { replyCode: error.code, replyText: error.replyText, classId: error.classId, methodId: error.methodId });
    this.closing = true;
    this.release();
  }

  /** Consumers go, unacked messages are requeued as redelivered. */
  release(): void {
    this.cancelReplyConsumer();
    for (const consumer of this.consumers.values()) consumer.queue.removeConsumer(consumer.tag);
    this.consumers.clear();
    this.requeueUnacked();
    this.content.reset();
    this.txActions = [];
  }

  /** The socket drained: consumers may go on. */
  resume(): void {
    for (const consumer of this.consumers.values()) consumer.queue.pump();
  }

  canDeliver(noAck: boolean): boolean {
    if (this.closing || this.connection.congested) return false;
    return noAck || this.globalPrefetch === 0 || this.unacked.size < this.globalPrefetch;
  }

  deliver(consumer: Consumer, delivery: Delivery): void {
    const tag = this.nextDeliveryTag++;
    if (!consumer.noAck) {
      this.unacked.set(tag, { delivery, consumer });
      consumer.unacked++;
    }
    const { key, value } = delivery.message;
    const attempts = delivery.queue.deliveryCount(delivery.message);
    const stats = delivery.queue.stats;
    stats.delivered++;
    stats.deliveredBytes += value?.length ?? 0;
    if (consumer.noAck) {
      this.stats.deliverNoAck++;
      stats.deliveredNoAck++;
    } else this.stats.deliver++;
    if (attempts > 0) {
      this.stats.redeliver++;
      stats.redelivered++;
    }
    // A quorum queue tells a redelivery's count in a header.
    const stored = attempts > 0 && delivery.queue.args.type === 'quorum' ? withDeliveryCount(key!, attempts) : key!;
    writeDeliver(this.connection.outbound, this.id, consumer.tagBytes, tag, attempts > 0, stored, STORED_ROUTING_AT, storedPropertiesAt(stored), value ?? EMPTY, this.connection.frameMax);
  }

  /** Direct reply-to: a reply to this channel's reply consumer, with the channel's next delivery tag left unused, as RabbitMQ. */
  deliverReply(routingKey: string, message: StoredMessage, body: Buffer): void {
    const reply = this.replyConsumer;
    if (!reply || this.closing) return;
    const args = { consumerTag: reply.tag, deliveryTag: this.nextDeliveryTag, redelivered: false, exchange: '', routingKey };
    this.connection.send(contentFrames(this.id, 'basic.deliver', args, message.properties, body, this.connection.frameMax));
  }

  private cancelReplyConsumer(): void {
    if (!this.replyConsumer) return;
    this.vhost.replyTo.unregister(this.replyConsumer.name);
    this.replyConsumer = undefined;
  }

  serverCancel(consumer: Consumer): void {
    this.consumers.delete(consumer.tag);
    if (this.connection.capability('consumer_cancel_notify')) this.connection.sendMethod(this.id, 'basic.cancel', { consumerTag: consumer.tag, nowait: true });
  }

  private startPublish(payload: Buffer): void {
    const publish = this.publishes.decode(payload);
    if (publish.args.immediate) throw amqpError.notImplemented('immediate=true').during('basic.publish');
    this.content.start(publish);
    this.connection.publishing();
  }

  private publishContent(): void {
    const { publish, properties } = this.content;
    const body = this.content.body();
    this.content.reset();
    this.publish(publish!, properties!, body);
  }

  private onMethod(method: AmqpMethod): void {
    try {
      this.dispatch(method);
    } catch (err) {
      this.fail(err, method.name);
    }
  }

  private dispatch(method: AmqpMethod): void {
    switch (method.name) {
      case 'channel.close':
        this.connection.sendMethod(this.id, 'channel.close-ok', {});
        this.release();
        this.finishClose();
        return;
      case 'channel.close-ok':
        return;
      case 'channel.flow':
        if (!method.args.active) throw amqpError.notImplemented('active=false');
        this.connection.sendMethod(this.id, 'channel.flow-ok', { active: true });
        return;
      case 'channel.open':
        throw amqpError.channelError("second 'channel.open' seen");
      case 'basic.ack':
        return this.txOrNow(() => this.settle(method.args.deliveryTag, method.args.multiple, 'ack', false));
      case 'basic.nack':
        return this.txOrNow(() => this.settle(method.args.deliveryTag, method.args.multiple, 'reject', method.args.requeue));
      case 'basic.reject':
        return this.txOrNow(() => this.settle(method.args.deliveryTag, false, 'reject', method.args.requeue));
      case 'basic.qos':
        if (method.args.prefetchSize !== 0) throw amqpError.notImplemented(`prefetch_size!=0 (${method.args.prefetchSize})`);
        if (method.args.global) this.globalPrefetch = method.args.prefetchCount;
        else this.prefetch = method.args.prefetchCount;
        this.connection.sendMethod(this.id, 'basic.qos-ok', {});
        this.resume();
        return;
      case 'basic.consume':
        return this.consume(method.args);
      case 'basic.cancel': {
        if (this.replyConsumer?.tag === method.args.consumerTag) this.cancelReplyConsumer();
        const consumer = this.consumers.get(method.args.consumerTag);
        if (consumer) {
          this.consumers.delete(consumer.tag);
          consumer.queue.removeConsumer(consumer.tag);
        }
        if (!method.args.nowait) this.connection.sendMethod(this.id, 'basic.cancel-ok', { consumerTag: method.args.consumerTag });
        return;
      }
      case 'basic.get':
        return this.get(method.args);
      case 'basic.recover':
      case 'basic.recover-async':
        if (!method.args.requeue) throw amqpError.notImplemented('requeue=false');
        this.requeueUnacked();
        if (method.name === 'basic.recover') this.connection.sendMethod(this.id, 'basic.recover-ok', {});
        return;
      case 'confirm.select':
        if (this.transactional) throw amqpError.precondition('cannot switch from tx to confirm mode');
        this.confirms ??= new PublisherConfirms(this.sendConfirm, () => this.closing);
        if (!method.args.nowait) this.connection.sendMethod(this.id, 'confirm.select-ok', {});
        return;
      case 'tx.select':
        if (this.confirms) throw amqpError.precondition('cannot switch from confirm to tx mode');
        this.transactional = true;
        this.connection.sendMethod(this.id, 'tx.select-ok', {});
        return;
      case 'tx.commit':
        return this.commit();
      case 'tx.rollback':
        if (!this.transactional) throw amqpError.precondition('channel is not transactional');
        this.txActions = [];
        this.connection.sendMethod(this.id, 'tx.rollback-ok', {});
        return;
      default:
        return this.asyncMethod(method);
    }
  }

  /** Methods that wait on storage: declare, delete, bind, purge. */
  private asyncMethod(method: AmqpMethod): void {
    const started = performance.now();
    this.runAsync(async () => {
      try {
        await this.declarative(method);
      } catch (err) {
        // A definition that cannot be stored on a full disk is refused on its channel, as RabbitMQ refuses a
        // declare past a resource limit (406); the connection and its other channels go on.
        this.fail(BrokerError.is(err, 'STORAGE_FULL') ? amqpError.precondition(err.message) : err, method.name);
      }
      this.connection.latencyOf(method.name).observeSince(started);
    });
  }

  private async declarative(method: AmqpMethod): Promise<void> {
    const vhost = this.vhost;
    const conn = this.connection.id;
    switch (method.name) {
      case 'exchange.declare': {
        const a = method.args;
        if (!a.passive) this.check('configure', 'exchange', a.exchange);
        await vhost.declareExchange({ name: a.exchange, type: a.type, passive: a.passive, durable: a.durable, autoDelete: a.autoDelete, internal: a.internal, arguments: a.arguments });
        if (!a.nowait) this.connection.sendMethod(this.id, 'exchange.declare-ok', {});
        return;
      }
      case 'exchange.delete': {
        this.check('configure', 'exchange', method.args.exchange);
        await vhost.deleteExchange(method.args.exchange, method.args.ifUnused);
        if (!method.args.nowait) this.connection.sendMethod(this.id, 'exchange.delete-ok', {});
        return;
      }
      case 'exchange.bind':
      case 'exchange.unbind': {
        const a = method.args;
        this.check('write', 'exchange', a.destination);
        this.check('read', 'exchange', a.source);
        this.checkTopic('read', a.source, a.routingKey);
        if (method.name === 'exchange.bind') {
          vhost.exchange(a.destination);
          await vhost.bind(a.source, { kind: 'exchange', name: a.destination }, a.routingKey, a.arguments);
        } else await vhost.unbind(a.source, { kind: 'exchange', name: a.destination }, a.routingKey, a.arguments);
        if (!a.nowait) this.connection.sendMethod(this.id, method.name === 'exchange.bind' ? 'exchange.bind-ok' : 'exchange.unbind-ok', {});
        return;
      }
      case 'queue.declare': {
        const a = method.args;
        if (a.queue.startsWith(REPLY_TO_QUEUE)) return this.declareReplyTo(a);
        if (!a.passive && a.queue !== '') this.check('configure', 'queue', a.queue);
        const queue = await vhost.declareQueue({ name: a.queue, passive: a.passive, durable: a.durable, exclusive: a.exclusive, autoDelete: a.autoDelete, arguments: a.arguments }, conn);
        this.lastQueue = queue.name;
        if (!a.nowait) this.connection.sendMethod(this.id, 'queue.declare-ok', { queue: queue.name, messageCount: queue.messageCount, consumerCount: queue.consumerCount });
        return;
      }
      case 'queue.bind':
      case 'queue.unbind': {
        const a = method.args;
        const name = this.queueName(a.queue);
        this.check('write', 'queue', name);
        this.check('read', 'exchange', a.exchange);
        this.checkTopic('read', a.exchange, a.routingKey);
        // Unbinding a queue that does not exist is a no-op, as in RabbitMQ; an exclusive one of another connection is 405.
        if (method.name === 'queue.bind' || vhost.queues.has(name)) vhost.queue(name, conn);
        if (method.name === 'queue.bind') {
          vhost.exchange(a.exchange);
          await vhost.bind(a.exchange, { kind: 'queue', name }, a.routingKey, a.arguments);
          if (!method.args.nowait) this.connection.sendMethod(this.id, 'queue.bind-ok', {});
        } else {
          await vhost.unbind(a.exchange, { kind: 'queue', name }, a.routingKey, a.arguments);
          this.connection.sendMethod(this.id, 'queue.unbind-ok', {});
        }
        return;
      }
      case 'queue.purge': {
        const name = this.queueName(method.args.queue);
        this.check('read', 'queue', name);
        const messageCount = vhost.purgeQueue(vhost.queue(name, conn));
        if (!method.args.nowait) this.connection.sendMethod(this.id, 'queue.purge-ok', { messageCount });
        return;
      }
      case 'queue.delete': {
        const name = this.queueName(method.args.queue);
        this.check('configure', 'queue', name);
        const messageCount = await vhost.deleteQueue(name, method.args.ifUnused, method.args.ifEmpty, conn);
        if (!method.args.nowait) this.connection.sendMethod(this.id, 'queue.delete-ok', { messageCount });
        return;
      }
      default:
        throw amqpError.commandInvalid(`unexpected method ${method.name}`);
    }
  }

  /** basic.consume on amq.rabbitmq.reply-to: one no-ack reply consumer per channel, RabbitMQ's 406 texts otherwise. */
  private consumeReplies(a: MethodArgs['basic.consume']): void {
    if (this.consumers.has(a.consumerTag)) throw amqpError.notAllowed(`attempt to reuse consumer tag '${a.consumerTag}'`);
    if (!a.noAck) throw amqpError.precondition('reply consumer cannot acknowledge');
    if (this.replyConsumer) throw amqpError.precondition('reply consumer already set');
    const tag = a.consumerTag === '' ? `amq.ctag-${randomBytes(16).toString('base64url')}` : a.consumerTag;
    this.replyConsumer = { tag, tagBytes: Buffer.from(tag, 'utf8'), name: this.vhost.replyTo.register(this) };
    if (!a.nowait) this.connection.sendMethod(this.id, 'basic.consume-ok', { consumerTag: tag });
  }

  /** Every declare of the pseudo-queue is passive: it exists (with one consumer) while its reply consumer does. */
  private declareReplyTo(a: MethodArgs['queue.declare']): void {
    const name = a.queue.replace(/[\r\n]/g, '');
    if (name !== REPLY_TO_QUEUE && !(DirectReplyTo.isReplyName(name) && this.vhost.replyTo.find(name))) throw amqpError.notFoundQueue(name, this.vhost.name);
    if (!a.nowait) this.connection.sendMethod(this.id, 'queue.declare-ok', { queue: name, messageCount: 0, consumerCount: 1 });
  }

  private consume(a: MethodArgs['basic.consume']): void {
    if (a.queue === REPLY_TO_QUEUE) return this.consumeReplies(a);
    const name = this.queueName(a.queue);
    this.check('read', 'queue', name);
    const queue = this.vhost.queue(name, this.connection.id);
    if (queue.failed) throw amqpError.crashed(name, this.vhost.name);
    const tag = a.consumerTag === '' ? `amq.ctag-${randomBytes(16).toString('base64url')}` : a.consumerTag;
    if (this.consumers.has(tag)) throw amqpError.notAllowed(`attempt to reuse consumer tag '${tag}'`);
    checkConsumerArguments(a.arguments, name, this.vhost.name, queue.args.type);
    const quorum = queue.args.type === 'quorum';
    if (queue instanceof StreamQueue) return this.consumeStream(queue, tag, a);
    // RabbitMQ 3.10.8 enforces exclusive consumers on classic queues only: quorum and stream queues record the flag.
    if (!quorum && (queue.hasExclusiveConsumer || (a.exclusive && queue.consumerCount > 0))) {
      throw amqpError.accessRefused(`queue '${name}' in vhost '${this.vhost.name}' in exclusive use`);
    }
    if (quorum && this.globalPrefetch > 0) throw amqpError.notImplemented(`queue '${name}' in vhost '${this.vhost.name}' does not support global qos`);
    const prefetch = quorum && this.prefetch === 0 ? QUORUM_UNLIMITED_PREFETCH : this.prefetch;
    const consumer = new Consumer(tag, queue, a.noAck, a.exclusive, prefetch, consumerPriority(a.arguments), this);
    this.consumers.set(tag, consumer);
    if (!a.nowait) this.connection.sendMethod(this.id, 'basic.consume-ok', { consumerTag: tag });
    queue.addConsumer(consumer);
  }

  /**
   * A stream consumer, as RabbitMQ 3.10: it needs a prefetch (its credit) and manual acks, no global qos; it
   * reads from its `x-stream-offset` on.
   */
  private consumeStream(queue: StreamQueue, tag: string, a: MethodArgs['basic.consume']): void {
    const where = `queue '${queue.name}' in vhost '${this.vhost.name}'`;
    if (this.prefetch === 0) throw amqpError.precondition(`consumer prefetch count is not set for '${where}'`);
    if (a.noAck) throw amqpError.notImplemented(`automatic acknowledgement not supported by stream queues ${where}`);
    if (this.globalPrefetch > 0) throw amqpError.notImplemented(`${where} does not support global qos`);
    const offset = streamOffsetOf(a.arguments.get('x-stream-offset'), Date.now())!;
    const consumer = new Consumer(tag, queue, false, a.exclusive, this.prefetch, 0, this);
    this.consumers.set(tag, consumer);
    if (!a.nowait) this.connection.sendMethod(this.id, 'basic.consume-ok', { consumerTag: tag });
    queue.addConsumer(consumer, offset, streamFilterOf(a.arguments));
  }

  private get(a: MethodArgs['basic.get']): void {
    const name = this.queueName(a.queue);
    this.check('read', 'queue', name);
    const queue = this.vhost.queue(name, this.connection.id);
    if (queue.failed) throw amqpError.crashed(name, this.vhost.name);
    if (queue instanceof StreamQueue) throw amqpError.notImplemented(`basic.get not supported by stream queues queue '${name}' in vhost '${this.vhost.name}'`);
    const delivery = queue.get(a.noAck);
    if (delivery) return this.sendGetOk(queue, delivery, a.noAck);
    if (queue.messageCount === 0) return this.sendGetEmpty(queue);
    this.runAsync(async () => {
      const read = await queue.getWhenRead(a.noAck);
      if (read) this.sendGetOk(queue, read, a.noAck);
      else if (queue.failed) this.fail(amqpError.crashed(name, this.vhost.name), 'basic.get');
      else this.sendGetEmpty(queue);
    });
  }

  private sendGetEmpty(queue: AmqpQueue): void {
    this.stats.getEmpty++;
    queue.stats.getEmpty++;
    this.connection.sendMethod(this.id, 'basic.get-empty', { clusterId: '' });
  }

  private sendGetOk(queue: AmqpQueue, delivery: Delivery, noAck: boolean): void {
    const tag = this.nextDeliveryTag++;
    if (!noAck) this.unacked.set(tag, { delivery, consumer: undefined });
    const stats = queue.stats;
    stats.delivered++;
    stats.deliveredBytes += delivery.message.value?.length ?? 0;
    if (noAck) {
      this.stats.getNoAck++;
      stats.gotNoAck++;
    } else {
      this.stats.get++;
      stats.got++;
    }
    const attempts = queue.deliveryCount(delivery.message);
    if (attempts > 0) {
      this.stats.redeliver++;
      stats.redelivered++;
    }
    // A quorum queue's basic.get always tells the delivery count, 0 the first time.
    const key = queue.args.type === 'quorum' ? withDeliveryCount(delivery.message.key!, attempts) : delivery.message.key;
    const stored = decodeMessageKey(key);
    const args = { deliveryTag: tag, redelivered: attempts > 0, exchange: stored.exchange, routingKey: stored.routingKey, messageCount: queue.messageCount };
    this.connection.send(contentFrames(this.id, 'basic.get-ok', args, stored.properties, delivery.message.value ?? EMPTY, this.connection.frameMax));
  }

  /** Routes and stores a published message: basic.return if unroutable and mandatory, a confirm when confirming. */
  private route(args: PublishArgs, message: StoredMessage, properties: Readonly<BasicProperties>, body: Buffer, seq: number): Promise<boolean> {
    const result = this.vhost.publish(args.exchange, args.routingKey, message, properties, body);
    if (result.routed > 0) this.stats.routed++;
    else if (args.mandatory) this.stats.returnUnroutable++;
    else this.stats.dropUnroutable++;
    if (result.routed === 0 && args.mandatory) {
      const returned = { replyCode: 312, replyText: 'NO_ROUTE', exchange: args.exchange, routingKey: args.routingKey };
      this.connection.send(contentFrames(this.id, 'basic.return', returned, message.properties, body, this.connection.frameMax));
    }
    if (this.confirms) this.confirms.track(seq, result.stored);
    else if (result.stored !== this.watchedStore) {
      this.watchedStore = result.stored;
      result.stored.catch(this.storeFailed);
    }
    return result.stored;
  }

  private readonly sendConfirm = (method: 'basic.ack' | 'basic.nack', deliveryTag: number, multiple: boolean, count: number): void => {
    if (method === 'basic.ack') {
      this.stats.confirm += count;
      this.connection.sendMethod(this.id, 'basic.ack', { deliveryTag, multiple });
    }
    else this.connection.sendMethod(this.id, 'basic.nack', { deliveryTag, multiple, requeue: false });
  };

  /** Unconfirmed publishes share their batch's promise: a failure is logged once per batch. */
  private watchedStore: Promise<boolean> | undefined;
  private readonly storeFailed = (err: unknown): void => this.connection.logger.error({ err }, 'a published message could not be stored');

  private publish({ args, routing }: DecodedPublish, propertyBytes: Buffer, body: Buffer): void {
    const seq = this.confirms ? this.confirms.next() : 0;
    this.stats.publish++;
    if (this.confirms) this.stats.publishConfirm++;
    try {
      if (args.exchange !== this.writableExchange) {
        this.check('write', 'exchange', args.exchange);
        this.writableExchange = args.exchange;
        this.writableTopics = this.connection.access.topicPermissions(this.vhost.name, args.exchange);
      }
      if (this.writableTopics) this.checkTopic('write', args.exchange, args.routingKey, this.writableTopics);
      let properties = this.propertiesDecoder.decode(propertyBytes);
      if (properties.replyTo === REPLY_TO_QUEUE) ({ properties, propertyBytes } = this.replyToRewritten(args.exchange, properties));
      if (properties.userId !== undefined && properties.userId !== this.connection.user) {
        throw amqpError.precondition(`user_id property set to '${properties.userId}' but authenticated user was '${this.connection.user}'`);
      }
      const message = storedMessageOf(args.exchange, args.routingKey, routing, properties, propertyBytes);
      if (this.transactional) this.txActions.push(() => this.route(args, message, properties, body, seq));
      else this.route(args, message, properties, body, seq);
    } catch (err) {
      this.confirms?.track(seq, Promise.resolve(false));
      throw err instanceof AmqpError ? err.during('basic.publish') : err;
    }
  }

  /** A request naming amq.rabbitmq.reply-to as reply_to gets this channel's reply name instead; it needs a reply consumer. */
  private replyToRewritten(exchange: string, properties: Readonly<BasicProperties>): { properties: BasicProperties; propertyBytes: Buffer } {
    this.vhost.exchange(exchange);
    if (!this.replyConsumer) throw amqpError.precondition('fast reply consumer does not exist');
    const rewritten = { ...properties, replyTo: this.replyConsumer.name };
    return { properties: rewritten, propertyBytes: encodePropertiesBytes(rewritten) };
  }

  private settle(deliveryTag: number, multiple: boolean, kind: 'ack' | 'reject', requeue: boolean): void {
    if (!multiple) {
      const entry = this.unacked.get(deliveryTag);
      if (!entry) throw amqpError.precondition(`unknown delivery tag ${deliveryTag}`);
      this.settleOne(deliveryTag, entry, kind, requeue);
    } else {
      // Up to and including a tag that must be unacked (0: everything), or nothing at all.
      if (deliveryTag !== 0 && !this.unacked.has(deliveryTag)) throw amqpError.precondition(`unknown delivery tag ${deliveryTag}`);
      for (const tag of this.unacked.sortedKeys()) {
        if (deliveryTag !== 0 && tag > deliveryTag) break;
        this.settleOne(tag, this.unacked.get(tag)!, kind, requeue);
      }
    }
    this.resumeSoon();
  }

  private settleOne(tag: number, { delivery, consumer }: Unacked, kind: 'ack' | 'reject', requeue: boolean): void {
    if (kind === 'reject' && delivery.queue instanceof StreamQueue) {
      throw amqpError.notImplemented(`basic.nack and basic.reject not supported by stream queues queue '${delivery.queue.name}' in vhost '${this.vhost.name}'`);
    }
    this.unacked.delete(tag);
    if (consumer) consumer.unacked--;
    const { queue } = delivery;
    if (kind === 'ack') {
      queue.ack(delivery);
      queue.stats.acked++;
      this.stats.ack++;
    }
    else if (requeue) queue.requeue(delivery);
    else queue.reject(delivery);
  }

  private resumeScheduled = false;

  /** Consumers may take more once the acks of this turn are all in: one pump per turn, not one per ack. */
  private resumeSoon(): void {
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    process.nextTick(() => {
      this.resumeScheduled = false;
      this.resume();
    });
  }

  private requeueUnacked(): void {
    const byQueue = new Map<AmqpQueue, Delivery[]>();
    this.unacked.forEach(({ delivery, consumer }) => {
      const deliveries = byQueue.get(delivery.queue);
      if (deliveries) deliveries.push(delivery);
      else byQueue.set(delivery.queue, [delivery]);
      if (consumer) consumer.unacked--;
    });
    this.unacked.clear();
    for (const [queue, deliveries] of byQueue) queue.requeueAll(deliveries);
  }

  private txOrNow(action: () => void): void {
    if (this.transactional) this.txActions.push(action);
    else action();
  }

  private commit(): void {
    if (!this.transactional) throw amqpError.precondition('channel is not transactional');
    const actions = this.txActions;
    this.txActions = [];
    this.runAsync(async () => {
      try {
        await Promise.all(actions.map((action) => action()));
        if (!this.closing) this.connection.sendMethod(this.id, 'tx.commit-ok', {});
      } catch (err) {
        this.fail(err, 'tx.commit');
      }
    });
  }

  private queueName(name: string): string {
    if (name !== '') return name;
    if (this.lastQueue === undefined) throw new AmqpError(ReplyCode.notFound, 'no previously declared queue');
    return this.lastQueue;
  }

  private check(permission: Permission, kind: 'exchange' | 'queue', name: string): void {
    const resource = kind === 'exchange' && name === '' ? 'amq.default' : name;
    if (!this.connection.access.allows(this.vhost.name, permission, kind, resource)) {
      throw amqpError.accessRefused(`access to ${kind} '${resource}' in vhost '${this.vhost.name}' refused for user '${this.connection.user}'`);
    }
  }

  /** RabbitMQ's topic permissions: on a topic exchange, the routing key (publish) or binding key (bind) must match the user's pattern (3.10's texts name no permission). */
  private checkTopic(permission: 'write' | 'read', exchangeName: string, routingKey: string, permissions = this.connection.access.topicPermissions(this.vhost.name, exchangeName)): void {
    if (!permissions || this.vhost.exchanges.get(exchangeName)?.spec.type !== 'topic' || permissions.allows(permission, routingKey)) return;
    throw amqpError.accessRefused(
      `access to topic '${routingKey}' in exchange '${exchangeName}' in vhost '${this.vhost.name}' refused for user '${this.connection.user}'`,
    );
  }

  private finishClose(): void {
    this.closing = true;
    this.connection.channelClosed(this.id);
  }
}

const EMPTY = Buffer.alloc(0);
