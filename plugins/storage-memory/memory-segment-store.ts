import { BrokerError, type SegmentFile, type SegmentStore } from '../../core/index.ts';

/** Appends at least this large are kept by reference; smaller ones are packed into arenas. */
const ADOPT_THRESHOLD = 64 * 1024;
const ARENA_SIZE = 1024 * 1024;

interface Block {
  buf: Buffer;
  /** File position of buf[0]. */
  start: number;
  used: number;
}

/** Segment bytes held in memory: fast, and gone when the process ends. */
export class MemorySegmentFile implements SegmentFile {
  private blocks: Block[] = [];
  size = 0;

  constructor(readonly name: string) {}

  append(data: Buffer | readonly Buffer[]): void {
    if (Buffer.isBuffer(data)) this.appendOne(data);
    else for (const chunk of data) this.appendOne(chunk);
  }

  read(position: number, length: number): Buffer {
    const end = Math.min(position + length, this.size);
    if (position >= end) return Buffer.alloc(0);
    let i = this.blockIndexFor(position);
    const first = this.blocks[i]!;
    if (end <= first.start + first.used) return first.buf.subarray(position - first.start, end - first.start);
    const out = Buffer.allocUnsafe(end - position);
    for (let written = 0; written < out.length; i++) {
      const block = this.blocks[i]!;
      const from = position + written - block.start;
      const to = Math.min(block.used, end - block.start);
      written += block.buf.copy(out, written, from, to);
    }
    return out;
  }

  truncate(size: number): void {
    if (size >= this.size) return;
    while (this.blocks.length > 0 && this.blocks[this.blocks.length - 1]!.start >= size) this.blocks.pop();
    const last = this.blocks[this.blocks.length - 1];
    if (last) last.used = size - last.start;
    this.size = size;
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private appendOne(data: Buffer): void {
    if (data.length === 0) return;
    const last = this.blocks[this.blocks.length - 1];
    if (data.length >= ADOPT_THRESHOLD) {
      this.blocks.push({ buf: data, start: this.size, used: data.length });
    } else if (last && last.buf.length - last.used >= data.length && last.start + last.used === this.size && last.buf.length === ARENA_SIZE) {
      data.copy(last.buf, last.used);
      last.used += data.length;
    } else {
      const arena = Buffer.allocUnsafeSlow(ARENA_SIZE);
      data.copy(arena, 0);
      this.blocks.push({ buf: arena, start: this.size, used: data.length });
    }
    this.size += data.length;
  }

  private blockIndexFor(position: number): number {
    let lo = 0;
    let hi = this.blocks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.blocks[mid]!.start <= position) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

export class MemorySegmentStore implements SegmentStore {
  readonly durable = false;
  readonly description = 'memory';
  private readonly logs = new Map<string, Map<string, MemorySegmentFile>>();
  private readonly smallFiles = new Map<string, Map<string, Buffer>>();

  async listLogs(): Promise<string[]> {
    return [...new Set([...this.logs.keys(), ...this.smallFiles.keys()])];
  }

  async listFiles(log: string): Promise<string[]> {
    return [...(this.logs.get(log)?.keys() ?? []), ...(this.smallFiles.get(log)?.keys() ?? [])];
  }

  async openFile(log: string, name: string): Promise<SegmentFile> {
    const file = this.logs.get(log)?.get(name);
    if (!file) throw new BrokerError('NOT_FOUND', `${log}/${name} does not exist`);
    return file;
  }

  createFile(log: string, name: string): SegmentFile {
    let files = this.logs.get(log);
    if (!files) this.logs.set(log, (files = new Map()));
    const file = new MemorySegmentFile(name);
    files.set(name, file);
    return file;
  }

  async readFile(log: string, name: string): Promise<Buffer | undefined> {
    return this.smallFiles.get(log)?.get(name);
  }

  async replaceFile(log: string, name: string, data: Buffer): Promise<void> {
    let files = this.smallFiles.get(log);
    if (!files) this.smallFiles.set(log, (files = new Map()));
    files.set(name, Buffer.from(data));
  }

  async deleteFile(log: string, name: string): Promise<void> {
    this.logs.get(log)?.delete(name);
    this.smallFiles.get(log)?.delete(name);
  }

  async renameFile(log: string, from: string, to: string): Promise<void> {
    const file = this.logs.get(log)?.get(from);
    const small = this.smallFiles.get(log)?.get(from);
    if (!file && !small) throw new BrokerError('NOT_FOUND', `${log}/${from} does not exist`);
    await this.deleteFile(log, to);
    await this.deleteFile(log, from);
    if (file) this.logs.get(log)!.set(to, file);
    else this.smallFiles.get(log)!.set(to, small!);
  }

  async deleteLog(log: string): Promise<void> {
    this.logs.delete(log);
    this.smallFiles.delete(log);
  }

  async close(): Promise<void> {}
}
