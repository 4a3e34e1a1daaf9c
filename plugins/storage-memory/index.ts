import { ContainerModule } from 'inversify';
import { definePlugin, TOKENS, type SegmentStore } from '../../core/index.ts';
import { MemorySegmentStore } from './memory-segment-store.ts';

export { MemorySegmentFile, MemorySegmentStore } from './memory-segment-store.ts';

/** Keeps every segment in memory: fast, and with no durability at all. */
export function memoryStorage() {
  return definePlugin({
    name: 'storage-memory',
    provides: [TOKENS.SegmentStore],
    module: () =>
      new ContainerModule(({ bind }) => {
        bind<SegmentStore>(TOKENS.SegmentStore).toConstantValue(new MemorySegmentStore());
      }),
  });
}
