import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BrokerError, type ErrorCode } from '../errors.ts';
import { CleaningKernel, type FilterOutcome, type MapOutcome } from './cleaning-kernel.ts';

/**
 * One cleaning pass's kernel, wherever it runs. A job is a buffer from jobBuffer(), filled with whole
 * batches; map() and filter() take it over (it may move to another thread) and give it back for reuse.
 */
export interface CleaningSession {
  /** Bytes a job should hold: large when a thread of its own runs it, small when each job holds the event loop. */
  readonly jobBytes: number;
  jobBuffer(minBytes: number): Buffer;
  map(job: Buffer, bounds: Int32Array, firstDirty: number, unbounded: boolean): Promise<MapOutcome>;
  filter(job: Buffer, bounds: Int32Array, now: number, newHorizon: number): Promise<FilterOutcome>;
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

export type CleanerRequest =
  | { id: number; pass: number; op: 'begin'; maxKeys: number }
  | { id: number; pass: number; op: 'end' }
  | { id: number; pass: number; op: 'map'; job: ArrayBuffer; bounds: Int32Array; firstDirty: number; unbounded: boolean }
  | { id: number; pass: number; op: 'filter'; job: ArrayBuffer; bounds: Int32Array; now: number; newHorizon: number };

export interface CleanerReply {
  id: number;
  mapped?: MapOutcome;
  filtered?: { outcomes: Int32Array; out: ArrayBuffer };
  /** The request's job, handed back for the next one. */
  job?: ArrayBuffer;
  error?: { code: ErrorCode; message: string };
}

type Request = CleanerRequest extends infer R ? (R extends CleanerRequest ? Omit<R, 'id'> : never) : never;

class CleanerThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve(reply: CleanerReply): void; reject(err: Error): void }>();
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

  call(request: Request, transfer: ArrayBuffer[] = []): Promise<CleanerReply> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    // Referenced only while it owes an answer: an idle cleaner thread never keeps the process alive.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  private settle(id: number, how: (p: { resolve(reply: CleanerReply): void; reject(err: Error): void }) => void): void {
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

const THREAD_JOB_BYTES = 1024 * 1024;
const IN_THREAD_JOB_BYTES = 64 * 1024;

class ThreadSession implements CleaningSession {
  readonly jobBytes = THREAD_JOB_BYTES;
  private readonly pass: number;
  private readonly begun: Promise<CleanerReply>;
  private readonly spare: ArrayBuffer[] = [];

  constructor(
    private readonly thread: CleanerThread,
    maxKeys: number,
  ) {
    this.pass = thread.newPass();
    this.begun = thread.call({ pass: this.pass, op: 'begin', maxKeys });
    this.begun.catch(() => undefined);
  }

  jobBuffer(minBytes: number): Buffer {
    const spare = this.spare.pop();
    // Its own memory, never a slice of Buffer's shared pool: it is transferred to the cleaner thread.
    return Buffer.from(spare !== undefined && spare.byteLength >= minBytes ? spare : new ArrayBuffer(Math.max(minBytes, this.jobBytes)));
  }

  async map(job: Buffer, bounds: Int32Array, firstDirty: number, unbounded: boolean): Promise<MapOutcome> {
    await this.begun;
    const reply = await this.thread.call({ pass: this.pass, op: 'map', job: ownBuffer(job), bounds, firstDirty, unbounded }, [ownBuffer(job)]);
    this.keepSpare(reply);
    return reply.mapped!;
  }

  async filter(job: Buffer, bounds: Int32Array, now: number, newHorizon: number): Promise<FilterOutcome> {
    await this.begun;
    const reply = await this.thread.call({ pass: this.pass, op: 'filter', job: ownBuffer(job), bounds, now, newHorizon }, [ownBuffer(job)]);
    this.keepSpare(reply);
    return { outcomes: reply.filtered!.outcomes, out: Buffer.from(reply.filtered!.out) };
  }

  end(): void {
    this.thread.call({ pass: this.pass, op: 'end' }).catch(() => undefined);
  }

  private keepSpare(reply: CleanerReply): void {
    if (reply.job !== undefined && this.spare.length < 2) this.spare.push(reply.job);
  }
}

function ownBuffer(job: Buffer): ArrayBuffer {
  if (job.byteOffset !== 0 || !(job.buffer instanceof ArrayBuffer)) throw new BrokerError('INTERNAL', 'a cleaning job must come from jobBuffer()');
  return job.buffer;
}

class InThreadSession implements CleaningSession {
  readonly jobBytes = IN_THREAD_JOB_BYTES;
  private job: Buffer | undefined;

  constructor(private readonly kernel: CleaningKernel) {}

  jobBuffer(minBytes: number): Buffer {
    if (this.job === undefined || this.job.length < minBytes) this.job = Buffer.allocUnsafe(Math.max(minBytes, this.jobBytes));
    return this.job;
  }

  async map(job: Buffer, bounds: Int32Array, firstDirty: number, unbounded: boolean): Promise<MapOutcome> {
    return this.kernel.map(job, bounds, firstDirty, unbounded);
  }

  async filter(job: Buffer, bounds: Int32Array, now: number, newHorizon: number): Promise<FilterOutcome> {
    return this.kernel.filter(job, bounds, now, newHorizon);
  }

  end(): void {}
}
