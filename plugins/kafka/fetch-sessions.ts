import type { Clock } from '../../core/index.ts';
import type { FetchRequest } from './codec/index.ts';
import { KafkaError, type KafkaErrorCode } from './error-codes.ts';
import { NO_TOPIC_ID } from './topic-ids.ts';

/** One partition a fetch reads: from the request, or from its session's cache. */
export interface FetchPartition {
  /** The topic's name; '' when the request named it by an id no topic has (v13+: UNKNOWN_TOPIC_ID). */
  topic: string;
  /** v13+: the topic id the request named it by (the response names it so); zero before. */
  topicId: Buffer;
  partition: number;
  fetchOffset: number;
  maxBytes: number;
  currentLeaderEpoch: number;
  /** v12+: the epoch of the last record the client fetched, -1 if unknown (KIP-595's divergence check). */
  lastFetchedEpoch: number;
}

/** What a fetch found in one partition, as far as sessions care. */
export interface FetchOutcome {
  errorCode: number;
  highWatermark: number;
  logStartOffset: number;
  bytes: number;
}

/**
 * How one Fetch request is served (KIP-227, Kafka's FetchManager): which partitions it reads, and which
 * of them its response carries under which session id.
 */
export interface FetchContext {
  /** A session error to answer alone (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH). */
  readonly error?: KafkaErrorCode;
  readonly partitions: readonly FetchPartition[];
  /** After the reads: the indexes of `partitions` the response carries, and its session id. */
  respond(outcomes: readonly FetchOutcome[]): { sessionId: number; include: readonly number[] };
  /** The session id of an empty response to a throttled client (Kafka's getThrottledResponse): an incremental fetch keeps its session, a full one opens none. */
  readonly throttledSessionId: number;
}

/** Sessions: `0` is no session; epoch 0 opens one, -1 (FINAL) asks for none and closes the named one. */
const NO_SESSION = 0;
const INITIAL_EPOCH = 0;
const FINAL_EPOCH = -1;
const INT32_MAX = 2 ** 31 - 1;

interface CachedPartition extends FetchPartition {
  highWatermark: number;
  logStartOffset: number;
}

interface Session {
  id: number;
  /** The epoch the next incremental request must carry. */
  epoch: number;
  /** By topic and partition, in the order responses list them; a partition that answered moves to the end. */
  partitions: Map<string, CachedPartition>;
  createdAt: number;
  lastUsed: number;
}

export interface FetchSessionSettings {
  /** Kafka's max.incremental.fetch.session.cache.slots. */
  slots: number;
  /** Kafka's min.incremental.fetch.session.eviction.ms: a session unused this long may be evicted, a younger one only by a bigger one. */
  evictionMs: number;
}

/**
 * The broker's incremental fetch sessions (KIP-227): a full fetch opens one with the partitions it
 * names; each incremental fetch names only partitions added or changed (and forgotten ones), reads the
 * rest from the session, and is answered with only the partitions that have records or whose high
 * watermark, log start offset or error changed.
 */
export class FetchSessionCache {
  private readonly sessions = new Map<number, Session>();

  constructor(
    private readonly settings: FetchSessionSettings,
    private readonly clock: Clock,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** `nameOf` resolves the topic ids of v13+ requests. */
  contextFor(request: FetchRequest, version: number, nameOf: (topicId: Buffer) => string | undefined): FetchContext {
    const byId = version >= 13;
    const named = requestedPartitions(request, byId, nameOf);
    if (version < 7) return sessionless(named);
    const { sessionId, sessionEpoch } = request;
    if (sessionEpoch === INITIAL_EPOCH || sessionEpoch === FINAL_EPOCH) {
      if (sessionId !== NO_SESSION) this.sessions.delete(sessionId);
      return sessionEpoch === FINAL_EPOCH ? sessionless(named) : this.full(named);
    }
    const session = this.sessions.get(sessionId);
    if (session === undefined) return failed(KafkaError.FETCH_SESSION_ID_NOT_FOUND);
    if (session.epoch !== sessionEpoch) return failed(KafkaError.INVALID_FETCH_SESSION_EPOCH);
    for (const p of named) {
      const cached = session.partitions.get(keyOf(p));
      if (cached) Object.assign(cached, p);
      else session.partitions.set(keyOf(p), { ...p, highWatermark: -1, logStartOffset: -1 });
    }
    for (const forgotten of request.forgottenTopicsData) {
      for (const partition of forgotten.partitions) session.partitions.delete(keyOf({ topic: forgotten.topic, topicId: byId ? forgotten.topicId : NO_TOPIC_ID, partition }));
    }
    if (session.partitions.size === 0) {
      this.sessions.delete(session.id);
      return sessionless(named);
    }
    session.lastUsed = this.clock.now();
    session.epoch = session.epoch === INT32_MAX ? 1 : session.epoch + 1;
    return this.incremental(session);
  }

  private full(named: readonly FetchPartition[]): FetchContext {
    return {
      partitions: named,
      throttledSessionId: NO_SESSION,
      respond: (outcomes) => {
        const include = named.map((_, i) => i);
        const id = this.maybeCreate(named.length);
        if (id === NO_SESSION) return { sessionId: NO_SESSION, include };
        const partitions = new Map<string, CachedPartition>();
        named.forEach((p, i) => partitions.set(keyOf(p), { ...p, ...cachedResponse(outcomes[i]!) }));
        const now = this.clock.now();
        this.sessions.set(id, { id, epoch: 1, partitions, createdAt: now, lastUsed: now });
        return { sessionId: id, include };
      },
    };
  }

  private incremental(session: Session): FetchContext {
    const cached = [...session.partitions.values()];
    return {
      partitions: cached,
      throttledSessionId: session.id,
      respond: (outcomes) => {
        const include: number[] = [];
        outcomes.forEach((outcome, i) => {
          const entry = cached[i]!;
          const changed = outcome.bytes > 0 || outcome.errorCode !== KafkaError.NONE || outcome.highWatermark !== entry.highWatermark || outcome.logStartOffset !== entry.logStartOffset;
          if (!changed) return;
          include.push(i);
          Object.assign(entry, cachedResponse(outcome));
          // Kafka moves an answered partition to the end, so the next responses' byte budget goes to the others first.
          const key = keyOf(entry);
          if (session.partitions.delete(key)) session.partitions.set(key, entry);
        });
        return { sessionId: this.sessions.has(session.id) ? session.id : NO_SESSION, include };
      },
    };
  }

  /** Kafka's FetchSessionCache.maybeCreateSession and tryEvict; NO_SESSION if there is no room. */
  private maybeCreate(size: number): number {
    if (this.sessions.size >= this.settings.slots && !this.evictFor(size)) return NO_SESSION;
    let id: number;
    do id = 1 + Math.floor(Math.random() * (INT32_MAX - 1));
    while (this.sessions.has(id));
    return id;
  }

  /** Evicts the least recently used session if it is stale, else the smallest old one if it is smaller than `size`. */
  private evictFor(size: number): boolean {
    const now = this.clock.now();
    let lru: Session | undefined;
    let smallest: Session | undefined;
    for (const s of this.sessions.values()) {
      if (lru === undefined || s.lastUsed < lru.lastUsed) lru = s;
      const evictable = now - s.createdAt > this.settings.evictionMs;
      if (evictable && (smallest === undefined || s.partitions.size < smallest.partitions.size)) smallest = s;
    }
    const victim = lru && now - lru.lastUsed > this.settings.evictionMs ? lru : smallest && smallest.partitions.size < size ? smallest : undefined;
    if (victim === undefined) return false;
    this.sessions.delete(victim.id);
    return true;
  }
}

function requestedPartitions(request: FetchRequest, byId: boolean, nameOf: (topicId: Buffer) => string | undefined): FetchPartition[] {
  return request.topics.flatMap((t) => {
    const topic = byId ? (nameOf(t.topicId) ?? '') : t.topic;
    const topicId = byId ? t.topicId : NO_TOPIC_ID;
    return t.partitions.map((p) => ({ topic, topicId, partition: p.partition, fetchOffset: p.fetchOffset, maxBytes: p.partitionMaxBytes, currentLeaderEpoch: p.currentLeaderEpoch, lastFetchedEpoch: p.lastFetchedEpoch }));
  });
}

function sessionless(partitions: readonly FetchPartition[]): FetchContext {
  return { partitions, throttledSessionId: NO_SESSION, respond: () => ({ sessionId: NO_SESSION, include: partitions.map((_, i) => i) }) };
}

function failed(error: KafkaErrorCode): FetchContext {
  return { error, partitions: [], throttledSessionId: NO_SESSION, respond: () => ({ sessionId: NO_SESSION, include: [] }) };
}

/** What a session remembers of a response; an error forgets the high watermark so the partition is sent again once it clears. */
function cachedResponse(outcome: FetchOutcome): { highWatermark: number; logStartOffset: number } {
  return { highWatermark: outcome.errorCode === KafkaError.NONE ? outcome.highWatermark : -1, logStartOffset: outcome.logStartOffset };
}

/** By id from v13 (a re-created topic is another topic), else by name. */
function keyOf(p: { topic: string; topicId: Buffer; partition: number }): string {
  return p.topicId === NO_TOPIC_ID ? `${p.partition}:${p.topic}` : `${p.partition}#${p.topicId.toString('hex')}`;
}
