import path from 'node:path';
import { ContainerModule } from 'inversify';
import { definePlugin, TOKENS, type SegmentStore } from '../../core/index.ts';
import { DataDirLock } from './data-dir-lock.ts';
import { FsSegmentStore } from './fs-segment-store.ts';

export { FsSegmentFile, FsSegmentStore } from './fs-segment-store.ts';

/** Segment files under the configured `dataDir` (or `options.dir`), one directory per partition log. */
export function fsStorage(options: { dir?: string } = {}) {
  let lock: DataDirLock | undefined;
  return definePlugin({
    name: 'storage-fs',
    provides: [TOKENS.SegmentStore],
    module: ({ config }) =>
      new ContainerModule(({ bind }) => {
        const dir = path.resolve(options.dir ?? config.dataDir);
        lock = new DataDirLock(dir);
        bind<SegmentStore>(TOKENS.SegmentStore).toConstantValue(new FsSegmentStore(dir));
      }),
    start: () => lock?.acquire(),
    stop: () => lock?.release(),
  });
}
