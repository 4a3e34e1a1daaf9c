import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BrokerError, type ErrorCode } from '../errors.ts';
import { CleaningKernel, type FilterOutcome, type MapOutcome } from './cleaning-kernel.ts';

/**
 * One cleaning pass's kernel, wherever it runs. A job is a buffer from jobBuffer(), filled with whole
 * batches and handed to map() or filter(); the pass gives it back with release() once it is done with the
 * job's bytes and outcome (a filter outcome's `out` may live in the job's memory).
 */
export interface CleaningSession {
  /** Bytes a job should hold: large when a thread of its own runs it, small when each job holds the event loop. */
  readonly jobBytes: number;
  /** A buffer the pass reads segments into, one window at a time. */
  readonly window: Buffer;
  /** A buffer of at least max(minBytes, jobBytes) bytes. */
  jobBuffer(minBytes: number): Buffer;
  map(job: Buffer, bounds: Int32Array, firstDirty: number, unbounded: boolean): Promise<MapOutcome>;
  filter(job: Buffer, bounds: Int32Array, now: number, newHorizon: number): Promise<FilterOutcome>;
  release(job: Buffer): void;
  end(): void;
}

/** A session on the process's cleaner thread (Kafka's cleaner runs beside the request threads too). */
export function threadCleaningSession(maxKeys: number): CleaningSession {
  return new ThreadSession(cleanerThread(), maxKeys);
}

/** A session that runs each job on the calling thread, in jobs small enough not to hold the event loop long. */
export function inThreadCleaningSession(maxKeys: number): CleaningSession {
  return new InThreadSession(new CleaningKernel(maxKeys));
}

/** Where a job is in shared memory: its batches, then room for the survivors of a filter. */
export interface SharedJob {
  memory: SharedArrayBuffer;
  offset: number;
  length: number;
  outOffset: number;
  outLength: number;
}

export type CleanerRequest =
  | { id: number; pass: number; op: 'begin'; maxKeys: number }
  | { id: number; pass: number; op: 'end' }
  | { id: number; pass: number; op: 'map'; job: SharedJob; bounds: Int32Array; firstDirty: number; unbounded: boolean }
  | { id: number; pass: number; op: 'filter'; job: SharedJob; bounds: Int32Array; now: number; newHorizon: number };

export interface CleanerReply {
  id: number;
  mapped?: MapOutcome;
  /** `out` is absent when the survivors are in the job's out region. */
  filtered?: { outcomes: Int32Array; outLength: number; out?: ArrayBuffer };
  error?: { code: ErrorCode; message: string };
}

type Request = CleanerRequest extends infer R ? (R extends CleanerRequest ? Omit<R, 'id'> : never) : never;
type Pending = { resolve(reply: CleanerReply): void; reject(err: Error): void };

class CleanerThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextPass = 1;
  failed: Error | undefined;

  constructor() {
    this.worker = startWorker();
    this.worker.unref();
    this.worker.on('message', (reply: CleanerReply) => this.settle(reply.id, (p) => (reply.error ? p.reject(new BrokerError(reply.error.code, reply.error.message)) : p.resolve(reply))));
    const fail = (err: Error): void => {
      this.failed = err;
      for (const id of [...this.pending.keys()]) this.settle(id, (p) => p.reject(err));
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new BrokerError('INTERNAL', `the cleaner thread exited with ${code}`)));
  }

  newPass(): number {
    return this.nextPass++;
  }

  call(request: Request): Promise<CleanerReply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    // Referenced only while it owes an answer: an idle cleaner thread never keeps the process alive.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id });
    });
  }

  private settle(id: number, how: (p: Pending) => void): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    how(p);
  }
}

let shared: CleanerThread | undefined;

function cleanerThread(): CleanerThread {
  if (shared === undefined || shared.failed !== undefined) shared = new CleanerThread();
  return shared;
}

/** The thread runs cleaner-thread.js next to this module, or the TypeScript source through tsx in a source checkout. */
function startWorker(): Worker {
  const self = import.meta.url;
  const entry = new URL(self.endsWith('.ts') ? './cleaner-thread.ts' : './cleaner-thread.js', self);
  if (!self.endsWith('.ts')) return new Worker(entry);
  // A thread does not share the loader hooks that let this one import TypeScript: it registers tsx's.
  const tsx = pathToFileURL(createRequire(self).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true });
}

/**
 * What a pass works in, handed on to the next pass when it ends: allocating it for each pass (megabytes of
 * memory outside the heap) would set off the event loop's collector in the middle of every pass.
 */
interface PassMemory {
  window: Buffer;
  slots: SharedJob[];
}

const spareMemory: PassMemory[] = [];
const WINDOW_BYTES = 1024 * 1024;

function passMemory(): PassMemory {
  return spareMemory.pop() ?? { window: Buffer.allocUnsafeSlow(WINDOW_BYTES), slots: [] };
}

function keepMemory(memory: PassMemory): void {
  if (spareMemory.length < 2) spareMemory.push(memory);
}

const THREAD_JOB_BYTES = 1024 * 1024;
const IN_THREAD_JOB_BYTES = 64 * 1024;
/** Jobs a pass has at once: two out on the thread and one being filled. */
const SLOTS = 3;
/** A job's out region: survivors may outgrow their batches a little (a delete horizon re-encodes timestamps). */
const OUT_FACTOR = 1.25;

/**
 * Jobs live in memory shared with the cleaner thread, allocated once per pass: nothing is copied or
 * transferred per job, and the event loop allocates nothing per job for the collector to chase.
 */
class ThreadSession implements CleaningSession {
  readonly jobBytes = THREAD_JOB_BYTES;
  private readonly pass: number;
  private readonly begun: Promise<CleanerReply>;
  private readonly memory = passMemory();
  private readonly free: Buffer[] = [];
  private readonly jobs = new WeakMap<Buffer, SharedJob>();

  constructor(
    private readonly thread: CleanerThread,
    maxKeys: number,
  ) {
    for (const slot of this.memory.slots) this.free.push(this.bufferOf(slot));
    this.pass = thread.newPass();
    this.begun = thread.call({ pass: this.pass, op: 'begin', maxKeys });
    this.begun.catch(() => undefined);
  }

  jobBuffer(minBytes: number): Buffer {
    if (minBytes > this.jobBytes) return this.bufferOf(sharedJob(minBytes));
    if (this.memory.slots.length === 0) {
      const slotBytes = this.jobBytes + Math.ceil(this.jobBytes * OUT_FACTOR);
      const memory = new SharedArrayBuffer(slotBytes * SLOTS);
      for (let i = 0; i < SLOTS; i++) {
        const slot = { memory, offset: i * slotBytes, length: this.jobBytes, outOffset: i * slotBytes + this.jobBytes, outLength: slotBytes - this.jobBytes };
        this.memory.slots.push(slot);
        this.free.push(this.bufferOf(slot));
      }
    }
    const free = this.free.pop();
    if (free === undefined) throw new BrokerError('INTERNAL', `a cleaning pass asked for more than ${SLOTS} jobs at once`);
    return free;
  }

  release(job: Buffer): void {
    if (this.memory.slots.includes(this.jobs.get(job)!)) this.free.push(job);
  }

  async map(job: Buffer, bounds: Int32Array, firstDirty: number, unbounded: boolean): Promise<MapOutcome> {
    await this.begun;
    return (await this.thread.call({ pass: this.pass, op: 'map', job: this.sharedOf(job), bounds, firstDirty, unbounded })).mapped!;
  }

  async filter(job: Buffer, bounds: Int32Array, now: number, newHorizon: number): Promise<FilterOutcome> {
    await this.begun;
    const shared = this.sharedOf(job);
    const { outcomes, outLength, out } = (await this.thread.call({ pass: this.pass, op: 'filter', job: shared, bounds, now, newHorizon })).filtered!;
    return { outcomes, out: out !== undefined ? Buffer.from(out) : Buffer.from(shared.memory, shared.outOffset, outLength) };
  }

  get window(): Buffer {
    return this.memory.window;
  }

  end(): void {
    this.thread.call({ pass: this.pass, op: 'end' }).catch(() => undefined);
    keepMemory(this.memory);
  }

  private bufferOf(shared: SharedJob): Buffer {
    const buffer = Buffer.from(shared.memory, shared.offset, shared.length);
    this.jobs.set(buffer, shared);
    return buffer;
  }

  private sharedOf(job: Buffer): SharedJob {
    const shared = this.jobs.get(job);
    if (shared === undefined) throw new BrokerError('INTERNAL', 'a cleaning job must come from jobBuffer()');
    return shared;
  }
}

/** A job of its own for a batch larger than a slot. */
function sharedJob(bytes: number): SharedJob {
  const outLength = Math.ceil(bytes * OUT_FACTOR);
  return { memory: new SharedArrayBuffer(bytes + outLength), offset: 0, length: bytes, outOffset: bytes, outLength };
}

class InThreadSession implements CleaningSession {
  readonly jobBytes = IN_THREAD_JOB_BYTES;
  private readonly memory = passMemory();
  private readonly free: Buffer[] = [];

  constructor(private readonly kernel: CleaningKernel) {}

  jobBuffer(minBytes: number): Buffer {
    const free = this.free.pop();
    return free !== undefined && free.length >= minBytes ? free : Buffer.allocUnsafeSlow(Math.max(minBytes, this.jobBytes));
  }

  release(job: Buffer): void {
    if (job.length === this.jobBytes && this.free.length < SLOTS) this.free.push(job);
  }

  async map(job: Buffer, bounds: Int32Array, firstDirty: number, unbounded: boolean): Promise<MapOutcome> {
    return this.kernel.map(job, bounds, firstDirty, unbounded);
  }

  async filter(job: Buffer, bounds: Int32Array, now: number, newHorizon: number): Promise<FilterOutcome> {
    return this.kernel.filter(job, bounds, now, newHorizon);
  }

  get window(): Buffer {
    return this.memory.window;
  }

  end(): void {
    keepMemory(this.memory);
  }
}
