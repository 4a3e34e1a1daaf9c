import type { GroupProtocolAdapter, MemberAssignment, MemberSubscription } from '../../core/index.ts';
import { decodeConsumerProtocolSubscription, encodeConsumerProtocolAssignment, Reader, Writer } from './codec/index.ts';

/** Eager assignor names clients know; the broker answers with one of these when it assigns (librdkafka insists). */
const EAGER_PROTOCOLS = ['range', 'roundrobin', 'RoundRobinAssigner', 'RangeAssigner', 'sticky'];

/** Kafka's `consumer` protocol type: ConsumerProtocol subscription and assignment bytes. */
export const consumerProtocolAdapter: GroupProtocolAdapter = {
  protocolType: 'consumer',

  subscription(_protocolName: string, metadata: Buffer): MemberSubscription | undefined {
    try {
      const r = new Reader(metadata);
      const version = Math.min(r.int16(), 3);
      const s = decodeConsumerProtocolSubscription(r, version);
      return {
        topics: s.topics,
        owned: s.ownedPartitions.flatMap((o) => o.partitions.map((partition) => ({ topic: o.topic, partition }))),
        generation: version >= 2 && s.generationId >= 0 ? s.generationId : undefined,
      };
    } catch {
      return undefined;
    }
  },

  serverProtocol(common: readonly string[]): string | undefined {
    return EAGER_PROTOCOLS.find((name) => common.includes(name)) ?? common[0];
  },

  encodeAssignment(_protocolName: string, assignment: MemberAssignment, memberMetadata: Buffer): Buffer {
    const version = memberMetadata.length >= 2 && memberMetadata.readInt16BE(0) >= 1 ? 1 : 0;
    const w = new Writer(64);
    w.int16(version);
    encodeConsumerProtocolAssignment(w, version, {
      assignedPartitions: [...assignment].map(([topic, partitions]) => ({ topic, partitions: [...partitions] })),
      userData: null,
    });
    return Buffer.concat(w.finish());
  },
};
