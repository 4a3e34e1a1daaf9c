import { pack, unpack } from 'msgpackr';
import type { TopicDescriptor } from '../topics/topic-registry.ts';

/** Where a broker serves one protocol (or the replication listener), as clients should dial it. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** What a broker registers under its lease. */
export interface BrokerRegistration {
  readonly nodeId: number;
  readonly endpoints: Readonly<Record<string, Endpoint>>;
}

/** A registered (live) broker. Its epoch is the create revision of its registration: new at every registration. */
export interface LiveBroker extends BrokerRegistration {
  readonly epoch: number;
}

/** An in-sync replica: a broker id and the broker epoch it was in sync under (KIP-903). */
export type IsrEntry = readonly [nodeId: number, brokerEpoch: number];

/**
 * One partition's replication state, changed only by compare-and-swap in the coordination store.
 * `leader` is -1 while no in-sync replica is alive (the partition is offline). `version` is the key's
 * mod revision (Kafka's partition epoch): every change bumps it.
 */
export interface PartitionState {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: readonly number[];
  readonly isr: readonly IsrEntry[];
  readonly version: number;
}

export type StoredPartitionState = Omit<PartitionState, 'version'>;

/** The controller's registration; its create revision is the controller epoch. */
export interface ControllerRecord {
  readonly nodeId: number;
  readonly brokerEpoch: number;
}

/** Key layout under the cluster's namespace. */
export const keys = {
  brokers: 'brokers/',
  broker: (nodeId: number): string => `brokers/${nodeId}`,
  controller: 'controller',
  topics: 'topics/',
  topic: (name: string): string => `topics/${name}`,
  partitions: 'partitions/',
  partitionsOf: (topic: string): string => `partitions/${topic}/`,
  partition: (topic: string, partition: number): string => `partitions/${topic}/${partition}`,
  ids: (name: string): string => `ids/${name}`,
  clusterId: 'cluster-id',
} as const;

/** Splits `partitions/<topic>/<p>`; topic names may contain '/', partitions may not. */
export function parsePartitionKey(key: string): { topic: string; partition: number } | undefined {
  if (!key.startsWith(keys.partitions)) return undefined;
  const rest = key.slice(keys.partitions.length);
  const slash = rest.lastIndexOf('/');
  const partition = Number(rest.slice(slash + 1));
  if (slash <= 0 || !Number.isInteger(partition) || partition < 0) return undefined;
  return { topic: rest.slice(0, slash), partition };
}

export const encode = (value: unknown): Buffer => pack(value);
export const decode = <T>(bytes: Buffer): T => unpack(bytes) as T;

/** A cluster topic as stored: the descriptor every broker shares. */
export type ClusterTopic = TopicDescriptor;
