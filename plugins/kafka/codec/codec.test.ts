import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../core/index.ts';
import { ApiKeys, type ApiCodec } from './api-table.ts';
import * as arb from './generated/arbitraries.ts';
import * as codecs from './generated/index.ts';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, parseRequestHeader } from './frames.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

/** CPU milliseconds this process has used; unlike wall-clock time it does not grow while a busy machine runs other processes. */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

type Arbitraries = Record<string, (version: number) => fc.Arbitrary<unknown>>;
const arbitraries = arb as unknown as Arbitraries;

function versions(api: ApiCodec): number[] {
  const { min, max } = api.request.versions;
  return Array.from({ length: max - min + 1 }, (_, i) => min + i);
}

/** Concatenates a chunk list and drops the 4-byte size prefix, as a transport would. */
function frameOf(chunks: Buffer[]): Buffer {
  const whole = Buffer.concat(chunks);
  expect(whole.readInt32BE(0)).toBe(whole.length - 4);
  return whole.subarray(4);
}

const apis = Object.values(ApiKeys) as ApiCodec[];

describe('Kafka codec round trips, every API and version', () => {
  for (const api of apis) {
    it(`${api.name} requests and responses`, () => {
      for (const version of versions(api)) {
        fc.assert(
          fc.property(arbitraries[`arbitrary${api.name}Request`]!(version), (body) => {
            const frame = frameOf(encodeRequest(api, version, 7, 'client', body));
            const header = parseRequestHeader(frame);
            expect(header).toMatchObject({ apiKey: api.key, apiVersion: version, correlationId: 7, clientId: 'client' });
            expect(decodeRequest(header, frame)).toEqual(body);
          }),
          { numRuns: 25 },
        );
        fc.assert(
          fc.property(arbitraries[`arbitrary${api.name}Response`]!(version), (body) => {
            const frame = frameOf(encodeResponse(api, version, 9, body));
            expect(decodeResponse(api, version, frame)).toEqual({ correlationId: 9, body });
          }),
          { numRuns: 25 },
        );
      }
    });
  }

  it('ConsumerProtocol subscription and assignment, every version', () => {
    for (let version = 0; version <= 3; version++) {
      fc.assert(
        fc.property(arb.arbitraryConsumerProtocolSubscription(version), arb.arbitraryConsumerProtocolAssignment(version), (subscription, assignment) => {
          const w = new Writer();
          const { encodeConsumerProtocolSubscription, decodeConsumerProtocolSubscription, encodeConsumerProtocolAssignment, decodeConsumerProtocolAssignment } = codecs;
          encodeConsumerProtocolSubscription(w, version, subscription);
          encodeConsumerProtocolAssignment(w, version, assignment);
          const r = new Reader(Buffer.concat(w.finish()));
          expect(decodeConsumerProtocolSubscription(r, version)).toEqual(subscription);
          expect(decodeConsumerProtocolAssignment(r, version)).toEqual(assignment);
          expect(r.remaining).toBe(0);
        }),
        { numRuns: 50 },
      );
    }
  });
});

describe('Kafka codec on hostile input', () => {
  it('turns any bytes, and any corruption of a valid request, into a request or a typed error, quickly', () => {
    for (const api of apis) {
      for (const version of versions(api)) {
        const valid = fc.sample(arbitraries[`arbitrary${api.name}Request`]!(version), { numRuns: 3, seed: version }).map((body) => frameOf(encodeRequest(api, version, 1, 'c', body)));
        const mutated = fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat()).map(([frame, at, byte, cut]) => {
          const copy = Buffer.from(frame);
          if (copy.length > 8) copy[8 + (at % (copy.length - 8))] = byte;
          return copy.subarray(0, Math.max(8, cut % (copy.length + 1)));
        });
        const headed = fc.uint8Array({ maxLength: 64 }).map((tail) => {
          const head = Buffer.alloc(8);
          head.writeInt16BE(api.key, 0);
          head.writeInt16BE(version, 2);
          head.writeInt16BE(-1, 6);
          return Buffer.concat([head, Buffer.from(tail)]);
        });
        fc.assert(
          fc.property(fc.oneof(mutated, headed), (frame) => {
            const started = cpuMs();
            try {
              decodeRequest(parseRequestHeader(frame), frame);
            } catch (err) {
              expect(err).toBeInstanceOf(BrokerError);
            }
            expect(cpuMs() - started).toBeLessThan(50);
          }),
          { numRuns: 60 },
        );
      }
    }
  });

  it('turns the admin and transaction requests (DeleteRecords, AlterConfigs, DescribeLogDirs, IncrementalAlterConfigs, OffsetDelete, DescribeCluster, ElectLeaders, DescribeClientQuotas, AlterClientQuotas, OffsetForLeaderEpoch, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn, DescribeTransactions, ListTransactions, DescribeProducers, WriteTxnMarkers) and the newest Produce, Fetch, Metadata, ListOffsets and OffsetFetch versions with absurd lengths spliced in into a request or a typed error, quickly', () => {
    const admin = [
      ApiKeys.DeleteRecords,
      ApiKeys.AlterConfigs,
      ApiKeys.DescribeLogDirs,
      ApiKeys.IncrementalAlterConfigs,
      ApiKeys.OffsetDelete,
      ApiKeys.DescribeCluster,
      ApiKeys.ElectLeaders,
      ApiKeys.OffsetForLeaderEpoch,
      ApiKeys.DescribeClientQuotas,
      ApiKeys.AlterClientQuotas,
      ApiKeys.AddPartitionsToTxn,
      ApiKeys.AddOffsetsToTxn,
      ApiKeys.TxnOffsetCommit,
      ApiKeys.EndTxn,
      ApiKeys.DescribeTransactions,
      ApiKeys.ListTransactions,
      ApiKeys.DescribeProducers,
      ApiKeys.WriteTxnMarkers,
      ApiKeys.Produce,
      ApiKeys.Fetch,
      ApiKeys.Metadata,
      ApiKeys.ListOffsets,
      ApiKeys.OffsetFetch,
    ] as ApiCodec[];
    // int32 counts and lengths near their limits, -1 (null), and uvarints of compact lengths past any frame
    const lengths = [[0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x08], [0xfe, 0xff, 0xff, 0x7f]];
    for (const api of admin) {
      for (const version of versions(api)) {
        const valid = fc.sample(arbitraries[`arbitrary${api.name}Request`]!(version), { numRuns: 5, seed: 11 + version }).map((body) => frameOf(encodeRequest(api, version, 1, 'c', body)));
        const spliced = fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.constantFrom(...lengths)).map(([frame, at, length]) => {
          const copy = Buffer.from(frame);
          const start = 8 + (at % Math.max(1, copy.length - 8));
          Buffer.from(length).copy(copy, Math.min(start, copy.length));
          return copy;
        });
        fc.assert(
          fc.property(spliced, (frame) => {
            const started = cpuMs();
            try {
              decodeRequest(parseRequestHeader(frame), frame);
            } catch (err) {
              expect(err).toBeInstanceOf(BrokerError);
            }
            expect(cpuMs() - started).toBeLessThan(50);
          }),
          { numRuns: 80 },
        );
      }
    }
  });

  it('rejects an array count larger than the bytes left without looping or allocating', () => {
    const frame = Buffer.alloc(30);
    frame.writeInt16BE(ApiKeys.Metadata.key, 0);
    frame.writeInt16BE(1, 2);
    frame.writeInt16BE(-1, 8);
    frame.writeInt32BE(0x7fffffff, 10);
    const started = cpuMs();
    expect(() => decodeRequest(parseRequestHeader(frame), frame)).toThrow(/cannot fit/);
    expect(cpuMs() - started).toBeLessThan(20);
  });

  it('rejects unknown api keys and versions as UNSUPPORTED_VERSION and trailing bytes as malformed', () => {
    const frame = Buffer.alloc(10);
    frame.writeInt16BE(999, 0);
    frame.writeInt16BE(-1, 8);
    expect(() => decodeRequest(parseRequestHeader(frame), frame)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
    const ok = frameOf(encodeRequest(ApiKeys.Heartbeat, 1, 1, 'c', { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null }));
    const extra = Buffer.concat([ok, Buffer.from([0])]);
    expect(() => decodeRequest(parseRequestHeader(extra), extra)).toThrow(expect.objectContaining({ code: 'MALFORMED_INPUT' }));
  });
});
