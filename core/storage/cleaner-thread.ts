/** The cleaner's own thread: runs CleaningKernel jobs for the passes cleaning-threads.ts sends it. */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { BrokerError } from '../errors.ts';
import { CleaningKernel } from './cleaning-kernel.ts';
import type { CleanerReply, CleanerRequest } from './cleaning-threads.ts';

/**
 * Background work: on Linux the thread lowers its own priority (nice 10; a thread id is a process id to
 * setpriority), so when the cores are busy the request thread is scheduled before it.
 */
function lowerPriority(): void {
  try {
    os.setPriority(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()), 10);
  } catch {
    // not Linux, or not allowed: the thread runs at the process's priority
  }
}

lowerPriority();
const kernels = new Map<number, CleaningKernel>();
const port = parentPort!;

port.on('message', (request: CleanerRequest) => {
  const reply = (answer: Omit<CleanerReply, 'id'>, transfer: ArrayBuffer[] = []): void => port.postMessage({ id: request.id, ...answer }, transfer);
  try {
    switch (request.op) {
      case 'begin':
        kernels.set(request.pass, new CleaningKernel(request.maxKeys));
        return reply({});
      case 'end':
        kernels.delete(request.pass);
        return reply({});
      case 'map': {
        const { memory, offset, length } = request.job;
        return reply({ mapped: kernelOf(request.pass).map(Buffer.from(memory, offset, length), request.bounds, request.firstDirty, request.unbounded) });
      }
      case 'filter': {
        const { memory, offset, length, outOffset, outLength } = request.job;
        const into = Buffer.from(memory, outOffset, outLength);
        const { outcomes, out } = kernelOf(request.pass).filter(Buffer.from(memory, offset, length), request.bounds, request.now, request.newHorizon, into);
        // Survivors that did not fit the job's out region come back in memory of their own.
        const own = out.buffer === memory ? undefined : (out.buffer as ArrayBuffer);
        return reply({ filtered: { outcomes, outLength: out.length, out: own } }, own ? [own] : []);
      }
    }
  } catch (err) {
    reply({ error: BrokerError.is(err) ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String(err instanceof Error ? err.stack : err) } });
  }
});

function kernelOf(pass: number): CleaningKernel {
  const kernel = kernels.get(pass);
  if (kernel === undefined) throw new BrokerError('INTERNAL', `no cleaning pass ${pass} on the cleaner thread`);
  return kernel;
}
