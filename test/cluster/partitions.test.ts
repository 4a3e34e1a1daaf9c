import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/kafka.ts';
import { NetnsCluster } from '../helpers/netns-cluster.ts';
import { hasProgram } from '../helpers/programs.ts';

/**
 * Network partitions (the cluster reference's faults 5–6): three broker processes on 127.0.0.2–4 and etcd,
 * all in a network namespace of the test's own, where iptables drops the packets between brokers and a
 * fault proxy stands between each broker and etcd. Clients keep reaching every broker.
 */
const enabled = hasProgram('etcd', 'the network-partition tests') && hasProgram('netns', 'the network-partition tests') && hasProgram('iptables', 'the network-partition tests');
const LEASE_MS = 2000;
const NOT_ENOUGH_REPLICAS = 19;
let cluster: NetnsCluster;

beforeAll(async () => {
  if (!enabled) return;
  cluster = await NetnsCluster.start({ leaseTtlMs: LEASE_MS, flags: ['--replication-lag-max-ms', '3000'] });
}, 120_000);

afterAll(async () => {
  if (enabled) await cluster?.stop();
});

afterEach(async (context) => {
  if (!enabled) return;
  if (context.task.result?.state === 'fail') console.error(await cluster.call('logTail'));
  await cluster.call('heal');
});

const others = (node: number) => [1, 2, 3].filter((n) => n !== node);

/** Every acknowledged value is in the log exactly once, in the order acknowledged. */
function expectAllAcknowledged(log: string[], acked: string[]): void {
  expect(new Set(log).size).toBe(log.length);
  const position = new Map(log.map((v, i) => [v, i]));
  expect(acked.filter((v) => !position.has(v))).toEqual([]);
  const positions = acked.map((v) => position.get(v)!);
  expect(positions.every((p, i) => i === 0 || p > positions[i - 1]!)).toBe(true);
}

describe.skipIf(!enabled)('network partitions (etcd + 3 broker processes in a private network namespace)', () => {
  it('a leader cut off from its followers and from etcd acknowledges nothing more; a new leader takes over; healed, the old one truncates and rejoins; nothing acknowledged is lost', async () => {
    await cluster.call('createTopic', { topic: 'split', minIsr: 2 });
    await eventually(async () => (await cluster.describe('split')).isr.length === 3, 30_000, 'split fully in sync');
    const { leader } = await cluster.describe('split');
    await cluster.call('startLoad', { topic: 'split', prefix: 'before-' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = await cluster.call<{ acked: string[] }>('stopLoad');
    expect(before.acked.length).toBeGreaterThan(0);

    for (const other of others(leader)) await cluster.call('cut', { a: leader, b: other });
    await cluster.call('cutFromEtcd', { node: leader });
    // The clients can still reach the old leader: it must not acknowledge what its followers never got.
    const zombie = await cluster.call<number | 'timeout'>('produceTo', { node: leader, topic: 'split', value: 'zombie', acks: -1, timeoutMs: 3000 });
    expect(zombie).not.toBe(0);
    await cluster.call('markIsolated', { node: leader });
    await eventually(async () => {
      const view = await cluster.describe('split');
      return view.leader !== leader && view.leader > 0;
    }, 30_000, 'a new leader on the majority side');
    await cluster.call('startLoad', { topic: 'split', prefix: 'during-' });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const during = await cluster.call<{ acked: string[] }>('stopLoad');
    expect(during.acked.length).toBeGreaterThan(0);
    // Long past its lease, the old leader still refuses: it knows it may no longer lead.
    expect(await cluster.call('produceTo', { node: leader, topic: 'split', value: 'zombie-late', acks: 1, timeoutMs: 2000 })).not.toBe(0);

    await cluster.call('heal');
    await eventually(async () => (await cluster.describe('split')).isr.length === 3, 60_000, 'the old leader back in the ISR');
    const log = await cluster.call<string[]>('read', { topic: 'split' });
    expectAllAcknowledged(log, [...before.acked, ...during.acked]);
    expect(log).not.toContain('zombie');
    expect(log).not.toContain('zombie-late');
    // Every copy, the old leader's included, converges on that log.
    await eventually(async () => {
      const copies = await Promise.all([1, 2, 3].map((node) => cluster.call<string[]>('replicaValues', { topic: 'split', node })));
      return copies.every((copy) => JSON.stringify(copy) === JSON.stringify(log));
    }, 30_000, 'three identical replicas');
  }, 180_000);

  it('a leader cut off from its followers but not from etcd shrinks the ISR and refuses acks=all with NOT_ENOUGH_REPLICAS; healed, the followers rejoin', async () => {
    await cluster.call('createTopic', { topic: 'minority', minIsr: 2 });
    await eventually(async () => (await cluster.describe('minority')).isr.length === 3, 30_000, 'minority fully in sync');
    const { leader } = await cluster.describe('minority');
    expect(await cluster.call('produceTo', { node: leader, topic: 'minority', value: 'whole', acks: -1, timeoutMs: 5000 })).toBe(0);
    for (const other of others(leader)) await cluster.call('cut', { a: leader, b: other });
    await eventually(async () => (await cluster.describe('minority', leader)).isr.join() === String(leader), 30_000, 'the ISR down to the leader');
    expect((await cluster.describe('minority')).leader).toBe(leader);
    expect(await cluster.call('produceTo', { node: leader, topic: 'minority', value: 'alone', acks: -1, timeoutMs: 5000 })).toBe(NOT_ENOUGH_REPLICAS);
    await cluster.call('heal');
    await eventually(async () => (await cluster.describe('minority')).isr.length === 3, 60_000, 'the followers back in the ISR');
    expect(await cluster.call('produceTo', { node: leader, topic: 'minority', value: 'healed', acks: -1, timeoutMs: 5000 })).toBe(0);
    expect(await cluster.call('read', { topic: 'minority' })).toEqual(['whole', 'healed']);
  }, 180_000);
});
