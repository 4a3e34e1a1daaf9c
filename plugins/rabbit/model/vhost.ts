import { randomBytes } from 'node:crypto';
import { AckQueue, BatchingAppender, BrokerError, STREAM_ATTRIBUTE, streamOfTopic, streamTopic, streamTopicConfig, type AckStateStore, type Clock, type Logger, type QueuedMessage, type StreamAttributes, type TopicDescriptor, type TopicRegistry } from '../../../core/index.ts';
import { amqpError } from '../amqp-error.ts';
import type { AmqpCounters } from '../amqp-stats.ts';
import { fieldText, type BasicProperties, type FieldTable, type FieldValue } from '../codec/index.ts';
import { deadLetter, isDeadLetterCycle, textArray } from './dead-letter.ts';
import { DeadLetterWorker, type DeadLetterRouting } from './dead-letter-worker.ts';
import { DirectReplyTo } from './direct-reply-to.ts';
import { decodeArguments, Definitions, encodeArguments, type StoredBinding } from './definitions.ts';
import { Exchange, EXCHANGE_TYPES, type Binding, type Destination, type ExchangeSpec, type ExchangeType } from './exchange.ts';
import { equivalentArguments, printTerm, printValue, typeName } from './field-terms.ts';
import { parseMaxAge } from '../../../core/index.ts';
import { checkQueueArguments, checkServerNamed, parseQueueArguments, queueTypeArguments, type QueueArguments } from './queue-arguments.ts';
import { StreamQueue } from './stream-queue.ts';
import { AmqpQueue, type DeadLetterReason, type QueueHooks, type QueueSpec } from './queue.ts';
import { storedPersistent, type StoredMessage } from './stored-message.ts';

/** An unroutable publish: nothing to store, trivially confirmed. */
const NOT_ROUTED: PublishResult = { routed: 0, stored: Promise.resolve(true) };

export interface VhostServices {
  topics: TopicRegistry;
  ackStore: AckStateStore;
  definitions: Definitions;
  clock: Clock;
  logger: Logger;
  segmentBytes: number;
  counters: AmqpCounters;
  /** The reply consumers of every vhost's channels (a reply goes to its channel whatever the vhost, as in RabbitMQ). */
  replyTo: DirectReplyTo;
  /** How long at-least-once dead-lettering waits for target queues before it publishes again (RabbitMQ's dead_letter_worker_publisher_confirm_timeout). */
  deadLetterSettleTimeoutMs: number;
}

export interface QueueDeclaration {
  name: string;
  passive: boolean;
  durable: boolean;
  exclusive: boolean;
  autoDelete: boolean;
  arguments: FieldTable;
}

export interface ExchangeDeclaration {
  name: string;
  type: string;
  passive: boolean;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

export interface PublishResult {
  /** How many queues the message reached. */
  routed: number;
  /** Resolves true once every queue stored it; false if any refused it (reject-publish). */
  stored: Promise<boolean>;
}

const PREDECLARED: ReadonlyArray<[string, ExchangeType, boolean]> = [
  ['', 'direct', false],
  ['amq.direct', 'direct', false],
  ['amq.fanout', 'fanout', false],
  ['amq.topic', 'topic', false],
  ['amq.headers', 'headers', false],
  ['amq.match', 'headers', false],
  ['amq.rabbitmq.trace', 'topic', true],
];

/** A virtual host: its exchanges, queues and bindings, routing, dead-lettering and durability. */
export class Vhost implements QueueHooks {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, AmqpQueue>();
  private readonly creating = new Map<string, Promise<AmqpQueue>>();
  /** Queues whose logs are being deleted: a queue of the same name waits for that before it is created. */
  private readonly removing = new Map<string, Promise<void>>();
  /** Called when a queue goes away, so channels can cancel its consumers. */
  onQueueDeleted: (queue: AmqpQueue) => void = () => undefined;
  private unwatchStreams: (() => void) | undefined;
  /** Definitions, exchanges and bindings are restored: dead-letter workers may start. */
  private opened = false;

  constructor(
    readonly name: string,
    private readonly services: VhostServices,
  ) {}

  async open(): Promise<void> {
    for (const [name, type, internal] of PREDECLARED) {
      this.exchanges.set(name, new Exchange({ name, type, durable: true, autoDelete: false, internal, arguments: new Map() }));
    }
    const { definitions } = this.services;
    for (const spec of definitions.exchanges(this.name)) if (!this.exchanges.has(spec.name)) this.exchanges.set(spec.name, new Exchange(spec));
    for (const q of definitions.queues(this.name)) {
      await this.createQueue({ name: q.name, durable: true, exclusiveOwner: null, autoDelete: q.autoDelete, arguments: q.arguments });
    }
    for (const b of definitions.bindings(this.name)) {
      const source = this.exchanges.get(b.source);
      if (source) source.bind(binding({ kind: b.destinationKind, name: b.destination }, b.routingKey, decodeArguments(Buffer.from(b.arguments))));
    }
    this.opened = true;
    for (const queue of this.queues.values()) queue.startDeadLettering();
    for (const topic of this.services.topics.list()) if (!this.queues.has(this.streamNameOf(topic) ?? '')) this.attachStream(topic);
    this.unwatchStreams = this.services.topics.onChange((event) => {
      if (event.type === 'created') this.attachStream(event.topic);
      else if (event.type === 'deleted') this.detachStream(event.topic);
    });
    const live = new Set([...this.queues.values()].flatMap((q) => queueTopics(this.name, q.name, q.args)));
    for (const topic of this.services.topics.list({ includeInternal: true })) {
      if (topic.name.startsWith(topicPrefix(this.name)) && !live.has(topic.name)) await this.services.topics.delete(topic.name);
    }
  }

  async close(): Promise<void> {
    this.unwatchStreams?.();
    for (const queue of [...this.queues.values()]) if (!queue.spec.durable) await this.removeQueue(queue);
  }

  /** Direct reply-to's consumers, shared by all vhosts. */
  get replyTo(): DirectReplyTo {
    return this.services.replyTo;
  }

  exchange(name: string): Exchange {
    const exchange = this.exchanges.get(name);
    if (!exchange) throw amqpError.notFoundExchange(name, this.name);
    return exchange;
  }

  queue(name: string, connection: number): AmqpQueue {
    const queue = this.queues.get(name);
    if (!queue) throw amqpError.notFoundQueue(name, this.name);
    if (queue.spec.exclusiveOwner !== null && queue.spec.exclusiveOwner !== connection) throw amqpError.locked(name, this.name);
    return queue;
  }

  /** queue.purge: the ready messages it dropped. A stream cannot be purged (RabbitMQ: 540 NOT_IMPLEMENTED). */
  purgeQueue(queue: AmqpQueue): number {
    if (queue instanceof StreamQueue) throw amqpError.notImplemented(`queue.purge not supported by stream queues queue '${queue.name}' in vhost '${this.name}'`);
    return queue.purge();
  }

  async declareExchange(d: ExchangeDeclaration): Promise<Exchange> {
    const existing = this.exchanges.get(d.name);
    const defaultExchange = () => amqpError.accessRefused('operation not permitted on the default exchange');
    if (d.passive) {
      if (d.name === '') throw defaultExchange();
      if (!existing) throw amqpError.notFoundExchange(d.name, this.name);
      return existing;
    }
    if (!EXCHANGE_TYPES.includes(d.type)) throw amqpError.commandInvalid(`unknown exchange type '${d.type}'`);
    if (d.name === '') throw defaultExchange();
    if (existing) {
      const where = `exchange '${d.name}' in vhost '${this.name}'`;
      const differs = (arg: string, received: unknown, current: unknown) => inequivalent(arg, `'${received}'`, `'${current}'`, where);
      if (existing.spec.type !== d.type) throw differs('type', d.type, existing.spec.type);
      if (existing.spec.durable !== d.durable) throw differs('durable', d.durable, existing.spec.durable);
      if (existing.spec.autoDelete !== d.autoDelete) throw differs('auto_delete', d.autoDelete, existing.spec.autoDelete);
      if (existing.spec.internal !== d.internal) throw differs('internal', d.internal, existing.spec.internal);
      assertArgumentsEquivalent(existing.spec.arguments, d.arguments, ['alternate-exchange'], where);
      return existing;
    }
    if (d.name.startsWith('amq.')) throw amqpError.accessRefused(`exchange name '${d.name}' contains reserved prefix 'amq.*'`);
    const alternate = d.arguments.get('alternate-exchange');
    if (alternate !== undefined && alternate.type !== 'S') {
      throw amqpError.precondition(`invalid type '${typeName(alternate)}' for arg 'alternate-exchange' in exchange '${d.name}' in vhost '${this.name}'`);
    }
    const spec: ExchangeSpec = { name: d.name, type: d.type as ExchangeType, durable: d.durable, autoDelete: d.autoDelete, internal: d.internal, arguments: d.arguments };
    const exchange = new Exchange(spec);
    this.exchanges.set(d.name, exchange);
    if (d.durable) {
      await this.services.definitions.putExchange(this.name, spec).catch((err: unknown) => {
        if (this.exchanges.get(d.name) === exchange) this.exchanges.delete(d.name);
        throw err;
      });
    }
    return exchange;
  }

  async deleteExchange(name: string, ifUnused: boolean): Promise<void> {
    if (name === '') throw amqpError.accessRefused('operation not permitted on the default exchange');
    if (name.startsWith('amq.')) throw amqpError.accessRefused(`deletion of system exchange '${name}' in vhost '${this.name}' not allowed`);
    const exchange = this.exchanges.get(name);
    if (!exchange) return;
    const inbound = [...this.exchanges.values()].some((e) => [...e.allBindings()].some((b) => b.destination.kind === 'exchange' && b.destination.name === name));
    if (ifUnused && (exchange.bindingCount > 0 || inbound)) throw amqpError.precondition(`exchange '${name}' in vhost '${this.name}' in use`);
    this.exchanges.delete(name);
    for (const b of [...exchange.allBindings()]) await this.forgetBinding(exchange, b);
    for (const e of this.exchanges.values()) for (const b of e.unbindDestination({ kind: 'exchange', name })) await this.forgetBinding(e, b, false);
    if (exchange.spec.durable) await this.services.definitions.deleteExchange(this.name, name);
  }

  async declareQueue(d: QueueDeclaration, connection: number): Promise<AmqpQueue> {
    if (d.name === '' && !d.passive) checkServerNamed(d.arguments);
    const name = d.name === '' ? `amq.gen-${randomBytes(16).toString('base64url')}` : d.name;
    await this.removing.get(name);
    const pending = this.creating.get(name);
    if (pending) await pending.catch(() => undefined);
    const existing = this.queues.get(name);
    if (existing) {
      if (existing.failed) throw amqpError.crashed(name, this.name);
      if (existing.spec.exclusiveOwner !== null && existing.spec.exclusiveOwner !== connection) throw amqpError.locked(name, this.name);
      existing.touch();
      if (!d.passive) this.checkEquivalent(existing, d, connection);
      this.services.counters.queuesDeclared++;
      return existing;
    }
    if (d.passive) throw amqpError.notFoundQueue(name, this.name);
    if (d.name.startsWith('amq.')) throw amqpError.accessRefused(`queue name '${d.name}' contains reserved prefix 'amq.*'`);
    checkQueueArguments(d.arguments, name, this.name, d);
    const durable = d.durable && !d.exclusive;
    const creation = (async () => {
      const queue = await this.createQueue({ name, durable, exclusiveOwner: d.exclusive ? connection : null, autoDelete: d.autoDelete, arguments: d.arguments });
      if (durable) {
        await this.services.definitions.putQueue(this.name, name, d.autoDelete, d.arguments).catch((err: unknown) => {
          // Not stored (a full disk): the queue was never declared; its empty log goes as an orphan at the next start.
          if (this.queues.get(name) === queue) this.queues.delete(name);
          queue.markDeleted();
          throw err;
        });
      }
      return queue;
    })();
    this.creating.set(name, creation);
    try {
      const queue = await creation;
      this.services.counters.queuesDeclared++;
      this.services.counters.queuesCreated++;
      return queue;
    } finally {
      this.creating.delete(name);
    }
  }

  /** Deletes a queue; returns how many messages it held. */
  async deleteQueue(name: string, ifUnused: boolean, ifEmpty: boolean, connection: number): Promise<number> {
    const queue = this.queues.get(name);
    if (!queue) return 0;
    if (queue.spec.exclusiveOwner !== null && queue.spec.exclusiveOwner !== connection) throw amqpError.locked(name, this.name);
    if (ifUnused && queue.consumerCount > 0) throw amqpError.precondition(`queue '${name}' in vhost '${this.name}' in use`);
    if (ifEmpty && queue.messageCount > 0) throw amqpError.precondition(`queue '${name}' in vhost '${this.name}' not empty`);
    const count = queue.messageCount;
    await this.removeQueue(queue);
    return count;
  }

  /** Exclusive queues go when their connection does. */
  async connectionClosed(connection: number): Promise<void> {
    for (const queue of [...this.queues.values()]) if (queue.spec.exclusiveOwner === connection) await this.removeQueue(queue);
  }

  async bind(source: string, destination: Destination, routingKey: string, args: FieldTable): Promise<void> {
    if (source === '' || (destination.kind === 'exchange' && destination.name === '')) throw amqpError.accessRefused('operation not permitted on the default exchange');
    const exchange = this.exchange(source);
    if (exchange.spec.type === 'headers') checkHeadersBinding(args);
    const b = binding(destination, routingKey, args);
    if (!exchange.bind(b)) return;
    if (exchange.spec.durable && this.isDurable(destination)) {
      await this.services.definitions.putBinding(stored(this.name, source, b)).catch((err: unknown) => {
        exchange.unbind(b.id);
        throw err;
      });
    }
  }

  async unbind(source: string, destination: Destination, routingKey: string, args: FieldTable): Promise<void> {
    if (source === '' || (destination.kind === 'exchange' && destination.name === '')) throw amqpError.accessRefused('operation not permitted on the default exchange');
    const exchange = this.exchanges.get(source);
    if (!exchange) return;
    const removed = exchange.unbind(binding(destination, routingKey, args).id);
    if (removed) await this.forgetBinding(exchange, removed);
  }

  /**
   * Routes through exchange-to-exchange bindings and alternate exchanges, then enqueues in every queue
   * reached. BCC keys route but are stripped; CC keys route and stay.
   */
  publish(exchangeName: string, routingKey: string, message: StoredMessage, properties: BasicProperties, body: Buffer): PublishResult {
    const exchange = this.exchange(exchangeName);
    if (exchange.spec.internal) throw amqpError.accessRefused(`cannot publish to internal exchange '${exchangeName}' in vhost '${this.name}'`);
    const headers = properties.headers;
    const cc = headers?.get('CC');
    const bcc = headers?.get('BCC');
    if (exchange.name === '' && cc === undefined && bcc === undefined) {
      // The default exchange without sender-selected routing: the routing key names the queue.
      const queue = this.queues.get(routingKey);
      if (queue) return { routed: 1, stored: queue.enqueue(message, body) };
      if (DirectReplyTo.isReplyName(routingKey)) this.services.replyTo.find(routingKey)?.deliverReply(routingKey, message, body);
      return NOT_ROUTED;
    }
    const keys = cc === undefined && bcc === undefined ? [routingKey] : [routingKey, ...textArray(cc), ...textArray(bcc)];
    if (exchange.name === '') this.deliverReplies(keys, message, body);
    return this.store(this.route(exchange, keys, headers), message, body);
  }

  /**
   * Direct reply-to: the default exchange hands a reply to each reply consumer its keys name, with the first
   * routing key, as RabbitMQ (which counts none of them as routed, so a mandatory reply also comes back).
   */
  private deliverReplies(keys: readonly string[], message: StoredMessage, body: Buffer): void {
    for (const key of new Set(keys)) if (DirectReplyTo.isReplyName(key)) this.services.replyTo.find(key)?.deliverReply(keys[0]!, message, body);
  }

  /** QueueHooks: rewrite and republish through the queue's dead-letter exchange; true once stored wherever it was routed. */
  deadLetter(queue: AmqpQueue, message: QueuedMessage, reason: DeadLetterReason): Promise<boolean> {
    const routed = this.routeDeadLetter(queue, message, reason);
    if (!routed) return Promise.resolve(false);
    const result = this.store(new Set(routed.targets), routed.message, message.value ?? Buffer.alloc(0));
    return result.stored.then(
      (stored) => stored && result.routed > 0,
      (err: unknown) => {
        this.services.logger.error({ err, queue: queue.name }, 'dead-lettering failed');
        return false;
      },
    );
  }

  /** QueueHooks: at-least-once dead-lettering publishes to the queues the DLX routes to now, but those that stored it already. */
  forwardDeadLetter(queue: AmqpQueue, message: QueuedMessage, reason: DeadLetterReason, settled: ReadonlySet<string>): DeadLetterRouting {
    const routed = this.routeDeadLetter(queue, message, reason);
    if (!routed) return { targets: [], stored: new Map() };
    const body = message.value ?? Buffer.alloc(0);
    const stored = new Map<string, Promise<boolean>>();
    for (const target of routed.targets) {
      if (settled.has(target.name)) continue;
      stored.set(target.name, target.enqueue(routed.message, body).catch((err: unknown) => {
        this.services.logger.error({ err, queue: queue.name, target: target.name }, 'dead-lettering failed');
        return false;
      }));
    }
    return { targets: routed.targets.map((q) => q.name), stored };
  }

  /** The dead letter of `message` and the queues its DLX routes it to (dead-letter cycles left out), or undefined without a DLX. */
  private routeDeadLetter(queue: AmqpQueue, message: QueuedMessage, reason: DeadLetterReason): { message: StoredMessage; targets: AmqpQueue[] } | undefined {
    const dlx = queue.args.deadLetterExchange;
    const exchange = dlx === undefined ? undefined : this.exchanges.get(dlx);
    if (!exchange) return undefined;
    try {
      const dead = deadLetter(message.key, queue.name, reason, queue.args.deadLetterRoutingKey, this.services.clock.now());
      const routed = [...this.route(exchange, dead.routingKeys, dead.headers)];
      const targets = reason === 'rejected' ? routed : routed.filter((q) => !isDeadLetterCycle(dead.headers, q.name));
      return { message: { ...dead.message, exchange: dlx! }, targets };
    } catch (err) {
      this.services.logger.error({ err, queue: queue.name }, 'could not dead-letter a message');
      return undefined;
    }
  }

  /** QueueHooks: a damaged log took the queue down; other queues and the connection carry on. */
  crashed(queue: AmqpQueue, failure: BrokerError): void {
    this.services.logger.error({ err: failure, vhost: this.name, queue: queue.name }, 'queue crashed: its log is damaged; it delivers nothing until it is deleted');
  }

  /** QueueHooks: auto-delete and x-expires. */
  unused(queue: AmqpQueue): void {
    void this.removeQueue(queue).catch((err: unknown) => this.services.logger.error({ err, queue: queue.name }, 'queue deletion failed'));
  }

  private route(exchange: Exchange, keys: readonly string[], headers: FieldTable | undefined): Set<AmqpQueue> {
    const queues = new Set<AmqpQueue>();
    const visited = new Set<string>();
    const walk = (from: Exchange): void => {
      if (visited.has(from.name)) return;
      visited.add(from.name);
      const destinations: Destination[] = [];
      for (const key of keys) {
        if (from.name === '') {
          const queue = this.queues.get(key);
          if (queue) queues.add(queue);
        } else from.route(key, headers, destinations);
      }
      for (const d of destinations) {
        if (d.kind === 'queue') {
          const queue = this.queues.get(d.name);
          if (queue) queues.add(queue);
        } else {
          const next = this.exchanges.get(d.name);
          if (next) walk(next);
        }
      }
    };
    walk(exchange);
    for (let current: Exchange | undefined = exchange; queues.size === 0 && current?.alternateExchange !== undefined; ) {
      current = this.exchanges.get(current.alternateExchange);
      if (!current || visited.has(current.name)) break;
      walk(current);
    }
    return queues;
  }

  private store(queues: ReadonlySet<AmqpQueue>, message: StoredMessage, body: Buffer): PublishResult {
    if (queues.size === 0) return NOT_ROUTED;
    if (queues.size === 1) for (const queue of queues) return { routed: 1, stored: queue.enqueue(message, body) };
    const stored = [...queues].map((q) => q.enqueue(message, body));
    return { routed: queues.size, stored: Promise.all(stored).then((all) => all.every(Boolean)) };
  }

  /** RabbitMQ's order: exclusivity (405 if it differs), durable, auto_delete, then the arguments of the queue's type. */
  private checkEquivalent(queue: AmqpQueue, d: QueueDeclaration, connection: number): void {
    if (queue.spec.exclusiveOwner !== (d.exclusive ? connection : null)) throw amqpError.locked(queue.name, this.name);
    const where = `queue '${queue.name}' in vhost '${this.name}'`;
    const durable = d.durable && !d.exclusive;
    if (queue.spec.durable !== durable) throw inequivalent('durable', `'${durable}'`, `'${queue.spec.durable}'`, where);
    if (queue.spec.autoDelete !== d.autoDelete) throw inequivalent('auto_delete', `'${d.autoDelete}'`, `'${queue.spec.autoDelete}'`, where);
    assertArgumentsEquivalent(queue.spec.arguments, d.arguments, queueTypeArguments(queue.args.type), where);
  }

  private async createQueue(spec: QueueSpec): Promise<AmqpQueue> {
    const args = parseQueueArguments(spec.arguments);
    const { topics, ackStore, clock, segmentBytes } = this.services;
    if (args.type === 'stream') return this.createStream(spec);
    const levels: AckQueue[] = [];
    const appenders: BatchingAppender[] = [];
    for (const [level, topicName] of levelTopics(this.name, spec.name, levelCount(args.maxPriority)).entries()) {
      if (!topics.get(topicName)) {
        await topics.create(topicName, {
          partitions: 1,
          internal: true,
          config: { segmentBytes, retentionMs: -1, retentionBytes: -1, ...(spec.durable ? {} : { flush: 'never' }) },
          attributes: { amqp: { vhost: this.name, queue: spec.name, level } },
        });
      }
      const log = topics.log(topicName, 0)!;
      const restartedAt = log.logEndOffset;
      const queue = await AckQueue.open(`${this.name}\u0000${spec.name}\u0000${level}`, log, ackStore, { keep: (m) => m.offset >= restartedAt || storedPersistent(m.key) });
      await queue.sweep(restartedAt);
      levels.push(queue);
      appenders.push(new BatchingAppender(log));
    }
    const queue = new AmqpQueue(spec, args, levels, appenders, this, clock, await this.openDeadLetterWorker(spec, args));
    this.queues.set(spec.name, queue);
    queue.checkHealth();
    if (this.opened) queue.startDeadLettering();
    return queue;
  }

  /** A quorum queue dead-lettering at least once keeps its dead letters in a discards log until their targets stored them. */
  private async openDeadLetterWorker(spec: QueueSpec, args: QueueArguments): Promise<DeadLetterWorker | undefined> {
    const topicName = discardsTopic(this.name, spec.name, args);
    if (topicName === undefined) return undefined;
    const { topics, ackStore, clock, segmentBytes } = this.services;
    if (!topics.get(topicName)) {
      await topics.create(topicName, { partitions: 1, internal: true, config: { segmentBytes, retentionMs: -1, retentionBytes: -1 }, attributes: { amqp: { vhost: this.name, queue: spec.name, discards: true } } });
    }
    const log = topics.log(topicName, 0)!;
    const discards = await AckQueue.open(discardsAckId(this.name, spec.name), log, ackStore);
    return new DeadLetterWorker(discards, new BatchingAppender(log), clock, this.services.deadLetterSettleTimeoutMs);
  }

  /** A stream queue over its core stream topic, created with the queue's retention and segment arguments unless it exists. */
  private async createStream(spec: QueueSpec): Promise<AmqpQueue> {
    const { topics } = this.services;
    const name = streamTopic(this.name, spec.name);
    if (!topics.get(name)) {
      const maxAge = fieldText(spec.arguments.get('x-max-age'));
      const number = (arg: string) => {
        const value = spec.arguments.get(arg);
        return value && (value.type === 'l' || value.type === 'I' || value.type === 'i' || value.type === 's' || value.type === 'u' || value.type === 'b' || value.type === 'B') ? Number(value.value) : undefined;
      };
      const config = streamTopicConfig({ maxAgeMs: maxAge === undefined ? undefined : parseMaxAge(maxAge), maxLengthBytes: number('x-max-length-bytes'), maxSegmentSizeBytes: number('x-stream-max-segment-size-bytes') });
      const attributes: StreamAttributes = { vhost: this.name };
      await topics.create(name, { partitions: 1, config, attributes: { [STREAM_ATTRIBUTE]: attributes } }).catch((err: unknown) => {
        if (!BrokerError.is(err, 'TOPIC_EXISTS')) throw err;
      });
    }
    const existing = this.queues.get(spec.name);
    if (existing instanceof StreamQueue) return existing;
    const queue = new StreamQueue(spec, parseQueueArguments(spec.arguments), topics.log(name, 0)!, this, this.services.clock, this.services.logger);
    this.queues.set(spec.name, queue);
    return queue;
  }

  /** The stream of this vhost a topic is (declared by the stream protocol or as a stream queue), else undefined. */
  private streamNameOf(topic: TopicDescriptor): string | undefined {
    const attributes = topic.attributes[STREAM_ATTRIBUTE] as StreamAttributes | undefined;
    if (!attributes || (attributes.vhost ?? '/') !== this.name || topic.partitions !== 1) return undefined;
    return streamOfTopic(this.name, topic.name);
  }

  /** A stream the stream protocol declared shows as a stream queue (the queue is only in memory: the topic is its definition). */
  private attachStream(topic: TopicDescriptor): void {
    const name = this.streamNameOf(topic);
    if (name === undefined || this.queues.has(name) || this.creating.has(name)) return;
    const log = this.services.topics.log(topic.name, 0);
    if (!log) return;
    const spec: QueueSpec = { name, durable: true, exclusiveOwner: null, autoDelete: false, arguments: new Map([['x-queue-type', { type: 'S', value: Buffer.from('stream') }]]) };
    this.queues.set(name, new StreamQueue(spec, parseQueueArguments(spec.arguments), log, this, this.services.clock, this.services.logger));
  }

  /** The stream's topic was deleted (by another protocol): its queue goes too. */
  private detachStream(topic: TopicDescriptor): void {
    const name = streamOfTopic(this.name, topic.name);
    const queue = name === undefined ? undefined : this.queues.get(name);
    if (queue instanceof StreamQueue && queue.log.topic === topic.name) void this.removeQueue(queue).catch((err: unknown) => this.services.logger.error({ err, queue: name }, 'queue deletion failed'));
  }

  private removeQueue(queue: AmqpQueue): Promise<void> {
    if (this.queues.get(queue.name) !== queue) return Promise.resolve();
    this.queues.delete(queue.name);
    this.services.counters.queuesDeleted++;
    const removal = this.deleteQueueState(queue);
    const done: Promise<void> = removal
      .catch(() => undefined)
      .then(() => {
        if (this.removing.get(queue.name) === done) this.removing.delete(queue.name);
      });
    this.removing.set(queue.name, done);
    return removal;
  }

  private async deleteQueueState(queue: AmqpQueue): Promise<void> {
    for (const consumer of queue.markDeleted()) consumer.cancelled();
    this.onQueueDeleted(queue);
    for (const exchange of this.exchanges.values()) for (const b of exchange.unbindDestination({ kind: 'queue', name: queue.name })) await this.forgetBinding(exchange, b, false);
    if (queue.spec.durable) await this.services.definitions.deleteQueue(this.name, queue.name);
    if (queue instanceof StreamQueue) {
      await this.services.topics.delete(queue.log.topic).catch((err: unknown) => {
        if (!BrokerError.is(err, 'TOPIC_NOT_FOUND')) throw err;
      });
      return;
    }
    const discards = discardsTopic(this.name, queue.name, queue.args);
    if (discards !== undefined) await this.services.ackStore.remove(discardsAckId(this.name, queue.name));
    for (let level = 0; level < levelCount(queue.args.maxPriority); level++) await this.services.ackStore.remove(`${this.name}\u0000${queue.name}\u0000${level}`);
    for (const topicName of queueTopics(this.name, queue.name, queue.args)) {
      await this.services.topics.delete(topicName).catch((err: unknown) => {
        if (!BrokerError.is(err, 'TOPIC_NOT_FOUND')) throw err;
      });
    }
  }

  private async forgetBinding(exchange: Exchange, b: Binding, autoDelete = true): Promise<void> {
    if (exchange.spec.durable && this.isDurable(b.destination)) await this.services.definitions.deleteBinding(stored(this.name, exchange.name, b));
    if (autoDelete && exchange.spec.autoDelete && exchange.bindingCount === 0 && this.exchanges.get(exchange.name) === exchange) {
      this.exchanges.delete(exchange.name);
      if (exchange.spec.durable) await this.services.definitions.deleteExchange(this.name, exchange.name);
    }
  }

  private isDurable(destination: Destination): boolean {
    if (destination.kind === 'exchange') return this.exchanges.get(destination.name)?.spec.durable ?? false;
    const queue = this.queues.get(destination.name);
    return queue !== undefined && queue.spec.durable && queue.spec.exclusiveOwner === null;
  }
}

const inequivalent = (arg: string, received: string, current: string, where: string) =>
  amqpError.precondition(`inequivalent arg '${arg}' for ${where}: received ${received} but current is ${current}`);

/** RabbitMQ's argument equivalence over `names`: equal values of one type class pass; the text prints the values, or with their types when one is missing. */
function assertArgumentsEquivalent(current: FieldTable, received: FieldTable, names: readonly string[], where: string): void {
  const described = (v: FieldValue | undefined) => (v === undefined ? 'none' : `the value '${printValue(v)}' of type '${typeName(v)}'`);
  for (const name of names) {
    const was = current.get(name);
    const now = received.get(name);
    if (was === undefined && now === undefined) continue;
    const given = (was ?? now)!;
    if (name === 'x-queue-type' && (was === undefined || now === undefined) && given.type === 'S' && fieldText(given) === 'classic') continue;
    if (was === undefined || now === undefined) throw inequivalent(name, described(now), described(was), where);
    if (!equivalentArguments(was, now)) throw inequivalent(name, `'${printValue(now)}'`, `'${printValue(was)}'`, where);
  }
}

/** A headers binding's `x-match`, if given, is one of the four modes as a longstr (RabbitMQ's 406 texts). */
function checkHeadersBinding(args: FieldTable): void {
  const match = args.get('x-match');
  if (match === undefined) return;
  if (match.type !== 'S') throw amqpError.precondition(`Invalid x-match field type ${typeName(match)} (value ${printTerm(match)}); expected longstr`);
  if (!['all', 'any', 'all-with-x', 'any-with-x'].includes(fieldText(match)!)) {
    throw amqpError.precondition(`Invalid x-match field value ${printTerm(match)}; expected all, any, all-with-x, or any-with-x`);
  }
}

function binding(destination: Destination, routingKey: string, args: FieldTable): Binding {
  return { destination, routingKey, arguments: args, id: `${destination.kind}\u0000${destination.name}\u0000${routingKey}\u0000${encodeArguments(args).toString('hex')}` };
}

function stored(vhost: string, source: string, b: Binding): StoredBinding {
  return { vhost, source, destinationKind: b.destination.kind, destination: b.destination.name, routingKey: b.routingKey, arguments: encodeArguments(b.arguments) };
}

const topicPrefix = (vhost: string): string => `amqp:${encodeURIComponent(vhost)}:`;

/** The log topics of a queue: level 0, then one per priority level above it. */
function levelTopics(vhost: string, queue: string, levels: number): string[] {
  const base = `${topicPrefix(vhost)}${encodeURIComponent(queue)}`;
  return Array.from({ length: levels }, (_, level) => (level === 0 ? base : `${base}:p${level}`));
}

/** A quorum queue's discards log, where at-least-once dead letters wait for their targets (rabbit_fifo's dlx state). */
function discardsTopic(vhost: string, queue: string, args: QueueArguments): string | undefined {
  if (args.type !== 'quorum' || args.deadLetterStrategy !== 'at-least-once' || args.deadLetterExchange === undefined) return undefined;
  return `${topicPrefix(vhost)}${encodeURIComponent(queue)}:dlx`;
}

const discardsAckId = (vhost: string, queue: string): string => `${vhost}\u0000${queue}\u0000dlx`;

/** Every log topic of a queue: its levels and its discards log. */
function queueTopics(vhost: string, queue: string, args: QueueArguments): string[] {
  const topics = levelTopics(vhost, queue, levelCount(args.maxPriority));
  const discards = discardsTopic(vhost, queue, args);
  return discards === undefined ? topics : [...topics, discards];
}

function levelCount(maxPriority: number | undefined): number {
  return maxPriority === undefined ? 1 : maxPriority + 1;
}
