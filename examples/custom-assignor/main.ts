/**
 * A group assigned by a user-written assignor, loaded as a plugin.
 * Run: npx tsx examples/custom-assignor/main.ts
 */
import { createBroker, TOKENS, type GroupCoordinator, type GroupProtocolAdapter, type TopicRegistry } from '../../core/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { consistentHashAssignorPlugin } from './plugin.ts';

const broker = await createBroker({
  plugins: [memoryStorage(), consistentHashAssignorPlugin],
  config: { logLevel: 'warn', groups: { assignor: 'consistent-hash', initialRebalanceDelayMs: 50 } },
});
await broker.start();
await broker.get<TopicRegistry>(TOKENS.TopicRegistry).create('orders', { partitions: 12 });

// Members describe their subscriptions as JSON here; the Kafka plugin registers the real ConsumerProtocol adapter.
const coordinator = broker.get<GroupCoordinator>(TOKENS.GroupCoordinator);
const adapter: GroupProtocolAdapter = {
  protocolType: 'example',
  subscription: (_name, metadata) => ({ topics: JSON.parse(metadata.toString()) as string[], owned: [] }),
  serverProtocol: (common) => common[0],
  encodeAssignment: (_name, assignment) => Buffer.from(JSON.stringify(Object.fromEntries(assignment))),
};
coordinator.registerAdapter(adapter);

const join = (clientId: string) =>
  coordinator.join({
    groupId: 'billing',
    memberId: '',
    clientId,
    clientHost: 'local',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    protocolType: 'example',
    protocols: [{ name: 'json', metadata: Buffer.from('["orders"]') }],
    requireKnownMemberId: false,
    assignmentMode: 'server',
  });

const joined = await Promise.all(['alpha', 'beta', 'gamma'].map(join));
for (const member of joined.sort((a, b) => (a.memberId < b.memberId ? -1 : 1))) {
  const { assignment } = await coordinator.sync({ groupId: 'billing', memberId: member.memberId, generationId: member.generationId });
  console.log(`${member.memberId.split('-')[0]}: ${assignment.toString()}`);
}
await broker.stop();
