import type { CoordinationBackend, Logger, StorageEngine } from '../../../core/index.ts';
import { ClientQuotaStore, CLIENT_ID, USER, type QuotaEntity } from './client-quota-store.ts';
import { QUOTA_SAMPLES, QUOTA_SAMPLE_MS, SampledRate, throttleTimeMs } from './sampled-rate.ts';

export type QuotaType = 'producer_byte_rate' | 'consumer_byte_rate';

interface Applicable {
  /** Bytes per second. */
  bound: number;
  /** Whose rate counts: Kafka's quota metric tags for the level the quota was found at. */
  bucket: string;
}

/** A rate nobody recorded into for this long is forgotten (Kafka expires idle quota sensors too). */
const IDLE_RATE_MS = 2 * QUOTA_SAMPLES * QUOTA_SAMPLE_MS;

/**
 * Enforces the produce and fetch byte-rate quotas as Kafka's ClientQuotaManager with its default callback:
 * the most specific quota set for the client's (user, client-id) applies (KIP-55's order, `<default>`
 * entities included), measured over Kafka's sampled window, shared by everyone the quota's level groups
 * together; a client over its bound is told how long to wait (throttle_time_ms) and its connection is
 * muted that long (KIP-219).
 */
export class ClientQuotas {
  private store: ClientQuotaStore | undefined;
  private readonly rates = new Map<string, SampledRate>();
  private readonly resolved = new Map<string, Applicable | null>();

  /** On one node from the storage engine; in a cluster from the coordination store, shared by every broker. */
  async open(engine: StorageEngine, cluster?: { backend: CoordinationBackend; logger: Logger }): Promise<void> {
    this.store = cluster ? await ClientQuotaStore.coordinated(cluster.backend, cluster.logger, () => this.changed()) : await ClientQuotaStore.open(engine);
  }

  close(): void {
    this.store?.close();
  }

  get stored(): ClientQuotaStore {
    if (!this.store) throw new Error('client quotas are not open');
    return this.store;
  }

  /** After a change: quotas are looked up afresh; rates measured so far carry on. */
  changed(): void {
    this.resolved.clear();
  }

  /** Records `bytes` produced; the throttle time (ms) the client has earned, 0 within its quota. */
  recordProduce(principal: string, clientId: string, bytes: number, now: number): number {
    const applicable = this.applicable('producer_byte_rate', principal, clientId);
    if (!applicable) return 0;
    const rate = this.rate(applicable.bucket, now);
    rate.record(bytes, now);
    return throttleTimeMs(rate.measure(now), applicable.bound);
  }

  /** Records `bytes` fetched; if the client is over its quota they are taken back (the response goes out empty) and the throttle time returned. */
  recordFetch(principal: string, clientId: string, bytes: number, now: number): number {
    const applicable = this.applicable('consumer_byte_rate', principal, clientId);
    if (!applicable) return 0;
    const rate = this.rate(applicable.bucket, now);
    rate.record(bytes, now);
    const throttle = throttleTimeMs(rate.measure(now), applicable.bound);
    if (throttle > 0) rate.unrecord(bytes);
    return throttle;
  }

  /** Kafka's getMaxValueInQuotaWindow: a fetch response is never larger than the quota allows in a window. */
  maxFetchBytes(principal: string, clientId: string): number {
    const applicable = this.applicable('consumer_byte_rate', principal, clientId);
    return applicable ? applicable.bound * (QUOTA_SAMPLES - 1) * (QUOTA_SAMPLE_MS / 1000) : Infinity;
  }

  private rate(bucket: string, now: number): SampledRate {
    let rate = this.rates.get(bucket);
    if (!rate) {
      if (this.rates.size >= 1024) for (const [key, r] of this.rates) if (now - r.lastRecordMs > IDLE_RATE_MS) this.rates.delete(key);
      rate = new SampledRate(now);
      this.rates.set(bucket, rate);
    }
    return rate;
  }

  private applicable(type: QuotaType, principal: string, clientId: string): Applicable | null {
    if (!this.store || this.store.size === 0) return null;
    const user = principal.startsWith('User:') ? principal.slice(5) : principal;
    const cacheKey = `${type}\0${user}\0${clientId}`;
    let found = this.resolved.get(cacheKey);
    if (found === undefined) {
      found = this.lookup(type, user, clientId);
      if (this.resolved.size >= 4096) this.resolved.clear();
      this.resolved.set(cacheKey, found);
    }
    return found;
  }

  /** KIP-55's precedence, most specific first; the bucket follows the level's metric tags (a default user counts per user). */
  private lookup(type: QuotaType, user: string, clientId: string): Applicable | null {
    const both = `${type}\0${user}\0${clientId}`;
    const userOnly = `${type}\0${user}\0`;
    const clientOnly = `${type}\0\0${clientId}`;
    const levels: Array<[QuotaEntity, string]> = [
      [{ [USER]: user, [CLIENT_ID]: clientId }, both],
      [{ [USER]: user, [CLIENT_ID]: null }, both],
      [{ [USER]: user }, userOnly],
      [{ [USER]: null, [CLIENT_ID]: clientId }, both],
      [{ [USER]: null, [CLIENT_ID]: null }, both],
      [{ [USER]: null }, userOnly],
      [{ [CLIENT_ID]: clientId }, clientOnly],
      [{ [CLIENT_ID]: null }, clientOnly],
    ];
    for (const [entity, bucket] of levels) {
      const bound = this.store!.get(entity)?.[type];
      if (bound !== undefined) return { bound, bucket };
    }
    return null;
  }
}
