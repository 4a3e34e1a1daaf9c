export { del, delPrefix, put, type Condition, type CoordinationBackend, type Operation, type StoredKey, type TxnResult, type Watch, type WatchEvent, type WatchListener } from './coordination.ts';
export { MemoryCoordination, MemoryCoordinationStore } from './memory-coordination.ts';
