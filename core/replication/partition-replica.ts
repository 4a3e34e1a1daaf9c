import type { Clock } from '../clock.ts';
import type { PartitionState, StoredPartitionState } from '../cluster/cluster-model.ts';
import type { CoordinatedCluster } from '../cluster/coordinated-cluster.ts';
import { BrokerError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../logging.ts';
import type { Acks } from '../storage/partition-log.ts';
import type { FetchedPartition, FetchPartition } from './replication-protocol.ts';
import type { ReplicaLog } from './replicator.ts';

export type ReplicaRole = 'leader' | 'follower' | 'offline';

interface FollowerProgress {
  brokerEpoch: number;
  /** The follower's log end offset as its last fetch said (-1 until it fetches). */
  endOffset: number;
  /** When the follower was last caught up with this leader's log end (Kafka's lastCaughtUpTimeMs). */
  lastCaughtUpMs: number;
  lastFetchMs: number;
  /** This leader's log end offset when the follower last fetched. */
  leaderEndAtLastFetch: number;
}

interface CommitWaiter {
  endOffset: number;
  resolve: () => void;
  reject: (err: BrokerError) => void;
}

const EMPTY = Buffer.alloc(0);

/**
 * One hosted partition's replication: as leader it tracks each follower's position, moves the high
 * watermark to the lowest in-sync position, completes acks=all appends, and grows or shrinks the ISR
 * by compare-and-swap; as follower it applies what its fetcher brings (truncating by leader epoch
 * when its log diverged). Its role follows the partition state in the coordination store.
 */
export class PartitionReplica {
  role: ReplicaRole = 'offline';
  state: PartitionState;
  /** The leader epoch this replica leads or follows under. */
  epoch = -1;
  /** The broker this follower fetches from. */
  leaderId = -1;
  private readonly followers = new Map<number, FollowerProgress>();
  private waiters: CommitWaiter[] = [];
  private readonly appendListeners = new Set<() => void>();
  private isrChanging = false;
  private transition: Promise<void> = Promise.resolve();

  constructor(
    readonly log: ReplicaLog,
    state: PartitionState,
    private readonly cluster: CoordinatedCluster,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly onRoleChange: (replica: PartitionReplica) => void,
  ) {
    this.state = state;
  }

  get topic(): string {
    return this.log.topic;
  }

  get partition(): number {
    return this.log.partition;
  }

  /** Leading now: the role, the store's word, and this broker's lease all agree. */
  get leading(): boolean {
    return this.role === 'leader' && this.cluster.isLeaderIn(this.state);
  }

  /** Applies a new partition state (or re-judges the current one after a session change). Serialised. */
  update(state: PartitionState): Promise<void> {
    this.transition = this.transition.then(() => this.apply(state)).catch((err: unknown) => {
      this.logger.error({ err, topic: this.topic, partition: this.partition }, 'replica role change failed');
    });
    return this.transition;
  }

  private async apply(state: PartitionState): Promise<void> {
    this.state = state;
    if (this.cluster.isLeaderIn(state)) {
      if (this.role !== 'leader' || this.epoch !== state.leaderEpoch) await this.becomeLeader(state);
      else this.maybeAdvanceHighWatermark();
    } else if (state.leader >= 0 && state.leader !== this.cluster.nodeId && state.replicas.includes(this.cluster.nodeId)) {
      if (this.role !== 'follower' || this.epoch !== state.leaderEpoch || this.leaderId !== state.leader) this.becomeFollower(state);
    } else if (this.role !== 'offline') {
      this.becomeOffline();
    }
    this.onRoleChange(this);
  }

  private async becomeLeader(state: PartitionState): Promise<void> {
    this.role = 'offline';
    await this.log.becomeLeader(state.leaderEpoch);
    const now = this.clock.monotonic();
    this.followers.clear();
    for (const id of state.replicas) {
      if (id === this.cluster.nodeId) continue;
      const entry = state.isr.find(([i]) => i === id);
      this.followers.set(id, { brokerEpoch: entry?.[1] ?? -1, endOffset: -1, lastCaughtUpMs: now, lastFetchMs: now, leaderEndAtLastFetch: 0 });
    }
    this.epoch = state.leaderEpoch;
    this.leaderId = this.cluster.nodeId;
    this.role = 'leader';
    this.logger.info({ topic: this.topic, partition: this.partition, leaderEpoch: this.epoch, logEndOffset: this.log.logEndOffset }, 'leading partition');
    this.maybeAdvanceHighWatermark();
  }

  private becomeFollower(state: PartitionState): void {
    this.failWaiters('NOT_LEADER', `${this.topic}-${this.partition} is now led by broker ${state.leader}`);
    this.role = 'follower';
    this.epoch = state.leaderEpoch;
    this.leaderId = state.leader;
    this.logger.info({ topic: this.topic, partition: this.partition, leader: state.leader, leaderEpoch: state.leaderEpoch }, 'following partition');
  }

  private becomeOffline(): void {
    this.failWaiters('NOT_LEADER', `${this.topic}-${this.partition} has no leader here`);
    this.role = 'offline';
    this.leaderId = -1;
  }

  // ---- leader side ----

  checkAppend(acks: Acks): BrokerError | undefined {
    if (!this.leading) return new BrokerError('NOT_LEADER', `broker ${this.cluster.nodeId} does not lead ${this.topic}-${this.partition}`);
    const minIsr = this.log.config.minInsyncReplicas ?? 1;
    if (acks === 'all' && this.state.isr.length < minIsr) {
      return new BrokerError('NOT_ENOUGH_REPLICAS', `${this.topic}-${this.partition} has ${this.state.isr.length} in-sync replicas, fewer than min.insync.replicas ${minIsr}`);
    }
    return undefined;
  }

  /** A local append ended at `endOffset`: wake followers, and resolve as `acks` asks. */
  commit(endOffset: number, acks: Acks): Promise<void> {
    for (const wake of this.appendListeners) wake();
    const durable = this.log.config.flush.kind === 'always' ? this.log.syncTo(endOffset) : Promise.resolve();
    void durable.then(
      () => this.maybeAdvanceHighWatermark(),
      () => undefined,
    );
    if (acks === 'leader') return durable;
    return new Promise((resolve, reject) => {
      this.waiters.push({ endOffset, resolve, reject });
      this.maybeAdvanceHighWatermark();
    });
  }

  /** Resolves when this leader's log grows, or now if it already did. */
  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /** Serves one partition of a follower's fetch. */
  async serveFetch(replicaId: number, brokerEpoch: number, request: FetchPartition, maxBytes: number): Promise<FetchedPartition> {
    const log = this.log;
    const answer = (error: ErrorCode | null, extra: Partial<FetchedPartition> = {}): FetchedPartition => ({
      topic: this.topic,
      partition: this.partition,
      error,
      highWatermark: log.highWatermark,
      logStartOffset: log.logStartOffset,
      diverging: null,
      records: EMPTY,
      ...extra,
    });
    if (!this.leading) return answer('NOT_LEADER');
    if (request.leaderEpoch < this.epoch) return answer('FENCED_LEADER_EPOCH');
    if (request.leaderEpoch > this.epoch) return answer('UNKNOWN_LEADER_EPOCH');
    const progress = this.followers.get(replicaId);
    if (!progress) return answer('NOT_LEADER');
    if (request.lastFetchedEpoch >= 0) {
      const end = log.leaderEpochs.endOffsetFor(request.lastFetchedEpoch, log.logEndOffset);
      if (end.epoch < 0) return answer(null, { diverging: { epoch: 0, endOffset: log.logStartOffset } });
      if (end.epoch !== request.lastFetchedEpoch || end.endOffset < request.fetchOffset) return answer(null, { diverging: end });
    } else if (request.fetchOffset > log.logEndOffset) {
      return answer(null, { diverging: { epoch: Math.max(0, log.leaderEpochs.latestEpoch), endOffset: log.logEndOffset } });
    }
    if (request.fetchOffset < log.logStartOffset) return answer('OFFSET_OUT_OF_RANGE');
    this.recordFollower(replicaId, brokerEpoch, progress, request.fetchOffset);
    const { records } = await log.read(request.fetchOffset, maxBytes, log.logEndOffset);
    return answer(null, { records });
  }

  private recordFollower(replicaId: number, brokerEpoch: number, progress: FollowerProgress, fetchOffset: number): void {
    const now = this.clock.monotonic();
    const leaderEnd = this.log.logEndOffset;
    if (fetchOffset >= leaderEnd) progress.lastCaughtUpMs = now;
    else if (fetchOffset >= progress.leaderEndAtLastFetch) progress.lastCaughtUpMs = Math.max(progress.lastCaughtUpMs, progress.lastFetchMs);
    progress.endOffset = fetchOffset;
    progress.lastFetchMs = now;
    progress.leaderEndAtLastFetch = leaderEnd;
    progress.brokerEpoch = brokerEpoch;
    this.maybeExpandIsr(replicaId, progress);
    this.maybeAdvanceHighWatermark();
  }

  /** HW = the lowest position among in-sync replicas (this leader's durable end counts as its own). */
  maybeAdvanceHighWatermark(): void {
    if (!this.leading) return;
    const own = this.log.config.flush.kind === 'always' ? this.log.durableEnd : this.log.logEndOffset;
    let hw = own;
    for (const [id] of this.state.isr) {
      if (id === this.cluster.nodeId) continue;
      const progress = this.followers.get(id);
      hw = Math.min(hw, progress ? progress.endOffset : -1);
    }
    if (hw > this.log.highWatermark) this.log.advanceHighWatermark(hw);
    this.settleWaiters();
  }

  private settleWaiters(): void {
    const hw = this.log.highWatermark;
    if (this.waiters.length === 0 || this.waiters[0]!.endOffset > hw) return;
    const minIsr = this.log.config.minInsyncReplicas ?? 1;
    const done = this.waiters.filter((w) => w.endOffset <= hw);
    this.waiters = this.waiters.filter((w) => w.endOffset > hw);
    for (const waiter of done) {
      if (this.state.isr.length < minIsr) {
        waiter.reject(new BrokerError('NOT_ENOUGH_REPLICAS_AFTER_APPEND', `${this.topic}-${this.partition} was stored with ${this.state.isr.length} in-sync replicas`));
      } else waiter.resolve();
    }
  }

  private failWaiters(code: ErrorCode, message: string): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) waiter.reject(new BrokerError(code, message));
  }

  /** A follower that reached the high watermark and this epoch's start rejoins the ISR (its broker must be live). */
  private maybeExpandIsr(replicaId: number, progress: FollowerProgress): void {
    if (this.isrChanging || this.state.isr.some(([id]) => id === replicaId)) return;
    if (progress.endOffset < this.log.highWatermark || progress.endOffset < this.log.leaderEpochs.latestStartOffset) return;
    if (this.cluster.state.brokers.get(replicaId)?.epoch !== progress.brokerEpoch) return;
    this.changeIsr([...this.state.isr, [replicaId, progress.brokerEpoch]], 'expand');
  }

  /** Drops in-sync followers that have not caught up within `lagMaxMs` (called periodically). */
  checkLaggingFollowers(lagMaxMs: number): void {
    if (!this.leading || this.isrChanging) return;
    const now = this.clock.monotonic();
    const lagging = this.state.isr.filter(([id]) => {
      if (id === this.cluster.nodeId) return false;
      const progress = this.followers.get(id);
      return progress === undefined || now - progress.lastCaughtUpMs > lagMaxMs;
    });
    if (lagging.length === 0) return;
    this.changeIsr(
      this.state.isr.filter((entry) => !lagging.includes(entry)),
      'shrink',
    );
  }

  private changeIsr(isr: StoredPartitionState['isr'], why: 'expand' | 'shrink'): void {
    const expected = this.state;
    const next: StoredPartitionState = { leader: expected.leader, leaderEpoch: expected.leaderEpoch, replicas: expected.replicas, isr };
    this.isrChanging = true;
    this.cluster
      .alterPartition(this.topic, this.partition, expected, next)
      .then((applied) => {
        if (applied) this.logger.info({ topic: this.topic, partition: this.partition, isr: isr.map(([id]) => id), why }, 'ISR changed');
      })
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message, topic: this.topic, partition: this.partition }, 'ISR change failed'))
      .finally(() => (this.isrChanging = false));
  }

  /** Controlled shutdown: hands leadership to the first other live in-sync replica. Resolves with whether it moved. */
  async handOver(): Promise<boolean> {
    if (!this.leading) return false;
    const expected = this.state;
    const successor = expected.replicas.find((id) => id !== this.cluster.nodeId && expected.isr.some(([i, e]) => i === id && this.cluster.state.brokers.get(id)?.epoch === e));
    if (successor === undefined) return false;
    const next: StoredPartitionState = {
      leader: successor,
      leaderEpoch: expected.leaderEpoch + 1,
      replicas: expected.replicas,
      isr: expected.isr.filter(([id]) => id !== this.cluster.nodeId),
    };
    return this.cluster.alterPartition(this.topic, this.partition, expected, next);
  }

  // ---- follower side ----

  /** What this follower asks its leader for next. */
  fetchRequest(): FetchPartition {
    return { topic: this.topic, partition: this.partition, leaderEpoch: this.epoch, fetchOffset: this.log.logEndOffset, lastFetchedEpoch: this.log.leaderEpochs.latestEpoch };
  }

  /** Applies the leader's answer to `request` (ignored if the role changed meanwhile). Returns whether to back off. */
  async applyFetched(request: FetchPartition, fetched: FetchedPartition): Promise<boolean> {
    if (this.role !== 'follower' || this.epoch !== request.leaderEpoch) return false;
    const log = this.log;
    if (fetched.error !== null) {
      if (fetched.error === 'OFFSET_OUT_OF_RANGE' && log.logEndOffset < fetched.logStartOffset) {
        this.logger.warn({ topic: this.topic, partition: this.partition, from: log.logEndOffset, to: fetched.logStartOffset }, 'behind the leader\'s log start: starting over there');
        await log.resetTo(fetched.logStartOffset);
        return false;
      }
      return true;
    }
    if (fetched.diverging) {
      const mine = log.leaderEpochs.endOffsetFor(fetched.diverging.epoch, log.logEndOffset);
      const target = Math.max(log.logStartOffset, Math.min(fetched.diverging.endOffset, mine.endOffset >= 0 ? mine.endOffset : fetched.diverging.endOffset));
      if (target < log.logEndOffset) {
        this.logger.warn({ topic: this.topic, partition: this.partition, from: log.logEndOffset, to: target, epoch: fetched.diverging.epoch }, 'truncating a diverged log to the leader\'s epoch end');
        await log.truncateTo(target);
      }
      return false;
    }
    if (fetched.records.length > 0 && log.logEndOffset === request.fetchOffset) await log.appendReplicated(fetched.records);
    log.advanceHighWatermark(Math.min(fetched.highWatermark, log.logEndOffset));
    if (fetched.logStartOffset > log.logStartOffset) await log.deleteBefore(fetched.logStartOffset);
    return false;
  }
}
