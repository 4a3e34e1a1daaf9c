import { ContainerModule } from 'inversify';
import type { CoordinationBackend } from '../cluster/coordination.ts';
import type { MemoryCoordinationStore } from '../cluster/memory-coordination.ts';
import { definePlugin } from '../plugin.ts';
import { TOKENS } from '../tokens.ts';

/** Cluster mode in one process: each broker gets its own client of a shared in-memory coordination store. */
export function memoryCoordination(store: MemoryCoordinationStore, leaseTtlMs = 2000) {
  return definePlugin({
    name: 'coordination-memory',
    provides: [TOKENS.Coordination],
    module: () => new ContainerModule(({ bind }) => void bind<CoordinationBackend>(TOKENS.Coordination).toConstantValue(store.client(leaseTtlMs))),
  });
}
