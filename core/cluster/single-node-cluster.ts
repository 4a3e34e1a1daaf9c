import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'inversify';
import type { BrokerConfig } from '../config.ts';
import type { StorageEngine } from '../storage/partition-log.ts';
import { TOKENS } from '../tokens.ts';
import { MetadataLog } from '../topics/metadata-log.ts';
import type { Cluster } from './cluster.ts';
import type { Endpoint, LiveBroker, PartitionState } from './cluster-model.ts';

/** The default: one broker that is the whole cluster. Ids and the cluster id live in local metadata logs. */
@injectable()
export class SingleNodeCluster implements Cluster {
  readonly clustered = false;
  readonly description = 'single node';
  readonly nodeId: number;
  private self: LiveBroker;
  private readonly reservations = new Map<string, Promise<unknown>>();
  private readonly stores = new Map<string, Promise<MetadataLog<unknown>>>();

  constructor(
    @inject(TOKENS.Config) config: BrokerConfig,
    @inject(TOKENS.StorageEngine) private readonly engine: StorageEngine,
  ) {
    this.nodeId = config.nodeId;
    this.self = { nodeId: this.nodeId, epoch: 0, endpoints: {} };
  }

  members(): readonly LiveBroker[] {
    return [this.self];
  }

  controllerId(): number {
    return this.nodeId;
  }

  async advertise(name: string, endpoint: Endpoint): Promise<void> {
    this.self = { ...this.self, endpoints: { ...this.self.endpoints, [name]: endpoint } };
  }

  partitionState(): PartitionState | undefined {
    return undefined;
  }

  leads(): boolean {
    return true;
  }

  onChange(): () => void {
    return () => undefined;
  }

  async clusterId(): Promise<string> {
    const store = (await this.store('kafka-cluster')) as MetadataLog<string>;
    let id = store.get('cluster-id');
    if (id === undefined) {
      id = newClusterId();
      await store.put('cluster-id', id);
    }
    return id;
  }

  /** Blocks are reserved durably (`reserved-up-to` in the metadata log named after them) before use. */
  reserveIds(name: string, count: number): Promise<number> {
    const previous = this.reservations.get(name) ?? Promise.resolve();
    const next = previous.then(async () => {
      const store = (await this.store(name)) as MetadataLog<number>;
      const first = store.get('reserved-up-to') ?? 0;
      await store.put('reserved-up-to', first + count);
      return first;
    });
    this.reservations.set(name, next.catch(() => undefined));
    return next;
  }

  private store(name: string): Promise<MetadataLog<unknown>> {
    let store = this.stores.get(name);
    if (!store) this.stores.set(name, (store = MetadataLog.open<unknown>(this.engine, name)));
    return store;
  }
}

/** Kafka's cluster id format: 16 random bytes, base64url. */
export function newClusterId(): string {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
}
