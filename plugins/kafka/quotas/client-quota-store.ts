import { isIP } from 'node:net';
import { CoordinatedMap, MetadataLog, type CoordinationBackend, type Logger, type StorageEngine } from '../../../core/index.ts';
import { KafkaError } from '../error-codes.ts';

export const USER = 'user';
export const CLIENT_ID = 'client-id';
export const IP = 'ip';

/** An entity's parts by type; a null name is the type's default (`<default>`). */
export type QuotaEntity = Readonly<Partial<Record<typeof USER | typeof CLIENT_ID | typeof IP, string | null>>>;

export interface StoredQuota {
  entity: QuotaEntity;
  values: Record<string, number>;
}

/** Kafka's QuotaConfigs: the keys of user / client-id entities and of ip entities, and whether each is integral. */
const USER_AND_CLIENT_KEYS: Readonly<Record<string, { integral: boolean }>> = {
  producer_byte_rate: { integral: true },
  consumer_byte_rate: { integral: true },
  request_percentage: { integral: false },
  controller_mutation_rate: { integral: false },
};
const IP_KEYS: Readonly<Record<string, { integral: boolean }>> = { connection_creation_rate: { integral: true } };

/** Why a change is refused, as Kafka's ClientQuotaControlManager words it. */
export interface QuotaRefusal {
  errorCode: number;
  message: string;
}

const refuse = (message: string): QuotaRefusal => ({ errorCode: KafkaError.INVALID_REQUEST, message });

/** The store key of an entity: its parts in a fixed order, so equal entities share one key. */
export function entityKey(entity: QuotaEntity): string {
  return JSON.stringify([USER, CLIENT_ID, IP].map((type) => (type in entity ? [type, entity[type as keyof QuotaEntity]] : null)));
}

/** Where the quotas are kept: what the store needs of a metadata log or a coordinated map. */
type QuotaMap = Pick<MetadataLog<StoredQuota>, 'size' | 'get' | 'values' | 'write'>;

/**
 * Client quotas (KIP-55, KIP-546) by entity. On one node they are kept in a compacted internal log
 * (`__wharf_kafka-client-quotas`) and replayed on start; in a cluster in the coordination store
 * (`kafka/client-quotas/`), so every broker enforces the same quotas, each on its own traffic, as Kafka's
 * brokers do. Validation follows Kafka's controller: known entity types once each, ip alone, known keys,
 * positive values, integral byte rates.
 */
export class ClientQuotaStore {
  private constructor(
    private readonly log: QuotaMap,
    /** Stops following the coordination store (nothing to do on one node). */
    readonly close: () => void = () => undefined,
  ) {}

  static async open(engine: StorageEngine): Promise<ClientQuotaStore> {
    return new ClientQuotaStore(await MetadataLog.open<StoredQuota>(engine, 'kafka-client-quotas'));
  }

  /** Cluster mode; `onChange` hears of every change, whichever broker made it. */
  static async coordinated(backend: CoordinationBackend, logger: Logger, onChange: () => void): Promise<ClientQuotaStore> {
    const map = new CoordinatedMap<StoredQuota>(backend, 'kafka/client-quotas/', logger);
    map.onChange(onChange);
    await map.open();
    return new ClientQuotaStore(map, () => map.close());
  }

  get size(): number {
    return this.log.size;
  }

  get(entity: QuotaEntity): Readonly<Record<string, number>> | undefined {
    return this.log.get(entityKey(entity))?.values;
  }

  all(): IterableIterator<StoredQuota> {
    return this.log.values();
  }

  /** The entity of a request, checked: its parts, or why it is refused. */
  static entityOf(parts: ReadonlyArray<{ entityType: string; entityName: string | null }>): QuotaEntity | QuotaRefusal {
    if (parts.length === 0) return refuse('Invalid empty client quota entity');
    const entity: Record<string, string | null> = {};
    for (const { entityType, entityName } of parts) {
      if (entityType in entity) return refuse(`Invalid client quota entity, duplicate entity entry ${entityType}`);
      if (entityType !== USER && entityType !== CLIENT_ID && entityType !== IP) return refuse(`Unhandled client quota entity type: ${entityType}`);
      entity[entityType] = entityName;
      if (entityName === '') return refuse(`Empty ${entityType} not supported`);
    }
    if (IP in entity) {
      if (USER in entity || CLIENT_ID in entity) return refuse('Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId');
      const ip = entity[IP];
      if (ip !== null && ip !== undefined && isIP(ip) === 0) return refuse(`${ip} is not a valid IP or resolvable host.`);
    }
    return entity;
  }

  /** Checks `changes` (null removes a key) against the entity's keys; the entity's new values, or why not. */
  static validate(entity: QuotaEntity, current: Readonly<Record<string, number>>, changes: ReadonlyMap<string, number | null>): Record<string, number> | QuotaRefusal {
    const keys = IP in entity ? IP_KEYS : USER_AND_CLIENT_KEYS;
    const next = { ...current };
    for (const [key, value] of changes) {
      if (value === null) {
        delete next[key];
        continue;
      }
      const spec = keys[key];
      if (!spec) return refuse(`Invalid configuration key ${key}`);
      if (!(value > 0)) return refuse(`Quota ${key} must be greater than 0`);
      if (spec.integral && Math.abs(value % 1) > 1e-6) return refuse(`${key} cannot be a fractional value.`);
      next[key] = value;
    }
    return next;
  }

  /** Stores the entities' new values (none left: the entity goes) in one durable write. */
  async write(changes: ReadonlyArray<{ entity: QuotaEntity; values: Record<string, number> }>): Promise<void> {
    await this.log.write(changes.map(({ entity, values }) => [entityKey(entity), Object.keys(values).length > 0 ? { entity, values } : undefined] as const));
  }
}

export function isRefusal(value: object): value is QuotaRefusal {
  return 'errorCode' in value && 'message' in value;
}
