import { BatchField, encodeRecordBatch, LOG_OVERHEAD } from './record-batch.ts';
import { VarintReader } from './varint.ts';

/** Kafka's ControlRecordType: the key of a control record names it (version int16, type int16). */
export const ControlType = { abort: 0, commit: 1 } as const;
export type ControlTypeCode = (typeof ControlType)[keyof typeof ControlType];

const CONTROL_KEY_VERSION = 0;
const MARKER_VALUE_VERSION = 0;

/**
 * A transaction marker as Kafka writes it (EndTransactionMarker): a transactional control batch of the
 * producer holding one record whose key is (version 0, type) and whose value is (version 0, coordinator epoch).
 */
export function encodeTxnMarker(type: ControlTypeCode, producerId: number, producerEpoch: number, coordinatorEpoch: number, timestamp: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(CONTROL_KEY_VERSION, 0);
  key.writeInt16BE(type, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(MARKER_VALUE_VERSION, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return encodeRecordBatch({ records: [{ key, value }], timestamp, producerId, producerEpoch, baseSequence: -1, transactional: true, control: true });
}

/**
 * The type of the control batch at `pos` (read from its first record's key, as Kafka's
 * ControlRecordType.parse), or undefined when the record cannot be read. Control batches are never compressed.
 */
export function controlTypeAt(buf: Buffer, pos: number): number | undefined {
  const key = controlRecordAt(buf, pos)?.key;
  return key != null && key.length >= 4 ? key.readInt16BE(2) : undefined;
}

/** The coordinator epoch a transaction marker at `pos` carries (Kafka's EndTransactionMarker), or -1 when it cannot be read. */
export function markerCoordinatorEpochAt(buf: Buffer, pos: number): number {
  const value = controlRecordAt(buf, pos)?.value;
  return value != null && value.length >= 6 ? value.readInt32BE(2) : -1;
}

function controlRecordAt(buf: Buffer, pos: number): { key: Buffer | null; value: Buffer | null } | undefined {
  try {
    const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BatchField.batchLength);
    const reader = new VarintReader(buf, pos + BatchField.records, Math.min(end, buf.length));
    reader.varint(); // record length
    reader.int8(); // attributes
    reader.varint(10); // timestamp delta
    reader.varint(); // offset delta
    const key = reader.bytes(reader.varint());
    let value: Buffer | null = null;
    try {
      value = reader.bytes(reader.varint());
    } catch {
      // A key without a readable value still names the control type.
    }
    return { key, value };
  } catch {
    return undefined;
  }
}
