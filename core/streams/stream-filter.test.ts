import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRecordBatch, forEachRecord, type RecordHeader } from '../record/record-batch.ts';
import { gzipBatch } from './stream-batch-builder.ts';
import { batchMatchesFilter, streamFilter } from './stream-filter.ts';

const NAMES = ['x-amqp-filter-value', 'x-stream-filter-value', 'state', 'x-amqp-properties'];
const VALUES = ['apple', 'banana', '', 'appl'];

/** The filter value of a record, as the spec says: the first x-amqp-filter-value, else the first x-stream-filter-value; null is none. */
function filterValueOf(headers: RecordHeader[]): string | undefined {
  const own = headers.find((h) => h.key === 'x-amqp-filter-value');
  const header = own ?? headers.find((h) => h.key === 'x-stream-filter-value');
  return header?.value?.toString('utf8');
}

describe('batchMatchesFilter', () => {
  it('matches a batch, compressed or not, when one of its records has a wanted filter value, or none and unfiltered ones match', () => {
    const header = fc.record({ key: fc.constantFrom(...NAMES), value: fc.option(fc.constantFrom(...VALUES).map((v) => Buffer.from(v)), { nil: null }) });
    const record = fc.record({ value: fc.constant(Buffer.from('body')), headers: fc.array(header, { maxLength: 4 }) });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 6 }), fc.subarray(VALUES, { minLength: 1 }), fc.boolean(), fc.boolean(), (records, values, matchUnfiltered, gzip) => {
        const plain = encodeRecordBatch({ records, timestamp: 1 });
        const batch = gzip ? gzipBatch(plain) : plain;
        const wanted = new Set(values);
        let expected = false;
        forEachRecord(plain, 0, (_o, _t, _k, _v, headers) => {
          const value = filterValueOf(headers);
          expected ||= value === undefined ? matchUnfiltered : wanted.has(value);
        });
        const padded = Buffer.concat([Buffer.alloc(7), batch]);
        expect(batchMatchesFilter(padded, 7, streamFilter(values, matchUnfiltered))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
