import path from 'node:path';
import { ContainerModule } from 'inversify';
import { definePlugin, TOKENS, type ConnectionBudget, type SegmentStore } from '../../core/index.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { fsConfigFields, segmentFilesWithin } from './fs-config.ts';
import { FsSegmentStore } from './fs-segment-store.ts';

export { FsSegmentFile, FsSegmentStore } from './fs-segment-store.ts';
export { segmentFilesWithin } from './fs-config.ts';

/**
 * Segment files under the configured `dataDir` (or `options.dir`), one directory per partition log, at most
 * `--fs-open-files` of them holding a descriptor at once (by default what the open-file limit leaves).
 */
export function fsStorage(options: { dir?: string } = {}) {
  let lock: DataDirLock | undefined;
  return definePlugin({
    name: 'storage-fs',
    provides: [TOKENS.SegmentStore],
    config: { name: 'fs', fields: fsConfigFields },
    module: ({ config, section }) =>
      new ContainerModule(({ bind }) => {
        const dir = path.resolve(options.dir ?? config.dataDir);
        lock = new DataDirLock(dir);
        bind<SegmentStore>(TOKENS.SegmentStore)
          .toDynamicValue(({ get }) => {
            const budget = get<ConnectionBudget>(TOKENS.ConnectionBudget);
            return new FsSegmentStore(dir, { openFiles: section.openFiles || segmentFilesWithin(budget.openFiles, budget.limit) });
          })
          .inSingletonScope();
      }),
    start: () => lock?.acquire(),
    stop: () => lock?.release(),
  });
}
