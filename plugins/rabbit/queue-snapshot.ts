import { ChangeMark } from '../../core/index.ts';
import type { AmqpServer } from './amqp-server.ts';
import type { AmqpQueue } from './model/queue.ts';

/** Queues per block of the per-queue families. */
export const QUEUE_BLOCK = 64;

/** What the per-queue families show of a queue, one slot each in a queue's row. */
export const QueueField = { published: 0, publishedBytes: 1, delivered: 2, deliveredBytes: 3, redelivered: 4, acked: 5, ready: 6, unacked: 7, consumers: 8 } as const;
export const QUEUE_FIELDS = 9;

/** Up to QUEUE_BLOCK queues of one vhost, their rows as last read, and a mark touched when any of them changed. */
export class QueueBlock {
  readonly queues: AmqpQueue[] = [];
  readonly rows = new Float64Array(QUEUE_BLOCK * QUEUE_FIELDS);
  readonly changes = new ChangeMark();
  vhost = '';
  count = 0;
}

/**
 * The per-queue values of the AMQP families (messages in and out, depth, consumers: thirteen families),
 * read once per scrape for all of them, in blocks of QUEUE_BLOCK queues of a vhost. A block whose queues
 * and values are those of the last scrape keeps its mark, and each family sends that block's lines as
 * kept; a family reads the rows of a changed block only.
 */
export class QueueSnapshot {
  readonly blocks: QueueBlock[] = [];
  private scrape = Number.NaN;

  constructor(private readonly server: AmqpServer) {}

  /** Reads every queue again unless this scrape already did. */
  refresh(scrape: number): void {
    if (scrape === this.scrape) return;
    this.scrape = scrape;
    let used = 0;
    for (const vhost of this.server.vhosts.values()) {
      let block: QueueBlock | undefined;
      let changed = false;
      for (const queue of vhost.queues.values()) {
        if (block === undefined || block.count === QUEUE_BLOCK) {
          if (block && changed) block.changes.touch();
          block = this.blocks[used++] ??= new QueueBlock();
          changed = block.vhost !== vhost.name;
          block.vhost = vhost.name;
          block.count = 0;
        }
        const at = block.count++;
        if (block.queues[at] !== queue) {
          block.queues[at] = queue;
          changed = true;
        }
        if (readRow(queue, block.rows, at * QUEUE_FIELDS)) changed = true;
      }
      if (block) {
        if (block.queues.length !== block.count) {
          block.queues.length = block.count;
          changed = true;
        }
        if (changed) block.changes.touch();
      }
    }
    this.blocks.length = used;
  }
}

/** Writes the queue's values into its row; true when any differs from what was there. */
function readRow(queue: AmqpQueue, rows: Float64Array, at: number): boolean {
  const { stats } = queue;
  // `|`, not `||`: every field is written.
  const changed =
    put(rows, at + QueueField.published, stats.published) |
    put(rows, at + QueueField.publishedBytes, stats.publishedBytes) |
    put(rows, at + QueueField.delivered, stats.delivered) |
    put(rows, at + QueueField.deliveredBytes, stats.deliveredBytes) |
    put(rows, at + QueueField.redelivered, stats.redelivered) |
    put(rows, at + QueueField.acked, stats.acked) |
    put(rows, at + QueueField.ready, queue.messageCount) |
    put(rows, at + QueueField.unacked, queue.unackedCount) |
    put(rows, at + QueueField.consumers, queue.consumerCount);
  return changed !== 0;
}

function put(rows: Float64Array, index: number, value: number): number {
  if (rows[index] === value) return 0;
  rows[index] = value;
  return 1;
}
