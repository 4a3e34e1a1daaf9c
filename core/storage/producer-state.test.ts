import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { ControlType, encodeRecordBatch, encodeTxnMarker, setBaseOffset } from '../record/index.ts';
import { ProducerStateTable } from './producer-state.ts';

const NOW = 1_700_000_000_000;

/** A client batch of `records` records from producer 7 (or another), as it arrives before an offset is assigned. */
function batch(baseSequence: number, records = 1, producerEpoch = 0, producerId = 7, timestamp = NOW): Buffer {
  return encodeRecordBatch({ producerId, producerEpoch, baseSequence, timestamp, records: Array.from({ length: records }, () => ({ value: Buffer.from('v') })) });
}

/** The same batch as the log stores it at `baseOffset`. */
function stored(bytes: Buffer, baseOffset: number): Buffer {
  const copy = Buffer.from(bytes);
  setBaseOffset(copy, 0, baseOffset);
  return copy;
}

const codeOf = (check: ReturnType<ProducerStateTable['check']>) => (check.kind === 'rejected' ? check.error.code : check.kind);

describe('ProducerStateTable', () => {
  it('accepts in-order sequences and answers a retried batch with its original offsets and timestamp', () => {
    const table = new ProducerStateTable();
    expect(table.check(batch(0, 3))).toEqual({ kind: 'append' });
    table.update(stored(batch(0, 3), 100), 0);
    table.update(stored(batch(3, 2, 0, 7, NOW + 5), 103), 0);
    expect(table.check(batch(0, 3))).toEqual({ kind: 'duplicate', baseOffset: 100, lastOffset: 102, timestamp: NOW });
    expect(table.check(batch(3, 2))).toEqual({ kind: 'duplicate', baseOffset: 103, lastOffset: 104, timestamp: NOW + 5 });
    expect(table.check(batch(5))).toEqual({ kind: 'append' });
    const gap = table.check(batch(7));
    expect(codeOf(gap)).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(gap.kind === 'rejected' && gap.error.message).toContain('7 (incoming), 4 (current end sequence number)');
  });

  it('keeps five batches, fences old epochs, and restarts sequences on a new epoch', () => {
    const table = new ProducerStateTable();
    for (let i = 0; i < 7; i++) table.update(stored(batch(i), i), 0);
    expect(codeOf(table.check(batch(1)))).toBe('OUT_OF_ORDER_SEQUENCE');
    expect(table.check(batch(2))).toMatchObject({ kind: 'duplicate', baseOffset: 2 });
    expect(table.check(batch(0, 1, 1))).toEqual({ kind: 'append' });
    expect(codeOf(table.check(batch(3, 1, 1)))).toBe('OUT_OF_ORDER_SEQUENCE');
    table.update(stored(batch(0, 1, 1), 10), 0);
    expect(codeOf(table.check(batch(7, 1, 0)))).toBe('INVALID_PRODUCER_EPOCH');
    expect(table.check(batch(0, 1, 1))).toMatchObject({ kind: 'duplicate', baseOffset: 10 });
    expect(codeOf(table.check(batch(6, 1, 1)))).toBe('OUT_OF_ORDER_SEQUENCE');
  });

  it('wraps sequences at INT32_MAX, keeps producers apart and ignores batches without a producer id', () => {
    const table = new ProducerStateTable();
    table.update(stored(batch(2 ** 31 - 2, 2), 0), 0);
    expect(table.check(batch(0))).toEqual({ kind: 'append' });
    expect(table.check(batch(2 ** 31 - 2, 2))).toMatchObject({ kind: 'duplicate', baseOffset: 0, lastOffset: 1 });
    expect(table.check(batch(5, 1, 0, 8))).toEqual({ kind: 'append' });
    const plain = encodeRecordBatch({ records: [{ value: Buffer.from('x') }] });
    expect(table.check(plain)).toEqual({ kind: 'append' });
    table.update(stored(plain, 2), 0);
    expect(table.size).toBe(1);
  });

  it('survives a snapshot round trip and refuses bytes that are not one', () => {
    const table = new ProducerStateTable();
    for (let i = 0; i < 6; i++) table.update(stored(batch(i * 2, 2, 3, 9), 50 + i * 2), 0);
    table.update(stored(batch(0, 1, 0, 2 ** 40), 70), 0);
    const copy = ProducerStateTable.decode(table.encode());
    expect(copy.size).toBe(2);
    for (const seq of [2, 4, 6, 8, 10]) expect(copy.check(batch(seq, 2, 3, 9))).toEqual(table.check(batch(seq, 2, 3, 9)));
    expect(copy.check(batch(12, 2, 3, 9))).toEqual({ kind: 'append' });
    expect(copy.check(batch(0, 1, 0, 2 ** 40))).toMatchObject({ kind: 'duplicate', baseOffset: 70 });
    for (const junk of [Buffer.from('nope'), Buffer.alloc(0), table.encode().subarray(0, 10)]) {
      expect(() => ProducerStateTable.decode(junk)).toThrow(expect.objectContaining({ code: 'CORRUPT_RECORD' }));
    }
  });

  it('forgets producers idle for the expiration time', () => {
    const table = new ProducerStateTable();
    table.update(stored(batch(0, 1, 0, 1, NOW), 0), 0);
    table.update(stored(batch(0, 1, 0, 2, NOW + 1000), 1), 0);
    table.removeExpired(NOW + 1500, 1000);
    expect(table.size).toBe(1);
    expect(table.check(batch(0, 1, 0, 2))).toMatchObject({ kind: 'duplicate' });
    expect(table.check(batch(9, 1, 0, 1))).toEqual({ kind: 'append' });
  });

  it('refuses a marker from an older coordinator epoch or producer epoch than the last marker, and keeps the coordinator epoch in snapshots', () => {
    const table = new ProducerStateTable();
    table.update(stored(encodeRecordBatch({ producerId: 7, producerEpoch: 2, baseSequence: 0, transactional: true, timestamp: NOW, records: [{ value: Buffer.from('t') }] }), 0), 0);
    expect(table.checkMarker(7, 2, 0)).toBeUndefined();
    table.update(stored(encodeTxnMarker(ControlType.abort, 7, 2, 5, NOW), 1), 0);
    expect(table.describe()[0]).toMatchObject({ producerId: 7, coordinatorEpoch: 5 });
    expect(table.checkMarker(7, 2, 5)).toBeUndefined();
    expect(table.checkMarker(7, 3, 6)).toBeUndefined();
    expect(table.checkMarker(7, 2, 4)?.code).toBe('TRANSACTION_COORDINATOR_FENCED');
    expect(table.checkMarker(7, 1, 9)?.code).toBe('INVALID_PRODUCER_EPOCH');
    expect(table.checkMarker(8, 0, 0)).toBeUndefined();
    const copy = ProducerStateTable.decode(table.encode());
    expect(copy.checkMarker(7, 2, 4)?.code).toBe('TRANSACTION_COORDINATOR_FENCED');
    expect(copy.describe()).toEqual(table.describe());
  });

  it('keeps a verification guard until the producer\'s next transactional batch or marker here (Kafka\'s VerificationGuard): none is needed while its transaction is open, and one spent by a marker no longer holds', () => {
    const table = new ProducerStateTable();
    const txnBatch = (baseSequence: number) => encodeRecordBatch({ producerId: 7, producerEpoch: 2, baseSequence, transactional: true, timestamp: NOW, records: [{ value: Buffer.from('t') }] });
    const guard = table.startVerification(7, 2, NOW)!;
    expect(guard).toBeDefined();
    // A second batch verified meanwhile shares the guard; a newer epoch replaces it.
    expect(table.startVerification(7, 2, NOW)).toBe(guard);
    expect(table.holdsVerification(7, guard)).toBe(true);
    table.update(stored(txnBatch(0), 0), 0);
    // The transaction is open here: no verification, and the guard it was appended under still holds.
    expect(table.startVerification(7, 2, NOW)).toBeUndefined();
    expect(table.holdsVerification(7, guard)).toBe(true);
    table.update(stored(encodeTxnMarker(ControlType.commit, 7, 2, 0, NOW), 1), 0);
    const next = table.startVerification(7, 2, NOW)!;
    expect(next).not.toBe(guard);
    // The abort marker of a timed-out transaction lands while the coordinator is asked: the answer no longer lets the batch in.
    table.update(stored(encodeTxnMarker(ControlType.abort, 7, 3, 0, NOW), 2), 0);
    expect(table.holdsVerification(7, next)).toBe(false);
    const refused = table.startVerification(7, 3, NOW)!;
    table.dropVerification(7, refused);
    expect(table.holdsVerification(7, refused)).toBe(false);
    // Guards expire with producer.id.expiration.ms, as Kafka's verification entries.
    const stale = table.startVerification(9, 0, NOW)!;
    table.removeExpired(NOW + 10, 5);
    expect(table.holdsVerification(9, stale)).toBe(false);
  });

  it('loads a version 2 snapshot (no coordinator epochs): its producers have none yet', () => {
    const v2 = pack({ version: 2, producers: [[7, 3, NOW, 0, 1, 40, 41, NOW]], open: [], aborted: [] });
    const table = ProducerStateTable.decode(v2);
    expect(table.describe()).toEqual([{ producerId: 7, producerEpoch: 3, lastSequence: 1, lastTimestamp: NOW, coordinatorEpoch: -1, currentTxnStartOffset: -1 }]);
    expect(table.check(batch(0, 2, 3))).toMatchObject({ kind: 'duplicate', baseOffset: 40 });
    expect(table.checkMarker(7, 3, 0)).toBeUndefined();
  });
});
