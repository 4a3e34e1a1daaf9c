import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBroker, TOKENS, type Broker, type TopicRegistry } from '../core/index.ts';
import type { GroupCoordinator, GroupProtocolAdapter, JoinGroupRequest, JoinGroupResult, OffsetStore } from '../core/groups/index.ts';
import { ManualClock } from '../core/testing/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';

/** Test members announce their topics as JSON; assignments come back as JSON of topic -> partitions. */
const jsonAdapter: GroupProtocolAdapter = {
  protocolType: 'test',
  subscription: (_name, metadata) => ({ topics: JSON.parse(metadata.toString()) as string[], owned: [] }),
  serverProtocol: (common) => common[0],
  encodeAssignment: (_name, assignment) => Buffer.from(JSON.stringify(Object.fromEntries(assignment))),
};

let clock: ManualClock;
let broker: Broker;
let coordinator: GroupCoordinator;
let topics: TopicRegistry;

async function start(groups: Record<string, unknown> = {}): Promise<void> {
  clock = new ManualClock();
  broker = await createBroker({
    plugins: [memoryStorage()],
    clock,
    config: { logLevel: 'silent', groups: { initialRebalanceDelayMs: 100, minSessionTimeoutMs: 10, ...groups } },
  });
  await broker.start();
  coordinator = broker.get<GroupCoordinator>(TOKENS.GroupCoordinator);
  coordinator.registerAdapter(jsonAdapter);
  topics = broker.get<TopicRegistry>(TOKENS.TopicRegistry);
  await topics.create('t', { partitions: 6 });
}

function request(overrides: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: 'g',
    memberId: '',
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'test',
    protocols: [{ name: 'json', metadata: Buffer.from('["t"]') }],
    requireKnownMemberId: false,
    ...overrides,
  };
}

const settle = () => new Promise((r) => setImmediate(r));

/** Joins members together: the first rebalance of an empty group waits 100 ms for the others. */
async function joinAll(...requests: JoinGroupRequest[]): Promise<JoinGroupResult[]> {
  const results = requests.map((r) => coordinator.join(r));
  await settle();
  clock.advance(100);
  return Promise.all(results);
}

beforeEach(() => start());
afterEach(() => broker.stop());

describe('GroupCoordinator (client-side assignment)', () => {
  it('runs Empty -> PreparingRebalance -> CompletingRebalance -> Stable with the leader assigning', async () => {
    expect(coordinator.describe('g').state).toBe('Dead');
    const [a, b] = await joinAll(request({ clientId: 'a' }), request({ clientId: 'b' }));
    expect(a!.generationId).toBe(1);
    expect(a!.leaderId).toBe(a!.memberId);
    expect(a!.members.map((m) => m.memberId).sort()).toEqual([a!.memberId, b!.memberId].sort());
    expect(b!.members).toEqual([]);
    expect(coordinator.describe('g').state).toBe('CompletingRebalance');

    const followerSync = coordinator.sync({ groupId: 'g', memberId: b!.memberId, generationId: 1 });
    const leaderSync = coordinator.sync({
      groupId: 'g',
      memberId: a!.memberId,
      generationId: 1,
      assignments: new Map([[a!.memberId, Buffer.from('A')], [b!.memberId, Buffer.from('B')]]),
    });
    expect((await leaderSync).assignment.toString()).toBe('A');
    expect((await followerSync).assignment.toString()).toBe('B');
    expect(coordinator.describe('g').state).toBe('Stable');
    expect(coordinator.heartbeat('g', a!.memberId, 1)).toBeUndefined();
    expect(coordinator.heartbeat('g', a!.memberId, 0)).toBe('ILLEGAL_GENERATION');
    expect(coordinator.heartbeat('g', 'nobody', 1)).toBe('UNKNOWN_MEMBER');
  });

  it('asks new members to come back with their id (MEMBER_ID_REQUIRED)', async () => {
    const first = await coordinator.join(request({ requireKnownMemberId: true }));
    expect(first.error).toBe('MEMBER_ID_REQUIRED');
    expect(first.memberId).toMatch(/^client-/);
    const pendingJoin = coordinator.join(request({ requireKnownMemberId: true, memberId: first.memberId }));
    clock.advance(100);
    const second = await pendingJoin;
    expect(second.error).toBeUndefined();
    expect(second.memberId).toBe(first.memberId);
    expect(second.leaderId).toBe(first.memberId);
  });

  it('rebalances when a member joins: heartbeats answer REBALANCE_IN_PROGRESS until everyone rejoins', async () => {
    const [a] = await joinAll(request({ clientId: 'a' }));
    await coordinator.sync({ groupId: 'g', memberId: a!.memberId, generationId: 1, assignments: new Map() });
    const bJoin = coordinator.join(request({ clientId: 'b' }));
    await settle();
    expect(coordinator.describe('g').state).toBe('PreparingRebalance');
    expect(coordinator.heartbeat('g', a!.memberId, 1)).toBe('REBALANCE_IN_PROGRESS');
    const aRejoin = await coordinator.join(request({ memberId: a!.memberId }));
    const b = await bJoin;
    expect(aRejoin.generationId).toBe(2);
    expect(b.generationId).toBe(2);
    expect(aRejoin.leaderId).toBe(a!.memberId);
  });

  it('drops members that do not rejoin within the rebalance timeout', async () => {
    const [a, b] = await joinAll(request({ clientId: 'a', rebalanceTimeoutMs: 5000 }), request({ clientId: 'b', rebalanceTimeoutMs: 5000 }));
    await Promise.all([
      coordinator.sync({ groupId: 'g', memberId: a!.memberId, generationId: 1, assignments: new Map() }),
      coordinator.sync({ groupId: 'g', memberId: b!.memberId, generationId: 1 }),
    ]);
    const cJoin = coordinator.join(request({ clientId: 'c', rebalanceTimeoutMs: 5000 }));
    const aRejoin = coordinator.join(request({ memberId: a!.memberId, rebalanceTimeoutMs: 5000 }));
    await settle();
    clock.advance(4999);
    expect(coordinator.describe('g').state).toBe('PreparingRebalance');
    clock.advance(1);
    const [c, a2] = await Promise.all([cJoin, aRejoin]);
    expect(c.generationId).toBe(2);
    expect(a2.members.map((m) => m.memberId).sort()).toEqual([a!.memberId, c.memberId].sort());
    expect(coordinator.heartbeat('g', b!.memberId, 2)).toBe('UNKNOWN_MEMBER');
  });

  it('removes a member whose session expires, and one that leaves, each with a rebalance', async () => {
    const [a, b] = await joinAll(request({ clientId: 'a', sessionTimeoutMs: 1000 }), request({ clientId: 'b', sessionTimeoutMs: 1000 }));
    await Promise.all([
      coordinator.sync({ groupId: 'g', memberId: a!.memberId, generationId: 1, assignments: new Map() }),
      coordinator.sync({ groupId: 'g', memberId: b!.memberId, generationId: 1 }),
    ]);
    clock.advance(600);
    expect(coordinator.heartbeat('g', a!.memberId, 1)).toBeUndefined();
    clock.advance(600);
    expect(coordinator.describe('g').members.map((m) => m.memberId)).toEqual([a!.memberId]);
    expect(coordinator.heartbeat('g', a!.memberId, 1)).toBe('REBALANCE_IN_PROGRESS');
    const again = await coordinator.join(request({ memberId: a!.memberId, sessionTimeoutMs: 1000 }));
    expect(again.error).toBeUndefined();
    expect(again.generationId).toBe(2);
    expect(coordinator.leave('g', [a!.memberId, 'ghost'])).toEqual([undefined, 'UNKNOWN_MEMBER']);
    expect(coordinator.describe('g').state).toBe('Empty');
    expect(coordinator.describe('g').generationId).toBe(3);
  });

  it('rebalances on a subscription change and on a partition-count change', async () => {
    const [a] = await joinAll(request());
    await coordinator.sync({ groupId: 'g', memberId: a!.memberId, generationId: 1, assignments: new Map() });
    const changed = await coordinator.join(request({ memberId: a!.memberId, protocols: [{ name: 'json', metadata: Buffer.from('["t","u"]') }] }));
    expect(changed.error).toBeUndefined();
    expect(changed.generationId).toBe(2);
    await coordinator.sync({ groupId: 'g', memberId: a!.memberId, generationId: 2, assignments: new Map() });
    expect(coordinator.describe('g').state).toBe('Stable');
    await topics.addPartitions('t', 8);
    expect(coordinator.describe('g').state).toBe('PreparingRebalance');
    expect(coordinator.heartbeat('g', a!.memberId, 2)).toBe('REBALANCE_IN_PROGRESS');
  });

  it('waits for more members before the first rebalance of an empty group', async () => {
    await broker.stop();
    await start({ initialRebalanceDelayMs: 3000 });
    const aJoin = coordinator.join(request({ clientId: 'a' }));
    clock.advance(2000);
    const bJoin = coordinator.join(request({ clientId: 'b' }));
    clock.advance(2999);
    expect(coordinator.describe('g').state).toBe('PreparingRebalance');
    clock.advance(1);
    const [a, b] = await Promise.all([aJoin, bJoin]);
    expect(a.generationId).toBe(1);
    expect(b.generationId).toBe(1);
  });

  it('rejects bad session timeouts, protocol mismatches, stale generations and syncs during a rebalance', async () => {
    expect((await coordinator.join(request({ sessionTimeoutMs: 1 }))).error).toBe('INVALID_SESSION_TIMEOUT');
    const [a] = await joinAll(request());
    expect((await coordinator.join(request({ protocolType: 'other' }))).error).toBe('INCONSISTENT_PROTOCOL');
    expect((await coordinator.join(request({ protocols: [{ name: 'nope', metadata: Buffer.alloc(0) }] }))).error).toBe('INCONSISTENT_PROTOCOL');
    expect((await coordinator.sync({ groupId: 'g', memberId: a!.memberId, generationId: 9 })).error).toBe('ILLEGAL_GENERATION');
    expect((await coordinator.sync({ groupId: 'g', memberId: 'x', generationId: 1 })).error).toBe('UNKNOWN_MEMBER');
    expect(coordinator.validateCommit('g', a!.memberId, 1)).toBe('REBALANCE_IN_PROGRESS');
    expect(coordinator.validateCommit('other', '', -1)).toBeUndefined();
    expect(coordinator.validateCommit('g', '', -1)).toBe('UNKNOWN_MEMBER');
  });
});

describe('GroupCoordinator (server-side assignment)', () => {
  it('answers JoinGroup with no leader and hands out the configured assignor\'s assignment in SyncGroup', async () => {
    const server = (clientId: string) => request({ clientId, assignmentMode: 'server' });
    const [a, b, c] = await joinAll(server('a'), server('b'), server('c'));
    for (const r of [a, b, c]) {
      expect(r!.leaderId).toBe('');
      expect(r!.members).toEqual([]);
    }
    expect(coordinator.describe('g').state).toBe('Stable');
    const assignments = await Promise.all([a, b, c].map((r) => coordinator.sync({ groupId: 'g', memberId: r!.memberId, generationId: 1 })));
    const owned = assignments.map((s) => (JSON.parse(s.assignment.toString()) as Record<string, number[]>).t ?? []);
    expect(owned.map((p) => p.length).sort()).toEqual([2, 2, 2]);
    expect(owned.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);

    coordinator.leave('g', [c!.memberId]);
    const [a2, b2] = await joinAll(request({ memberId: a!.memberId, assignmentMode: 'server' }), request({ memberId: b!.memberId, assignmentMode: 'server' }));
    const after = await Promise.all([a2, b2].map((r) => coordinator.sync({ groupId: 'g', memberId: r!.memberId, generationId: 2 })));
    const ownedAfter = after.map((s) => (JSON.parse(s.assignment.toString()) as Record<string, number[]>).t!);
    expect(ownedAfter.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (let i = 0; i < 2; i++) for (const p of owned[i]!) expect(ownedAfter[i]).toContain(p);
  });
});

describe('offsets through the coordinator', () => {
  it('lists groups that only have offsets, deletes empty groups with their offsets, and expires old ones', async () => {
    const offsets = broker.get<OffsetStore>(TOKENS.OffsetStore);
    await offsets.commit('idle', [{ topic: 't', partition: 0, offset: 5 }]);
    await offsets.commit('old', [{ topic: 't', partition: 1, offset: 7, metadata: 'm' }]);
    expect(coordinator.list().map((g) => g.groupId).sort()).toEqual(['idle', 'old']);
    expect(await coordinator.delete('idle')).toBeUndefined();
    expect(offsets.fetch('idle', 't', 0)).toBeUndefined();
    expect(await coordinator.delete('missing')).toBe('GROUP_NOT_FOUND');
    const [a] = await joinAll(request({ groupId: 'busy' }));
    expect(await coordinator.delete('busy')).toBe('GROUP_NOT_EMPTY');
    expect(a).toBeDefined();
    clock.advance(8 * 24 * 3600 * 1000);
    await settle();
    clock.advance(600_000);
    await settle();
    await settle();
    expect(offsets.fetch('old', 't', 1)).toBeUndefined();
  });
});
