/**
 * The cost of checking CRC-32C as queues read (AMQP, RocketMQ): the AckQueue read path — read stored batches,
 * decode their records — with the per-batch check, beside the same path without it, over one in-memory log
 * (so neither disk nor sockets hide the difference). Then whole AckQueue take + ack, which includes the check.
 */
import {
  AckQueue,
  AckStateStore,
  createRootLogger,
  encodeRecordBatch,
  forEachRecord,
  RecordBatch,
  SegmentedStorageEngine,
  SingleNodeReplicator,
  systemClock,
  validateRecordBatch,
  type PartitionLog,
  type RecordVisitor,
} from '../core/index.ts';
import { MemorySegmentStore } from '../plugins/storage-memory/index.ts';
import { fmt, median, printTable, spread, timed } from './harness.ts';

const RUNS = 7;
const MESSAGES = 200_000;
const READ_BYTES = 256 * 1024;
const logger = createRootLogger('silent');
const config = { segmentBytes: 64 * 1024 * 1024, segmentMs: 1e12, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, flush: { kind: 'never' as const } };

async function filledLog(engine: SegmentedStorageEngine, name: string, bodyBytes: number, perBatch: number): Promise<PartitionLog> {
  const log = await engine.openLog({ topic: name, partition: 0 }, config);
  const key = Buffer.alloc(40, 7);
  const records = Array.from({ length: perBatch }, (_, i) => ({ key, value: Buffer.alloc(bodyBytes, i & 0xff) }));
  const template = encodeRecordBatch({ records });
  for (let i = 0; i < MESSAGES; i += perBatch) await log.append(Buffer.from(template));
  return log;
}

let seen = 0;
const visit: RecordVisitor = () => {
  seen++;
};

/** The AckQueue's fill loop over the whole log, with or without the CRC check per batch. */
async function readAll(log: PartitionLog, verify: boolean): Promise<void> {
  for (let offset = 0; offset < log.highWatermark; ) {
    const { records } = await log.read(offset, READ_BYTES);
    for (let pos = 0; pos < records.length; ) {
      if (verify) validateRecordBatch(records, pos);
      const batch = new RecordBatch(records, pos);
      forEachRecord(records, pos, visit);
      offset = batch.nextOffset;
      pos += batch.sizeInBytes;
    }
  }
}

async function takeAndAckAll(engine: SegmentedStorageEngine, log: PartitionLog, run: number): Promise<void> {
  const store = await AckStateStore.open(engine, systemClock, logger, { name: `bench-${log.topic}-${run}` });
  const queue = await AckQueue.open(`bench-${run}`, log, store, { reclaim: false });
  for (let taken = 0; taken < MESSAGES; ) {
    const message = queue.take();
    if (!message) {
      await queue.available();
      continue;
    }
    queue.ack(message.offset);
    taken++;
  }
  queue.close();
  await store.close();
}

const rate = (seconds: number) => `${fmt(MESSAGES / seconds / 1000)} k msg/s`;
const rows: string[][] = [];
for (const [bodyBytes, perBatch] of [
  [100, 1],
  [4096, 1],
  [100, 64],
] as const) {
  const engine = new SegmentedStorageEngine(new MemorySegmentStore(), new SingleNodeReplicator(), systemClock, logger);
  const log = await filledLog(engine, `b${bodyBytes}x${perBatch}`, bodyBytes, perBatch);
  const plain: number[] = [];
  const checked: number[] = [];
  const queue: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Alternate which goes first, so drift in a shared machine's speed falls on both.
    const order = run % 2 === 0 ? [false, true] : [true, false];
    for (const verify of order) (verify ? checked : plain).push(await timed(() => readAll(log, verify)));
    queue.push(await timed(() => takeAndAckAll(engine, log, run)));
  }
  const label = `${bodyBytes} B bodies, ${perBatch} per batch`;
  rows.push([label, rate(median(checked)), rate(median(plain)), `${((median(checked) / median(plain) - 1) * 100).toFixed(1)} %`, rate(median(queue)), spread(checked.map((s) => MESSAGES / s / 1000))]);
  await engine.close();
}
if (seen === 0) throw new Error('nothing was read');
printTable(
  `queue read path, ${fmt(MESSAGES)} messages per run, median of ${RUNS} runs`,
  ['messages', 'read + CRC check', 'read, no check', 'CRC cost', 'AckQueue take + ack', 'with-check spread (k msg/s)'],
  rows,
);
