export { ManualClock } from './manual-clock.ts';
export { runStorageConformance, type StorageHarness, type StorageHarnessFactory } from './storage.ts';
export { checkAssignment, minimalMoves, runAssignorConformance, type AssignorConformanceOptions } from './assignor.ts';
export { runCoordinationConformance, type CoordinationHarness, type CoordinationHarnessFactory } from './coordination.ts';
export { memoryCoordination } from './memory-coordination-plugin.ts';
