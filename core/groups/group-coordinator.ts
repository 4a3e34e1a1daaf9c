import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'inversify';
import type { AssignorRegistry } from '../assignment/assignor-registry.ts';
import type { AssignmentMember, MemberAssignment, TopicPartition } from '../assignment/assignor.ts';
import type { Clock, Timer } from '../clock.ts';
import type { BrokerConfig } from '../config.ts';
import type { ErrorCode } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { TOKENS } from '../tokens.ts';
import type { TopicEvent, TopicRegistry } from '../topics/topic-registry.ts';
import type {
  AssignmentMode,
  GroupDescription,
  GroupListing,
  GroupState,
  JoinGroupRequest,
  JoinGroupResult,
  ProtocolOffer,
  SyncGroupRequest,
  SyncGroupResult,
} from './group-types.ts';
import type { OffsetStore } from './offset-store.ts';
import type { GroupProtocolAdapter } from './protocol-adapter.ts';

interface Member {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: readonly ProtocolOffer[];
  assignment: Buffer;
  /** What the broker last assigned it (server mode), for stickiness across rebalances. */
  owned: TopicPartition[];
  awaitingJoin?: (result: JoinGroupResult) => void;
  awaitingSync?: (result: SyncGroupResult) => void;
  sessionTimer?: Timer;
}

interface Group {
  readonly groupId: string;
  state: GroupState;
  mode: AssignmentMode;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  readonly members: Map<string, Member>;
  /** Member ids handed out with MEMBER_ID_REQUIRED, waiting for the member to come back. */
  readonly pending: Map<string, Timer>;
  rebalanceDeadline: number;
  /** The first rebalance of an empty group waits until then for more members. */
  delayUntil: number;
  joinTimer?: Timer;
  emptySince: number;
  /** The topics the members subscribed to at the last generation; undefined before one, or when a member's metadata is unreadable. */
  subscribedTopics?: ReadonlySet<string>;
}

/** Kafka's OffsetDelete outcome: the group's error, or the requested topics whose offsets were kept because members subscribe to them. */
export type OffsetDeletion = { error: ErrorCode } | { subscribed: ReadonlySet<string> };

const EMPTY = Buffer.alloc(0);

/**
 * Consumer groups, protocol-neutral: Kafka's classic state machine (Empty, PreparingRebalance,
 * CompletingRebalance, Stable, Dead) with generations, session and rebalance timeouts, and two ways to
 * assign: by the leader member (client) or by the broker's configured Assignor (server).
 */
@injectable()
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly adapters = new Map<string, GroupProtocolAdapter>();
  private unsubscribe: (() => void) | undefined;
  private expiryTimer: Timer | undefined;

  constructor(
    @inject(TOKENS.Clock) private readonly clock: Clock,
    @inject(TOKENS.Config) private readonly config: BrokerConfig,
    @inject(TOKENS.AssignorRegistry) private readonly assignors: AssignorRegistry,
    @inject(TOKENS.TopicRegistry) private readonly topics: TopicRegistry,
    @inject(TOKENS.OffsetStore) private readonly offsets: OffsetStore,
    @inject(TOKENS.Logger) private readonly logger: Logger,
  ) {}

  start(): void {
    const unsubscribes = [
      this.topics.onChange((event) => this.onTopicChange(event)),
      this.offsets.onUnload((owns) => this.drop((group) => owns(group.groupId), 'NOT_COORDINATOR')),
    ];
    this.unsubscribe = () => unsubscribes.forEach((u) => u());
    this.scheduleOffsetExpiry();
  }

  stop(): void {
    this.unsubscribe?.();
    this.expiryTimer?.cancel();
    this.expiryTimer = undefined;
    this.drop(() => true, 'BROKER_STATE');
  }

  /** Forgets groups (this broker stops, or no longer coordinates them); members waiting get `error`. */
  private drop(which: (group: Group) => boolean, error: ErrorCode): void {
    for (const group of this.groups.values()) {
      if (!which(group)) continue;
      group.joinTimer?.cancel();
      for (const timer of group.pending.values()) timer.cancel();
      for (const member of group.members.values()) {
        member.sessionTimer?.cancel();
        member.awaitingJoin?.(this.joinError(group, member.memberId, error));
        member.awaitingSync?.(syncError(error));
      }
      this.groups.delete(group.groupId);
    }
  }

  registerAdapter(adapter: GroupProtocolAdapter): void {
    this.adapters.set(adapter.protocolType, adapter);
  }

  join(request: JoinGroupRequest): Promise<JoinGroupResult> {
    const { groupId, sessionTimeoutMs } = request;
    const { minSessionTimeoutMs, maxSessionTimeoutMs } = this.config.groups;
    if (sessionTimeoutMs < minSessionTimeoutMs || sessionTimeoutMs > maxSessionTimeoutMs) {
      return Promise.resolve(this.joinError(undefined, request.memberId, 'INVALID_SESSION_TIMEOUT'));
    }
    let group = this.groups.get(groupId);
    if (!group || group.state === 'Dead') group = this.createGroup(groupId, request.assignmentMode ?? 'client');
    if (request.protocols.length === 0 || !this.protocolsCompatible(group, request)) {
      return Promise.resolve(this.joinError(group, request.memberId, 'INCONSISTENT_PROTOCOL'));
    }
    if (request.memberId === '') return this.joinNewMember(group, request);
    if (group.pending.has(request.memberId)) {
      group.pending.get(request.memberId)!.cancel();
      group.pending.delete(request.memberId);
      return this.addMemberAndRebalance(group, request, request.memberId);
    }
    const member = group.members.get(request.memberId);
    if (!member) return Promise.resolve(this.joinError(group, request.memberId, 'UNKNOWN_MEMBER'));
    return this.rejoin(group, member, request);
  }

  sync(request: SyncGroupRequest): Promise<SyncGroupResult> {
    const group = this.groups.get(request.groupId);
    const member = group?.members.get(request.memberId);
    if (!group || !member) return Promise.resolve(syncError('UNKNOWN_MEMBER'));
    if (request.generationId !== group.generationId) return Promise.resolve(syncError('ILLEGAL_GENERATION'));
    if ((request.protocolType != null && request.protocolType !== group.protocolType) || (request.protocolName != null && request.protocolName !== group.protocolName)) {
      return Promise.resolve(syncError('INCONSISTENT_PROTOCOL'));
    }
    this.resetSession(group, member);
    switch (group.state) {
      case 'PreparingRebalance':
        return Promise.resolve(syncError('REBALANCE_IN_PROGRESS'));
      case 'Stable':
        return Promise.resolve(this.syncResult(group, member));
      case 'CompletingRebalance':
        return new Promise((resolve) => {
          member.awaitingSync?.(syncError('REBALANCE_IN_PROGRESS'));
          member.awaitingSync = resolve;
          if (group.mode === 'client' && member.memberId === group.leaderId) {
            for (const m of group.members.values()) m.assignment = request.assignments?.get(m.memberId) ?? EMPTY;
            this.becomeStable(group);
          }
        });
      default:
        return Promise.resolve(syncError('UNKNOWN_MEMBER'));
    }
  }

  heartbeat(groupId: string, memberId: string, generationId: number): ErrorCode | undefined {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (!group || !member || group.state === 'Empty' || group.state === 'Dead') return 'UNKNOWN_MEMBER';
    if (generationId !== group.generationId) return 'ILLEGAL_GENERATION';
    this.resetSession(group, member);
    return group.state === 'PreparingRebalance' ? 'REBALANCE_IN_PROGRESS' : undefined;
  }

  /** Removes members; one result per member, in order. */
  leave(groupId: string, memberIds: readonly string[]): Array<ErrorCode | undefined> {
    const group = this.groups.get(groupId);
    return memberIds.map((memberId) => {
      if (group?.pending.has(memberId)) {
        group.pending.get(memberId)!.cancel();
        group.pending.delete(memberId);
        this.maybeCompleteJoin(group);
        return undefined;
      }
      if (!group?.members.has(memberId)) return 'UNKNOWN_MEMBER';
      this.removeMember(group, memberId, 'left the group');
      return undefined;
    });
  }

  /** Whether an offset commit from this member at this generation may proceed (Kafka's rules). */
  validateCommit(groupId: string, memberId: string, generationId: number): ErrorCode | undefined {
    const group = this.groups.get(groupId);
    if (!group || group.members.size === 0) return generationId < 0 ? undefined : 'ILLEGAL_GENERATION';
    const member = group.members.get(memberId);
    if (!member) return 'UNKNOWN_MEMBER';
    if (generationId !== group.generationId) return 'ILLEGAL_GENERATION';
    if (group.state === 'CompletingRebalance') return 'REBALANCE_IN_PROGRESS';
    this.resetSession(group, member);
    return undefined;
  }

  describe(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (!group) {
      const known = this.offsets.lastCommit(groupId) !== undefined;
      return { groupId, state: known ? 'Empty' : 'Dead', protocolType: '', protocolName: '', generationId: 0, leaderId: '', assignmentMode: 'client', members: [] };
    }
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolName: group.state === 'Stable' ? (group.protocolName ?? '') : '',
      generationId: group.generationId,
      leaderId: group.leaderId,
      assignmentMode: group.mode,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: metadataFor(m, group.protocolName),
        assignment: group.state === 'Stable' ? m.assignment : EMPTY,
      })),
    };
  }

  /** Members of a live group (0 for a group that only has committed offsets), without describing it. */
  memberCount(groupId: string): number {
    return this.groups.get(groupId)?.members.size ?? 0;
  }

  /** Live groups, and groups that only have committed offsets (as Empty). */
  list(): GroupListing[] {
    const listed = new Map<string, GroupListing>();
    for (const groupId of this.offsets.groups()) listed.set(groupId, { groupId, protocolType: 'consumer', state: 'Empty' });
    for (const group of this.groups.values()) {
      if (group.state === 'Dead') continue;
      listed.set(group.groupId, { groupId: group.groupId, protocolType: group.protocolType ?? listed.get(group.groupId)?.protocolType ?? '', state: group.state });
    }
    return [...listed.values()];
  }

  /** Deletes an empty group and its committed offsets. */
  async delete(groupId: string): Promise<ErrorCode | undefined> {
    const group = this.groups.get(groupId);
    if (group && (group.members.size > 0 || group.pending.size > 0)) return 'GROUP_NOT_EMPTY';
    if (!group && this.offsets.lastCommit(groupId) === undefined) return 'GROUP_NOT_FOUND';
    if (group) {
      group.state = 'Dead';
      this.groups.delete(groupId);
    }
    await this.offsets.deleteGroup(groupId);
    return undefined;
  }

  /**
   * Deletes committed offsets as Kafka's OffsetDelete does: any of an empty group's; of a group with members,
   * only if it uses a protocol whose subscriptions the coordinator reads (Kafka: `consumer`), and never of a
   * topic its members subscribed to at the last generation (all topics, while that is not known).
   */
  async deleteOffsets(groupId: string, partitions: readonly TopicPartition[]): Promise<OffsetDeletion> {
    const group = this.groups.get(groupId);
    if (!group && this.offsets.lastCommit(groupId) === undefined) return { error: 'GROUP_NOT_FOUND' };
    const active = group !== undefined && group.state !== 'Empty';
    if (active && !this.adapters.has(group.protocolType ?? '')) return { error: 'GROUP_NOT_EMPTY' };
    const subscribed = new Set<string>();
    for (const { topic } of partitions) if (active && (group.subscribedTopics?.has(topic) ?? true)) subscribed.add(topic);
    await this.offsets.deleteOffsets(groupId, partitions.filter((p) => !subscribed.has(p.topic)));
    return { subscribed };
  }

  /** Expires the offsets of groups that have been empty longer than the retention. */
  async expireOffsets(): Promise<string[]> {
    const now = this.clock.now();
    const expired: string[] = [];
    for (const groupId of this.offsets.groups()) {
      const group = this.groups.get(groupId);
      if (group && group.members.size > 0) continue;
      const since = Math.max(this.offsets.lastCommit(groupId) ?? 0, group?.emptySince ?? 0);
      if (now - since < this.config.groups.offsetsRetentionMs) continue;
      await this.offsets.deleteGroup(groupId);
      expired.push(groupId);
    }
    return expired;
  }

  private createGroup(groupId: string, mode: AssignmentMode): Group {
    const group: Group = {
      groupId,
      state: 'Empty',
      mode,
      generationId: 0,
      protocolType: null,
      protocolName: null,
      leaderId: '',
      members: new Map(),
      pending: new Map(),
      rebalanceDeadline: 0,
      delayUntil: 0,
      emptySince: this.clock.now(),
    };
    this.groups.set(groupId, group);
    return group;
  }

  private protocolsCompatible(group: Group, request: JoinGroupRequest): boolean {
    if (group.protocolType !== null && group.protocolType !== request.protocolType && (group.members.size > 0 || group.pending.size > 0)) return false;
    const others = group.members.size - (group.members.has(request.memberId) ? 1 : 0);
    if (others === 0) return true;
    const offered = new Set(request.protocols.map((p) => p.name));
    return this.commonProtocols(group, request.memberId).some((name) => offered.has(name));
  }

  /** Protocol names every member (other than `except`) supports, in the first member's order. */
  private commonProtocols(group: Group, except = ''): string[] {
    let common: string[] | undefined;
    for (const member of group.members.values()) {
      if (member.memberId === except) continue;
      const names = member.protocols.map((p) => p.name);
      common = common === undefined ? names : common.filter((n) => names.includes(n));
    }
    return common ?? [];
  }

  private joinNewMember(group: Group, request: JoinGroupRequest): Promise<JoinGroupResult> {
    const memberId = `${request.clientId}-${randomUUID()}`;
    if (!request.requireKnownMemberId) return this.addMemberAndRebalance(group, request, memberId);
    group.pending.set(
      memberId,
      this.clock.setTimeout(() => {
        group.pending.delete(memberId);
        this.maybeCompleteJoin(group);
      }, request.sessionTimeoutMs),
    );
    group.protocolType ??= request.protocolType;
    return Promise.resolve(this.joinError(group, memberId, 'MEMBER_ID_REQUIRED'));
  }

  private addMemberAndRebalance(group: Group, request: JoinGroupRequest, memberId: string): Promise<JoinGroupResult> {
    const member: Member = {
      memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      clientId: request.clientId,
      clientHost: request.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocols: request.protocols,
      assignment: EMPTY,
      owned: [],
    };
    group.members.set(memberId, member);
    group.protocolType ??= request.protocolType;
    this.resetSession(group, member);
    return new Promise((resolve) => {
      member.awaitingJoin = resolve;
      if (group.state === 'PreparingRebalance') this.extendInitialDelay(group);
      else this.prepareRebalance(group, `member ${memberId} joined`);
      this.maybeCompleteJoin(group);
    });
  }

  private rejoin(group: Group, member: Member, request: JoinGroupRequest): Promise<JoinGroupResult> {
    const changed = !sameProtocols(member.protocols, request.protocols);
    member.protocols = request.protocols;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.clientId = request.clientId;
    member.clientHost = request.clientHost;
    this.resetSession(group, member);
    const unchangedFollower = !changed && (member.memberId !== group.leaderId || group.mode === 'server');
    if ((group.state === 'Stable' || group.state === 'CompletingRebalance') && unchangedFollower) {
      return Promise.resolve(this.joinResult(group, member));
    }
    return new Promise((resolve) => {
      member.awaitingJoin?.(this.joinError(group, member.memberId, 'UNKNOWN_MEMBER'));
      member.awaitingJoin = resolve;
      if (group.state !== 'PreparingRebalance') this.prepareRebalance(group, `member ${member.memberId} rejoined${changed ? ' with new metadata' : ''}`);
      this.maybeCompleteJoin(group);
    });
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'CompletingRebalance') {
      for (const member of group.members.values()) {
        member.awaitingSync?.(syncError('REBALANCE_IN_PROGRESS'));
        member.awaitingSync = undefined;
      }
    }
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    const now = this.clock.now();
    let timeout = 0;
    for (const member of group.members.values()) timeout = Math.max(timeout, member.rebalanceTimeoutMs);
    group.rebalanceDeadline = now + timeout;
    group.delayUntil = wasEmpty ? Math.min(now + this.config.groups.initialRebalanceDelayMs, group.rebalanceDeadline) : 0;
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ group: group.groupId, reason }, 'preparing rebalance');
  }

  private extendInitialDelay(group: Group): void {
    const now = this.clock.now();
    if (group.delayUntil > now) group.delayUntil = Math.min(now + this.config.groups.initialRebalanceDelayMs, group.rebalanceDeadline);
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    group.joinTimer?.cancel();
    group.joinTimer = undefined;
    const now = this.clock.now();
    let allJoined = group.pending.size === 0;
    for (const member of group.members.values()) if (!member.awaitingJoin) allJoined = false;
    if (now >= group.rebalanceDeadline || (allJoined && now >= group.delayUntil)) {
      this.completeJoin(group);
      return;
    }
    const wakeAt = allJoined ? group.delayUntil : group.rebalanceDeadline;
    group.joinTimer = this.clock.setTimeout(() => this.maybeCompleteJoin(group), wakeAt - now);
  }

  private completeJoin(group: Group): void {
    for (const member of [...group.members.values()]) if (!member.awaitingJoin) this.dropMember(group, member, 'did not rejoin in time');
    for (const timer of group.pending.values()) timer.cancel();
    group.pending.clear();
    group.generationId++;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocolName = null;
      group.leaderId = '';
      group.emptySince = this.clock.now();
      group.subscribedTopics = new Set();
      return;
    }
    group.protocolName = this.chooseProtocol(group);
    group.subscribedTopics = this.subscribedTopics(group);
    if (!group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!;
    group.state = 'CompletingRebalance';
    if (group.mode === 'server') this.assignOnServer(group);
    for (const member of group.members.values()) {
      const resolve = member.awaitingJoin!;
      member.awaitingJoin = undefined;
      this.resetSession(group, member);
      resolve(this.joinResult(group, member));
    }
    if (group.mode === 'server') this.becomeStable(group);
  }

  private becomeStable(group: Group): void {
    group.state = 'Stable';
    for (const member of group.members.values()) {
      const resolve = member.awaitingSync;
      member.awaitingSync = undefined;
      resolve?.(this.syncResult(group, member));
    }
  }

  /** Kafka's vote: among protocols every member supports, each member votes for its most preferred. */
  private chooseProtocol(group: Group): string {
    const candidates = this.commonProtocols(group);
    if (group.mode === 'server') {
      const chosen = this.adapters.get(group.protocolType ?? '')?.serverProtocol(candidates);
      if (chosen !== undefined) return chosen;
    }
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
    for (const member of group.members.values()) {
      const preferred = member.protocols.find((p) => votes.has(p.name));
      if (preferred) votes.set(preferred.name, votes.get(preferred.name)! + 1);
    }
    let best = candidates[0]!;
    for (const [name, count] of votes) if (count > votes.get(best)!) best = name;
    return best;
  }

  /** Every topic a member subscribes to under the group's protocol; undefined if any member's subscription is unreadable. */
  private subscribedTopics(group: Group): ReadonlySet<string> | undefined {
    const adapter = this.adapters.get(group.protocolType ?? '');
    const topics = new Set<string>();
    for (const member of group.members.values()) {
      const subscription = adapter?.subscription(group.protocolName!, metadataFor(member, group.protocolName));
      if (!subscription) return undefined;
      for (const topic of subscription.topics) topics.add(topic);
    }
    return topics;
  }

  /** Server mode: the configured assignor decides, seeded with what each member owned before. */
  private assignOnServer(group: Group): void {
    const adapter = this.adapters.get(group.protocolType ?? '');
    const protocolName = group.protocolName!;
    const inputs: AssignmentMember[] = [];
    const partitionsPerTopic = new Map<string, number>();
    for (const member of group.members.values()) {
      const subscription = adapter?.subscription(protocolName, metadataFor(member, protocolName));
      const topics = subscription?.topics ?? [];
      for (const topic of topics) {
        const descriptor = this.topics.get(topic);
        if (descriptor) partitionsPerTopic.set(topic, descriptor.partitions);
      }
      const owned = subscription && subscription.owned.length > 0 ? subscription.owned : member.owned;
      inputs.push({ id: member.memberId, subscriptions: topics, owned, generation: subscription?.generation ?? group.generationId - 1 });
    }
    const assignment = this.assignors.default.assign({ members: inputs, partitionsPerTopic });
    for (const member of group.members.values()) {
      const mine: MemberAssignment = assignment.get(member.memberId) ?? new Map();
      member.owned = [...mine].flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));
      member.assignment = adapter ? adapter.encodeAssignment(protocolName, mine, metadataFor(member, protocolName)) : EMPTY;
    }
  }

  private removeMember(group: Group, memberId: string, reason: string): void {
    const member = group.members.get(memberId);
    if (!member) return;
    this.dropMember(group, member, reason);
    if (group.state === 'Stable' || group.state === 'CompletingRebalance') this.prepareRebalance(group, `member ${memberId} ${reason}`);
    this.maybeCompleteJoin(group);
  }

  private dropMember(group: Group, member: Member, reason: string): void {
    member.sessionTimer?.cancel();
    group.members.delete(member.memberId);
    member.awaitingJoin?.(this.joinError(group, member.memberId, 'UNKNOWN_MEMBER'));
    member.awaitingSync?.(syncError('UNKNOWN_MEMBER'));
    if (this.logger.isLevelEnabled('debug')) this.logger.debug({ group: group.groupId, member: member.memberId, reason }, 'member removed');
  }

  private resetSession(group: Group, member: Member): void {
    member.sessionTimer?.cancel();
    member.sessionTimer = this.clock.setTimeout(() => {
      member.sessionTimer = undefined;
      if (group.members.get(member.memberId) !== member) return;
      if (member.awaitingJoin || member.awaitingSync) return this.resetSession(group, member);
      this.removeMember(group, member.memberId, 'session expired');
    }, member.sessionTimeoutMs);
  }

  private onTopicChange(event: TopicEvent): void {
    if (event.type !== 'partitions' && event.type !== 'deleted' && event.type !== 'created') return;
    for (const group of this.groups.values()) {
      if (group.state !== 'Stable' && group.state !== 'CompletingRebalance') continue;
      const adapter = this.adapters.get(group.protocolType ?? '');
      const subscribed = [...group.members.values()].some((m) =>
        adapter?.subscription(group.protocolName ?? '', metadataFor(m, group.protocolName))?.topics.includes(event.topic.name),
      );
      if (subscribed) {
        this.prepareRebalance(group, `topic ${event.topic.name} ${event.type}`);
        this.maybeCompleteJoin(group);
      }
    }
  }

  private scheduleOffsetExpiry(): void {
    this.expiryTimer = this.clock.setTimeout(() => {
      this.expireOffsets()
        .then((expired) => {
          if (expired.length > 0) this.logger.info({ groups: expired }, 'expired the offsets of empty groups');
        })
        .catch((err: unknown) => this.logger.error({ err }, 'offset expiry failed'))
        .finally(() => {
          if (this.expiryTimer) this.scheduleOffsetExpiry();
        });
    }, this.config.groups.offsetsRetentionCheckIntervalMs);
  }

  private joinResult(group: Group, member: Member): JoinGroupResult {
    const leaderId = group.mode === 'server' ? '' : group.leaderId;
    const isLeader = leaderId !== '' && member.memberId === leaderId;
    return {
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId,
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: metadataFor(m, group.protocolName) }))
        : [],
    };
  }

  private joinError(group: Group | undefined, memberId: string, error: ErrorCode): JoinGroupResult {
    return {
      error,
      generationId: -1,
      protocolType: group?.protocolType ?? null,
      protocolName: null,
      leaderId: '',
      memberId,
      members: [],
    };
  }

  private syncResult(group: Group, member: Member): SyncGroupResult {
    return { protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }
}

function syncError(error: ErrorCode): SyncGroupResult {
  return { error, protocolType: null, protocolName: null, assignment: EMPTY };
}

function metadataFor(member: Member, protocolName: string | null): Buffer {
  return member.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY;
}

function sameProtocols(a: readonly ProtocolOffer[], b: readonly ProtocolOffer[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}
