export { del, delPrefix, put, type Condition, type CoordinationBackend, type Operation, type StoredKey, type TxnResult, type Watch, type WatchEvent, type WatchListener } from './coordination.ts';
export { MemoryCoordination, MemoryCoordinationStore } from './memory-coordination.ts';
export { CoordinatedMap } from './coordinated-map.ts';
export type { Cluster, ClusterTopicStore } from './cluster.ts';
export type { ClusterChange } from './cluster-state.ts';
export type { BrokerRegistration, Endpoint, IsrEntry, LiveBroker, PartitionState } from './cluster-model.ts';
