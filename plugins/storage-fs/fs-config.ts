import { connectionsWithin, field, type OpenFileLimit, type ValuesOf } from '../../core/index.ts';
import { TRANSIENT_OPENS } from './fs-segment-store.ts';

export const fsConfigFields = {
  openFiles: field.integer(
    0,
    'segment files storage-fs keeps open at once (the least recently used is closed, and reopened when next used); 0: what the open-file limit leaves after --max-connections, less 64 for the process and 16 for short-lived files',
    { min: 0 },
  ),
} as const;

export type FsSettings = ValuesOf<typeof fsConfigFields>;

/** Descriptors of the process that are neither connections nor storage-fs files: stdio, the event loop, listeners, the lock. */
const PROCESS_DESCRIPTORS = 64;
const MIN_OPEN_FILES = 16;

/**
 * The segment files storage-fs may hold open: the open-file limit less the connections the listeners may
 * hold (`connections`, Infinity when unbounded), the process's own descriptors and the short-lived opens;
 * unbounded where the limit is unknown.
 */
export function segmentFilesWithin(openFiles: OpenFileLimit | undefined, connections: number): number {
  if (!openFiles || !Number.isFinite(openFiles.soft)) return Infinity;
  const held = Number.isFinite(connections) ? connections : connectionsWithin(openFiles);
  return Math.max(MIN_OPEN_FILES, openFiles.soft - held - PROCESS_DESCRIPTORS - TRANSIENT_OPENS);
}
