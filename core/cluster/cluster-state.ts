import type { Logger } from '../logging.ts';
import type { CoordinationBackend, StoredKey, Watch, WatchEvent } from './coordination.ts';
import {
  decode,
  keys,
  parsePartitionKey,
  type BrokerRegistration,
  type ClusterTopic,
  type ControllerRecord,
  type LiveBroker,
  type PartitionState,
  type StoredPartitionState,
} from './cluster-model.ts';

export interface ClusterChange {
  readonly brokers: boolean;
  readonly controller: boolean;
  /** Topics created, changed or deleted. */
  readonly topics: ReadonlySet<string>;
  /** Partitions whose state changed (or appeared, or went with their topic). */
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
}

export interface ElectedController extends ControllerRecord {
  /** The create revision of the controller key: fences a deposed controller's writes. */
  readonly epoch: number;
}

/**
 * This broker's copy of the cluster's metadata: everything under the namespace, listed once and then
 * kept current by one watch. Listeners hear each applied revision range as one change.
 */
export class ClusterState {
  private readonly brokerMap = new Map<number, LiveBroker>();
  private readonly topicMap = new Map<string, ClusterTopic>();
  private readonly partitionMap = new Map<string, Map<number, PartitionState>>();
  private controllerValue: ElectedController | undefined;
  private revisionValue = 0;
  private watch: Watch | undefined;
  private stopped = false;
  private readonly listeners = new Set<(change: ClusterChange) => void>();
  private readonly revisionWaiters: Array<{ revision: number; resolve: () => void }> = [];

  constructor(
    private readonly backend: CoordinationBackend,
    private readonly logger: Logger,
  ) {}

  get revision(): number {
    return this.revisionValue;
  }

  get brokers(): ReadonlyMap<number, LiveBroker> {
    return this.brokerMap;
  }

  get controller(): ElectedController | undefined {
    return this.controllerValue;
  }

  get topics(): ReadonlyMap<string, ClusterTopic> {
    return this.topicMap;
  }

  partitionsOf(topic: string): ReadonlyMap<number, PartitionState> | undefined {
    return this.partitionMap.get(topic);
  }

  partition(topic: string, partition: number): PartitionState | undefined {
    return this.partitionMap.get(topic)?.get(partition);
  }

  onChange(listener: (change: ClusterChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.resync();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    this.watch = undefined;
    for (const waiter of this.revisionWaiters.splice(0)) waiter.resolve();
  }

  /** Resolves once this copy has applied `revision` (e.g. a transaction this broker just made). */
  waitForRevision(revision: number): Promise<void> {
    if (this.revisionValue >= revision || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.revisionWaiters.push({ revision, resolve }));
  }

  private async resync(): Promise<void> {
    this.watch?.cancel();
    const { keys: listed, revision } = await this.backend.list('');
    if (this.stopped) return;
    const before = { brokers: new Map(this.brokerMap), topics: new Map(this.topicMap), partitions: this.flatPartitions(), controller: this.controllerValue };
    this.brokerMap.clear();
    this.topicMap.clear();
    this.partitionMap.clear();
    this.controllerValue = undefined;
    for (const kv of listed) this.applyPut(kv);
    const after = this.flatPartitions();
    const partitions = [...new Set([...before.partitions.keys(), ...after.keys()])]
      .filter((k) => before.partitions.get(k)?.version !== after.get(k)?.version)
      .map((k) => after.get(k)?.id ?? before.partitions.get(k)!.id);
    const topics = new Set([...before.topics.keys(), ...this.topicMap.keys()].filter((t) => before.topics.get(t) !== this.topicMap.get(t)));
    this.advance(revision, {
      brokers: !sameBrokers(before.brokers, this.brokerMap),
      controller: before.controller?.epoch !== this.controller?.epoch,
      topics,
      partitions,
    });
    this.watch = this.backend.watch('', revision + 1, {
      onEvents: (events) => this.onEvents(events),
      onBroken: (err) => {
        if (this.stopped) return;
        this.logger.warn({ err: err.message }, 'cluster watch broken; listing again');
        this.resync().catch((e: unknown) => this.logger.error({ err: e }, 'cluster resync failed'));
      },
    });
  }

  private onEvents(events: readonly WatchEvent[]): void {
    if (this.stopped || events.length === 0) return;
    let brokers = false;
    let controller = false;
    const topics = new Set<string>();
    const partitions: Array<{ topic: string; partition: number }> = [];
    for (const event of events) {
      if (event.key.startsWith(keys.brokers)) brokers = true;
      else if (event.key === keys.controller) controller = true;
      else if (event.key.startsWith(keys.topics)) topics.add(event.key.slice(keys.topics.length));
      else {
        const id = parsePartitionKey(event.key);
        if (id) partitions.push(id);
      }
      if (event.type === 'put') this.applyPut(event);
      else this.applyDelete(event.key);
    }
    this.advance(events[events.length - 1]!.modRevision, { brokers, controller, topics, partitions });
  }

  private applyPut(kv: StoredKey): void {
    try {
      if (kv.key.startsWith(keys.brokers)) {
        const registration = decode<BrokerRegistration>(kv.value);
        this.brokerMap.set(registration.nodeId, { ...registration, epoch: kv.createRevision });
      } else if (kv.key === keys.controller) {
        this.controllerValue = { ...decode<ControllerRecord>(kv.value), epoch: kv.createRevision };
      } else if (kv.key.startsWith(keys.topics)) {
        this.topicMap.set(kv.key.slice(keys.topics.length), decode<ClusterTopic>(kv.value));
      } else {
        const id = parsePartitionKey(kv.key);
        if (!id) return;
        let partitions = this.partitionMap.get(id.topic);
        if (!partitions) this.partitionMap.set(id.topic, (partitions = new Map()));
        partitions.set(id.partition, { ...decode<StoredPartitionState>(kv.value), version: kv.modRevision });
      }
    } catch (err) {
      this.logger.error({ err, key: kv.key }, 'undecodable cluster metadata; ignoring the key');
    }
  }

  private applyDelete(key: string): void {
    if (key.startsWith(keys.brokers)) {
      const nodeId = Number(key.slice(keys.brokers.length));
      this.brokerMap.delete(nodeId);
    } else if (key === keys.controller) {
      this.controllerValue = undefined;
    } else if (key.startsWith(keys.topics)) {
      this.topicMap.delete(key.slice(keys.topics.length));
    } else {
      const id = parsePartitionKey(key);
      if (!id) return;
      const partitions = this.partitionMap.get(id.topic);
      partitions?.delete(id.partition);
      if (partitions?.size === 0) this.partitionMap.delete(id.topic);
    }
  }

  private advance(revision: number, change: ClusterChange): void {
    this.revisionValue = Math.max(this.revisionValue, revision);
    const any = change.brokers || change.controller || change.topics.size > 0 || change.partitions.length > 0;
    if (any) {
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (err) {
          this.logger.error({ err }, 'cluster listener failed');
        }
      }
    }
    for (let i = this.revisionWaiters.length - 1; i >= 0; i--) {
      const waiter = this.revisionWaiters[i]!;
      if (waiter.revision <= this.revisionValue) {
        this.revisionWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  private flatPartitions(): Map<string, { id: { topic: string; partition: number }; version: number }> {
    const out = new Map<string, { id: { topic: string; partition: number }; version: number }>();
    for (const [topic, partitions] of this.partitionMap) {
      for (const [partition, state] of partitions) out.set(`${topic}\u0000${partition}`, { id: { topic, partition }, version: state.version });
    }
    return out;
  }
}

function sameBrokers(a: ReadonlyMap<number, LiveBroker>, b: ReadonlyMap<number, LiveBroker>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, broker] of a) if (b.get(id)?.epoch !== broker.epoch) return false;
  return true;
}
