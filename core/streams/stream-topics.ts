import { BrokerError } from '../errors.ts';

/**
 * A RabbitMQ stream is a topic with one partition. Stream `S` of the default vhost `/` is topic `S`
 * (so Kafka clients read and write it); in another vhost `V` it is topic `V/S`, which Kafka clients
 * cannot name.
 */
export function streamTopic(vhost: string, stream: string): string {
  return vhost === '/' ? stream : `${vhost}/${stream}`;
}

/** The stream a topic is in `vhost`, or undefined when the topic belongs to another vhost. */
export function streamOfTopic(vhost: string, topic: string): string | undefined {
  if (vhost === '/') return topic;
  const prefix = `${vhost}/`;
  return topic.startsWith(prefix) ? topic.slice(prefix.length) : undefined;
}

/** The topic attribute that marks a topic as a stream (what declared it), and super-stream membership. */
export const STREAM_ATTRIBUTE = 'stream';

export interface StreamAttributes {
  /** The vhost that declared the stream. */
  vhost?: string;
  /** The super stream this stream is a partition of. */
  superStream?: string;
  /** Its binding key in the super stream's exchange. */
  bindingKey?: string;
  /** Its place among the super stream's partitions (x-super-stream-partition-order). */
  partitionOrder?: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { Y: 365 * 86_400_000, M: 30 * 86_400_000, D: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 };

/** RabbitMQ's `x-max-age` (`7D`, `12h`, ...: a positive integer and one of Y M D h m s) in milliseconds, or undefined when invalid. */
export function parseMaxAge(text: string): number | undefined {
  const match = /^([0-9]+)(.*)$/s.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = UNIT_MS[match[2]!];
  return value > 0 && unit !== undefined && Number.isSafeInteger(value * unit) ? value * unit : undefined;
}

/** A stream's retention and segment arguments, validated. */
export interface StreamArguments {
  maxAgeMs?: number;
  maxLengthBytes?: number;
  maxSegmentSizeBytes?: number;
}

/** The topic config a stream's arguments mean: x-max-age → retentionMs, x-max-length-bytes → retentionBytes, x-stream-max-segment-size-bytes → segmentBytes. */
export function streamTopicConfig(args: StreamArguments): Record<string, number> {
  const config: Record<string, number> = {};
  if (args.maxAgeMs !== undefined) config.retentionMs = args.maxAgeMs;
  if (args.maxLengthBytes !== undefined) config.retentionBytes = args.maxLengthBytes;
  if (args.maxSegmentSizeBytes !== undefined) config.segmentBytes = Math.max(args.maxSegmentSizeBytes, 1);
  return config;
}

/** A stream name RabbitMQ accepts: not empty and not starting `amq.` (after dropping CR and LF, as it does). */
export function checkStreamName(name: string): string {
  const stripped = name.replace(/[\r\n]/g, '');
  if (stripped === '' || stripped.startsWith('amq.')) throw new BrokerError('INVALID_TOPIC', `stream name ${JSON.stringify(name)} is not valid`);
  return stripped;
}
