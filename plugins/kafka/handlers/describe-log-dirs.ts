import fs from 'node:fs';
import path from 'node:path';
import type { DescribeLogDirsRequest, DescribeLogDirsResponse, DescribeLogDirsResponseDescribeLogDirsTopic } from '../codec/index.ts';
import { KafkaError } from '../error-codes.ts';
import type { Handler, KafkaContext } from '../kafka-context.ts';
import { CLUSTER_NAME } from '../security/acl-codes.ts';

/** Kafka's value for a size it cannot tell (DescribeLogDirsResult TotalBytes/UsableBytes default). */
const UNKNOWN_BYTES = -1;

/**
 * One log directory, the data directory, with every partition replica this broker holds there (all of
 * them, or those asked for): its size and how far its log end is behind the high watermark. On storage
 * without a disk the directory is named `memory` and its sizes are unknown. Needs DESCRIBE on the cluster:
 * without it, as Kafka, no directory (and from v3 CLUSTER_AUTHORIZATION_FAILED).
 */
export const handleDescribeLogDirs: Handler<DescribeLogDirsRequest, DescribeLogDirsResponse> = async (ctx, request, header, connection) => {
  if (!connection.session.allows('describe', 'cluster', CLUSTER_NAME)) {
    return { throttleTimeMs: 0, errorCode: header.apiVersion >= 3 ? KafkaError.CLUSTER_AUTHORIZATION_FAILED : KafkaError.NONE, results: [] };
  }
  const onDisk = ctx.disk.freeBytes !== undefined;
  const logDir = onDisk ? path.resolve(ctx.brokerConfig.dataDir) : 'memory';
  const { totalBytes, usableBytes } = onDisk ? await volume(logDir) : { totalBytes: UNKNOWN_BYTES, usableBytes: UNKNOWN_BYTES };
  return {
    throttleTimeMs: 0,
    errorCode: KafkaError.NONE,
    results: [{ errorCode: KafkaError.NONE, logDir, topics: describeReplicas(ctx, request.topics), totalBytes, usableBytes }],
  };
};

function describeReplicas(ctx: KafkaContext, requested: DescribeLogDirsRequest['topics']): DescribeLogDirsResponseDescribeLogDirsTopic[] {
  // Per topic, which partitions are wanted: a flag per partition, so a request naming many (or the same ones twice) costs no more.
  const wanted = new Map<string, Uint8Array>();
  for (const topic of requested ?? ctx.topics.list().map((t) => ({ topic: t.name, partitions: undefined }))) {
    const count = ctx.visibleTopic(topic.topic)?.partitions;
    if (count === undefined) continue;
    const flags = wanted.get(topic.topic) ?? new Uint8Array(count);
    if (topic.partitions === undefined) flags.fill(1);
    else for (const p of topic.partitions) if (p >= 0 && p < count) flags[p] = 1;
    wanted.set(topic.topic, flags);
  }
  const topics: DescribeLogDirsResponseDescribeLogDirsTopic[] = [];
  for (const [name, flags] of wanted) {
    const partitions = [];
    for (let partitionIndex = 0; partitionIndex < flags.length; partitionIndex++) {
      const log = flags[partitionIndex] ? ctx.topics.log(name, partitionIndex) : undefined;
      if (log) partitions.push({ partitionIndex, partitionSize: log.size, offsetLag: Math.max(log.highWatermark - log.logEndOffset, 0), isFutureKey: false });
    }
    if (partitions.length > 0) topics.push({ name, partitions });
  }
  return topics;
}

async function volume(dir: string): Promise<{ totalBytes: number; usableBytes: number }> {
  try {
    const { blocks, bavail, bsize } = await fs.promises.statfs(dir);
    return { totalBytes: blocks * bsize, usableBytes: bavail * bsize };
  } catch {
    return { totalBytes: UNKNOWN_BYTES, usableBytes: UNKNOWN_BYTES };
  }
}
