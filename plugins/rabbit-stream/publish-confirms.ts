import { Command } from './protocol.ts';

/** Frame size, key, version, publisher id, id count. */
const CONFIRM_HEADER = 4 + 2 + 2 + 1 + 4;
const ID_BYTES = 8;

/**
 * The publishing ids of one batch, copied as the 8 bytes the client sent (no bigint per message):
 * filled while its publishes are read, then confirmed or refused as one.
 */
export class PublishingIds {
  private buf = Buffer.allocUnsafe(128 * ID_BYTES);
  private n = 0;

  get count(): number {
    return this.n;
  }

  /** Adds the id at `src[pos, pos + 8)`. */
  add(src: Buffer, pos: number): void {
    if ((this.n + 1) * ID_BYTES > this.buf.length) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, this.n * ID_BYTES);
      this.buf = grown;
    }
    const at = this.n * ID_BYTES;
    this.buf.writeUInt32BE(src.readUInt32BE(pos), at);
    this.buf.writeUInt32BE(src.readUInt32BE(pos + 4), at + 4);
    this.n++;
  }

  /** The ids added since the last take, as their own buffer; empties the list. */
  take(): Buffer {
    const ids = Buffer.allocUnsafe(this.n * ID_BYTES);
    this.buf.copy(ids, 0, 0, ids.length);
    this.n = 0;
    return ids;
  }
}

/**
 * PublishConfirm coalescing, as RabbitMQ's stream reader confirms what one osiris write stored: the ids
 * of every batch whose append resolved in the same turn go out in one PublishConfirm per publisher
 * (split only where a frame would pass the client's frame max), in the order the appends resolved.
 */
export class ConfirmQueue {
  private readonly pending = new Map<number, Buffer[]>();
  private scheduled = false;

  constructor(
    private readonly send: (frames: Buffer[]) => void,
    private readonly frameMax: () => number,
  ) {}

  /** Confirms `ids` (8 bytes each) of `publisherId` once the current turn's other confirms are in. */
  confirm(publisherId: number, ids: Buffer): void {
    let list = this.pending.get(publisherId);
    if (!list) {
      list = [];
      this.pending.set(publisherId, list);
    }
    list.push(ids);
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(() => this.flush());
  }

  /** Drops what is not sent yet (the connection is gone). */
  clear(): void {
    this.pending.clear();
  }

  private flush(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    const maxIds = Math.max(1, Math.floor((this.frameMax() - CONFIRM_HEADER) / ID_BYTES));
    const frames: Buffer[] = [];
    for (const [publisherId, list] of this.pending) {
      let total = 0;
      for (const ids of list) total += ids.length / ID_BYTES;
      let part = 0;
      let at = 0;
      while (total > 0) {
        const n = Math.min(total, maxIds);
        const frame = Buffer.allocUnsafe(CONFIRM_HEADER + n * ID_BYTES);
        frame.writeUInt32BE(frame.length - 4, 0);
        frame.writeUInt16BE(Command.publishConfirm, 4);
        frame.writeUInt16BE(1, 6);
        frame[8] = publisherId;
        frame.writeInt32BE(n, 9);
        let out = CONFIRM_HEADER;
        while (out < frame.length) {
          const ids = list[part]!;
          const copied = ids.copy(frame, out, at, Math.min(ids.length, at + frame.length - out));
          out += copied;
          at += copied;
          if (at === ids.length) {
            part++;
            at = 0;
          }
        }
        frames.push(frame);
        total -= n;
      }
    }
    this.pending.clear();
    this.send(frames);
  }
}
