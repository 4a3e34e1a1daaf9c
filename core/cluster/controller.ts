import type { Clock, Timer } from '../clock.ts';
import type { Logger } from '../logging.ts';
import type { BrokerSession } from './broker-session.ts';
import type { ClusterState } from './cluster-state.ts';
import { del, put, type Condition, type CoordinationBackend, type Operation } from './coordination.ts';
import { encode, keys, type StoredPartitionState } from './cluster-model.ts';
import { electPartition, preferPreferredLeader, type ElectionOptions } from './leader-election.ts';

/** Partition changes per transaction (etcd allows 128 operations by default). */
const CHANGES_PER_TXN = 64;
const RETRY_MS = 200;

/**
 * The controller: one broker, elected through the coordination store (the holder of the `controller`
 * key, bound to its lease), that reacts to brokers coming and going by electing partition leaders and
 * dropping dead replicas from ISRs. Every write is a transaction guarded by the controller key's create
 * revision (so a deposed controller's writes fail) and by each partition's mod revision (so it never
 * overwrites a change it has not seen). Its decisions are a function of the current state alone, so a
 * new controller simply carries on.
 */
export class Controller {
  private rebalanceTimer: Timer | undefined;
  private rebalanceDue = false;
  private reconcileScheduled = false;
  private reconciling = false;
  private campaigning = false;
  private retryTimer: Timer | undefined;
  private stopped = false;
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly backend: CoordinationBackend,
    private readonly state: ClusterState,
    private readonly session: BrokerSession,
    private readonly options: ElectionOptions & { readonly leaderRebalanceIntervalMs: number },
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** True while this broker holds the controller key under its current registration and lease. */
  get active(): boolean {
    const controller = this.state.controller;
    return controller !== undefined && controller.nodeId === this.session.nodeId && controller.brokerEpoch === this.session.epoch && this.session.valid;
  }

  start(): void {
    this.unsubscribe.push(
      this.state.onChange((change) => {
        if (change.controller || change.brokers) this.maybeCampaign();
        if (this.active) this.scheduleReconcile();
      }),
      this.session.onEvent((event) => {
        if (event.type !== 'fenced') this.maybeCampaign();
      }),
    );
    this.maybeCampaign();
    this.scheduleReconcile();
    this.scheduleRebalance();
  }

  /** Every interval, the controller moves leaderships back to their preferred replicas (0 disables). */
  private scheduleRebalance(): void {
    if (this.options.leaderRebalanceIntervalMs <= 0 || this.stopped) return;
    this.rebalanceTimer = this.clock.setTimeout(() => {
      this.rebalanceDue = true;
      if (this.active) this.scheduleReconcile();
      this.scheduleRebalance();
    }, this.options.leaderRebalanceIntervalMs);
  }

  /** Gives up the controller role (if held) so another broker takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer?.cancel();
    this.rebalanceTimer?.cancel();
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    const controller = this.state.controller;
    if (controller?.nodeId === this.session.nodeId && controller.brokerEpoch === this.session.epoch) {
      await this.backend.txn([{ key: keys.controller, createRevision: controller.epoch }], [del(keys.controller)]).catch(() => undefined);
    }
  }

  private maybeCampaign(): void {
    if (this.stopped || this.campaigning || this.state.controller !== undefined || !this.session.valid || this.session.leaseId === undefined) return;
    this.campaigning = true;
    const record = encode({ nodeId: this.session.nodeId, brokerEpoch: this.session.epoch });
    this.backend
      .txn([{ key: keys.controller, createRevision: 0 }], [put(keys.controller, record, this.session.leaseId)])
      .then(async (result) => {
        if (result.succeeded) {
          await this.state.waitForRevision(result.revision);
          this.logger.info({ nodeId: this.session.nodeId, controllerEpoch: result.revision }, 'elected controller');
          this.scheduleReconcile();
        }
      })
      .catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'controller campaign failed'))
      .finally(() => {
        this.campaigning = false;
        if (!this.stopped && this.state.controller === undefined) this.retryLater();
      });
  }

  private retryLater(): void {
    this.retryTimer?.cancel();
    this.retryTimer = this.clock.setTimeout(() => {
      this.maybeCampaign();
      if (this.active) this.scheduleReconcile();
    }, RETRY_MS);
  }

  private scheduleReconcile(): void {
    if (this.reconcileScheduled || this.stopped) return;
    this.reconcileScheduled = true;
    setImmediate(() => {
      this.reconcileScheduled = false;
      void this.reconcile();
    });
  }

  private async reconcile(): Promise<void> {
    if (this.reconciling) {
      this.scheduleReconcile();
      return;
    }
    if (!this.active || this.stopped) return;
    this.reconciling = true;
    try {
      const controllerEpoch = this.state.controller!.epoch;
      const live = new Map([...this.state.brokers.values()].map((b) => [b.nodeId, b.epoch]));
      const rebalance = this.rebalanceDue;
      this.rebalanceDue = false;
      const changes: Array<{ key: string; version: number; next: StoredPartitionState }> = [];
      for (const [topic] of this.state.topics) {
        for (const [partition, current] of this.state.partitionsOf(topic) ?? []) {
          const next = electPartition(current, live, this.options) ?? (rebalance ? preferPreferredLeader(current, live) : undefined);
          if (next) changes.push({ key: keys.partition(topic, partition), version: current.version, next: stripVersion(next) });
        }
      }
      let failed = false;
      for (let i = 0; i < changes.length; i += CHANGES_PER_TXN) {
        const chunk = changes.slice(i, i + CHANGES_PER_TXN);
        const conditions: Condition[] = [{ key: keys.controller, createRevision: controllerEpoch }, ...chunk.map((c) => ({ key: c.key, modRevision: c.version }))];
        const ops: Operation[] = chunk.map((c) => put(c.key, encode(c.next)));
        const result = await this.backend.txn(conditions, ops);
        if (result.succeeded) {
          for (const c of chunk) this.logger.info({ partition: c.key, leader: c.next.leader, leaderEpoch: c.next.leaderEpoch, isr: c.next.isr.map(([id]) => id) }, 'partition state changed');
          await this.state.waitForRevision(result.revision);
        } else failed = true;
      }
      if (failed) this.retryLater();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'controller reconciliation failed; retrying');
      this.retryLater();
    } finally {
      this.reconciling = false;
    }
  }
}

function stripVersion(state: StoredPartitionState & { version?: number }): StoredPartitionState {
  const { leader, leaderEpoch, replicas, isr } = state;
  return { leader, leaderEpoch, replicas, isr };
}
