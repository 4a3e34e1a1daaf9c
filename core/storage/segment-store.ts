/**
 * The byte seam a storage plugin implements: named files grouped in log directories.
 * Data-plane calls (append, read, truncate) are synchronous so a log can assign offsets and write
 * bytes in call order without locks; control-plane calls are asynchronous.
 */
export interface SegmentStore {
  /** False for stores that lose everything when the process ends (memory). */
  readonly durable: boolean;
  /** A short description for the readiness line, e.g. `fs ./data`. */
  readonly description: string;
  listLogs(): Promise<string[]>;
  listFiles(log: string): Promise<string[]>;
  /** Opens an existing file; NOT_FOUND if it does not exist. */
  openFile(log: string, name: string): Promise<SegmentFile>;
  /** Creates an empty file (and its log directory), replacing any file of that name. */
  createFile(log: string, name: string): SegmentFile;
  /** Reads a whole small file written with replaceFile, or undefined if absent. */
  readFile(log: string, name: string): Promise<Buffer | undefined>;
  /**
   * Atomically and durably replaces a small file (checkpoints, indexes). With `syncDirectory: false` the
   * rename is durable only once the caller syncs the directory (a later renameFile does).
   */
  replaceFile(log: string, name: string, data: Buffer, options?: { syncDirectory?: boolean }): Promise<void>;
  deleteFile(log: string, name: string): Promise<void>;
  /**
   * Atomically and durably renames a file, replacing any file named `to`. A SegmentFile open on it
   * stays usable and keeps appending to and reading the renamed file.
   */
  /** With `syncDirectory: false` the rename is durable only once the directory is synced (a later renameFile does). */
  renameFile(log: string, from: string, to: string, options?: { syncDirectory?: boolean }): Promise<void>;
  deleteLog(log: string): Promise<void>;
  /** Free bytes on the store's disk, for stores that have one. */
  freeBytes?(): Promise<number>;
  close(): Promise<void>;
}

export interface SegmentFile {
  readonly name: string;
  readonly size: number;
  /** For a file opened from storage: when it was last written (its mtime), in ms since the epoch, if the store can tell. */
  readonly lastModified?: number;
  /** Appends at the end. The store may keep `data` without copying: callers hand ownership over. */
  append(data: Buffer | readonly Buffer[]): void;
  /** Bytes in [position, min(position + length, size)), contiguous. */
  read(position: number, length: number): Buffer;
  /**
   * Optional: read() into the caller's buffer, from `position`, as many bytes as `target` holds or the file
   * has; returns how many. Stores that allocate for each read offer it to readers that reuse one buffer.
   */
  readInto?(target: Buffer, position: number): number;
  /** True if append() has written or copied `data` when it returns, so the caller may reuse that memory. */
  readonly appendCopies?: boolean;
  truncate(size: number): void;
  /** Resolves once every byte appended before the call is durable. */
  sync(): Promise<void>;
  close(): Promise<void>;
}
