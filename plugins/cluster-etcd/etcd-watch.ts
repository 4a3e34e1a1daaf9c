import type { IDuplexStream, IEvent, IWatchRequest, IWatchResponse } from 'etcd3';
import type { Logger, Watch, WatchEvent, WatchListener } from '../../core/index.ts';
import type { EtcdClient } from './etcd-client.ts';

/** gRPC codes after which a watch reconnects (the stream broke); any other code means it cannot go on. */
const TRANSIENT_CODES = new Set([1 /* CANCELLED */, 2 /* UNKNOWN */, 4 /* DEADLINE_EXCEEDED */, 8 /* RESOURCE_EXHAUSTED */, 10 /* ABORTED */, 13 /* INTERNAL */, 14 /* UNAVAILABLE */]);
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 1000;
const EMPTY = Buffer.alloc(0);

export interface WatchRange {
  /** What the caller calls the prefix, for messages. */
  readonly prefix: string;
  readonly key: Buffer;
  readonly rangeEnd: Buffer;
  /** The caller's key for a stored one (the namespace stripped). */
  readonly decodeKey: (key: Buffer) => string;
}

/**
 * One etcd watch that outlives its stream: after a lost stream it watches again from the revision after
 * the last one it delivered, so events arrive in revision order, whole, without gaps or repeats. It ends
 * with `onBroken` when etcd no longer has that revision (compacted) or refuses the watch.
 */
export class ResumingWatch implements Watch {
  private stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined;
  private created = false;
  private lastRevision: number;
  private retryMs = FIRST_RETRY_MS;
  private retryTimer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly client: EtcdClient,
    private readonly range: WatchRange,
    fromRevision: number,
    private readonly listener: WatchListener,
    private readonly onEnd: (watch: ResumingWatch) => void,
    private readonly logger?: Logger,
  ) {
    this.lastRevision = Math.max(1, fromRevision) - 1;
    this.open();
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.retryTimer);
    this.closeStream();
    this.onEnd(this);
  }

  private open(): void {
    this.retryTimer = undefined;
    this.client.openWatchStream().then(
      (stream) => {
        stream.on('error', (err: Error & { code?: number }) => this.lost(stream, err));
        stream.on('end', () => this.lost(stream, new Error('etcd ended the watch stream')));
        if (this.done) {
          stream.cancel();
          return;
        }
        this.stream = stream;
        this.created = false;
        stream.on('data', (response) => this.receive(stream, response));
        stream.write({
          create_request: { key: this.range.key, range_end: this.range.rangeEnd, start_revision: this.lastRevision + 1, prev_kv: true },
        });
      },
      (err: Error) => this.lost(undefined, err),
    );
  }

  private receive(stream: IDuplexStream<IWatchRequest, IWatchResponse>, response: IWatchResponse): void {
    if (stream !== this.stream) return;
    if (response.compact_revision !== '0') {
      this.broken(new Error(`etcd compacted its history up to revision ${response.compact_revision}: a watch on ${this.range.prefix} from revision ${this.lastRevision + 1} cannot go on`));
      return;
    }
    if (response.canceled) {
      this.broken(new Error(`etcd cancelled the watch on ${this.range.prefix}: ${response.cancel_reason || 'no reason given'}`));
      return;
    }
    if (response.created) {
      this.created = true;
      this.retryMs = FIRST_RETRY_MS;
      return;
    }
    const events: WatchEvent[] = [];
    for (const event of response.events) {
      const modRevision = Number(event.kv.mod_revision);
      if (modRevision > this.lastRevision) events.push(this.toWatchEvent(event, modRevision));
    }
    if (events.length === 0) return;
    this.lastRevision = events[events.length - 1]!.modRevision;
    this.notify(() => this.listener.onEvents(events));
  }

  private toWatchEvent(event: IEvent, modRevision: number): WatchEvent {
    const key = this.range.decodeKey(event.kv.key);
    if (event.type === 'Delete') {
      // etcd's delete event names only the key; its previous version (prev_kv) tells which incarnation died.
      return { type: 'delete', key, value: EMPTY, createRevision: Number(event.prev_kv?.create_revision ?? 0), modRevision };
    }
    return { type: 'put', key, value: event.kv.value, createRevision: Number(event.kv.create_revision), modRevision };
  }

  private lost(stream: IDuplexStream<IWatchRequest, IWatchResponse> | undefined, err: Error & { code?: number }): void {
    if (this.done || stream !== this.stream) return;
    this.closeStream();
    if (err.code !== undefined && !TRANSIENT_CODES.has(err.code)) {
      this.broken(new Error(`the watch on ${this.range.prefix} failed: ${err.message}`, { cause: err }));
      return;
    }
    const log = { err, prefix: this.range.prefix, fromRevision: this.lastRevision + 1, retryMs: this.retryMs };
    if (this.created) this.logger?.warn(log, 'etcd watch lost; watching again');
    else this.logger?.debug(log, 'etcd watch could not be opened; trying again');
    this.created = false;
    this.retryTimer = setTimeout(() => this.open(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  private broken(err: Error): void {
    this.cancel();
    this.notify(() => this.listener.onBroken(err));
  }

  /** Calls the listener; its failure is its own (logged), never the stream's. */
  private notify(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.logger?.error({ err, prefix: this.range.prefix }, 'a watch listener failed');
    }
  }

  private closeStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    stream?.cancel();
  }
}
