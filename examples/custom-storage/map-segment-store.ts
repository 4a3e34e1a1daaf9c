import type { SegmentFile, SegmentStore } from '../../core/index.ts';
import { BrokerError } from '../../core/index.ts';

/** A segment file as a list of appended chunks. Reads copy only when they span chunks. */
class ChunkListFile implements SegmentFile {
  private chunks: Buffer[] = [];
  size = 0;

  constructor(readonly name: string) {}

  append(data: Buffer | readonly Buffer[]): void {
    for (const chunk of Buffer.isBuffer(data) ? [data] : data) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
  }

  read(position: number, length: number): Buffer {
    const end = Math.min(position + length, this.size);
    const parts: Buffer[] = [];
    let at = 0;
    for (const chunk of this.chunks) {
      const from = Math.max(position - at, 0);
      const to = Math.min(end - at, chunk.length);
      if (from < to) parts.push(chunk.subarray(from, to));
      at += chunk.length;
      if (at >= end) break;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  truncate(size: number): void {
    let at = 0;
    const kept: Buffer[] = [];
    for (const chunk of this.chunks) {
      if (at >= size) break;
      kept.push(chunk.subarray(0, Math.min(chunk.length, size - at)));
      at += chunk.length;
    }
    this.chunks = kept;
    this.size = Math.min(this.size, size);
  }

  async sync(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * A user-written SegmentStore: logs are keys of a Map. Twenty lines of contract are all a storage
 * backend needs; the segmented log, indexes, retention and recovery come from the core.
 */
export class MapSegmentStore implements SegmentStore {
  readonly durable = false;
  readonly description = 'map (example)';
  readonly files = new Map<string, ChunkListFile>();
  private readonly small = new Map<string, Buffer>();

  async listLogs(): Promise<string[]> {
    return [...new Set([...this.files.keys(), ...this.small.keys()].map((key) => key.split('/')[0]!))];
  }
  async listFiles(log: string): Promise<string[]> {
    return [...this.files.keys(), ...this.small.keys()].filter((key) => key.startsWith(`${log}/`)).map((key) => key.slice(log.length + 1));
  }
  async openFile(log: string, name: string): Promise<SegmentFile> {
    const file = this.files.get(`${log}/${name}`);
    if (!file) throw new BrokerError('NOT_FOUND', `${log}/${name}`);
    return file;
  }
  createFile(log: string, name: string): SegmentFile {
    const file = new ChunkListFile(name);
    this.files.set(`${log}/${name}`, file);
    return file;
  }
  async readFile(log: string, name: string): Promise<Buffer | undefined> {
    return this.small.get(`${log}/${name}`);
  }
  async replaceFile(log: string, name: string, data: Buffer): Promise<void> {
    this.small.set(`${log}/${name}`, Buffer.from(data));
  }
  async deleteFile(log: string, name: string): Promise<void> {
    this.files.delete(`${log}/${name}`);
    this.small.delete(`${log}/${name}`);
  }
  async renameFile(log: string, from: string, to: string): Promise<void> {
    const file = this.files.get(`${log}/${from}`);
    const small = this.small.get(`${log}/${from}`);
    if (!file && !small) throw new BrokerError('NOT_FOUND', `${log}/${from}`);
    await this.deleteFile(log, to);
    await this.deleteFile(log, from);
    if (file) this.files.set(`${log}/${to}`, file);
    else this.small.set(`${log}/${to}`, small!);
  }
  async deleteLog(log: string): Promise<void> {
    for (const key of [...this.files.keys(), ...this.small.keys()]) {
      if (key.startsWith(`${log}/`)) await this.deleteFile(log, key.slice(log.length + 1));
    }
  }
  async close(): Promise<void> {}
}
