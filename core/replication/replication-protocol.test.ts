import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.ts';
import {
  decodeFetchRequest,
  decodeFetchResponse,
  decodeFrame,
  decodeHello,
  decodeHelloResponse,
  decodeMarkersRequest,
  decodeMarkersResponse,
  decodeVerifyRequest,
  decodeVerifyResponse,
  encodeFetchRequest,
  encodeFetchResponse,
  encodeHello,
  encodeHelloResponse,
  encodeMarkersRequest,
  encodeMarkersResponse,
  encodeVerifyRequest,
  encodeVerifyResponse,
  FrameKind,
} from './replication-protocol.ts';

/** The frame as the receiver sees it: size prefix removed, chunks joined. */
const wire = (chunks: Buffer[]): Buffer => {
  const all = Buffer.concat(chunks);
  expect(all.readInt32BE(0)).toBe(all.length - 4);
  return all.subarray(4);
};

const int = fc.integer({ min: -1, max: 2 ** 40 });
const partition = fc.record({ topic: fc.string({ maxLength: 30 }), partition: fc.nat(1000), leaderEpoch: int, fetchOffset: int, lastFetchedEpoch: int });
const fetched = fc.record({
  topic: fc.string({ maxLength: 30 }),
  partition: fc.nat(1000),
  error: fc.constantFrom(null, 'NOT_LEADER' as const, 'FENCED_LEADER_EPOCH' as const),
  highWatermark: int,
  logStartOffset: int,
  diverging: fc.option(fc.record({ epoch: fc.nat(), endOffset: int }), { nil: null }),
  records: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
});

describe('replication protocol', () => {
  it('round-trips fetch requests and responses, records as views of the payload', () => {
    fc.assert(
      fc.property(fc.nat(2 ** 31), fc.record({ replicaId: fc.nat(), brokerEpoch: fc.nat(), maxWaitMs: fc.nat(5000), maxBytes: fc.nat(), partitions: fc.array(partition, { maxLength: 5 }) }), (id, request) => {
        const frame = decodeFrame(wire(encodeFetchRequest(id, request)));
        expect(frame).toMatchObject({ kind: FrameKind.fetch, response: false, correlationId: id });
        expect(decodeFetchRequest(frame.header)).toEqual(request);
      }),
    );
    fc.assert(
      fc.property(fc.nat(2 ** 31), fc.array(fetched, { maxLength: 5 }), (id, partitions) => {
        const frame = decodeFrame(wire(encodeFetchResponse(id, { partitions })));
        expect(frame).toMatchObject({ kind: FrameKind.fetch, response: true, correlationId: id });
        const decoded = decodeFetchResponse(frame.header, frame.payload);
        expect(decoded.partitions.map((p) => ({ ...p, records: Buffer.from(p.records) }))).toEqual(partitions);
      }),
    );
  });

  it('round-trips hellos', () => {
    const hello = { version: 1, clusterId: 'abc', nodeId: 3, brokerEpoch: 99 };
    expect(decodeHello(decodeFrame(wire(encodeHello(7, hello))).header)).toEqual(hello);
    const answer = { error: 'BROKER_STATE' as const, message: 'wrong cluster', nodeId: 2 };
    expect(decodeHelloResponse(decodeFrame(wire(encodeHelloResponse(7, answer))).header)).toEqual(answer);
  });

  it('round-trips transaction marker requests and their per-partition answers', () => {
    fc.assert(
      fc.property(
        fc.nat(2 ** 31),
        fc.record({ producerId: fc.nat(), producerEpoch: fc.nat(32767), coordinatorEpoch: fc.nat(), commit: fc.boolean(), partitions: fc.array(fc.record({ topic: fc.string({ maxLength: 30 }), partition: fc.nat(1000) }), { maxLength: 5 }) }),
        (id, request) => {
          const frame = decodeFrame(wire(encodeMarkersRequest(id, request)));
          expect(frame).toMatchObject({ kind: FrameKind.markers, response: false, correlationId: id });
          expect(decodeMarkersRequest(frame.header)).toEqual(request);
        },
      ),
    );
    const answer = { errors: [null, 'NOT_LEADER' as const, 'NOT_ENOUGH_REPLICAS' as const] };
    expect(decodeMarkersResponse(decodeFrame(wire(encodeMarkersResponse(3, answer))).header)).toEqual(answer);
  });

  it('round-trips transaction verification requests and their per-partition answers', () => {
    fc.assert(
      fc.property(
        fc.nat(2 ** 31),
        fc.record({ transactionalId: fc.string({ maxLength: 30 }), producerId: fc.nat(), producerEpoch: fc.nat(32767), partitions: fc.array(fc.record({ topic: fc.string({ maxLength: 30 }), partition: fc.nat(1000) }), { maxLength: 5 }) }),
        fc.array(fc.integer({ min: -1, max: 200 }), { maxLength: 5 }),
        (id, request, errors) => {
          const frame = decodeFrame(wire(encodeVerifyRequest(id, request)));
          expect(frame).toMatchObject({ kind: FrameKind.verify, response: false, correlationId: id });
          expect(decodeVerifyRequest(frame.header)).toEqual(request);
          expect(decodeVerifyResponse(decodeFrame(wire(encodeVerifyResponse(id, { errors }))).header)).toEqual({ errors });
        },
      ),
    );
  });

  it('turns any bytes into a frame and a typed request, or a MALFORMED_INPUT error, quickly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const frame = decodeFrame(Buffer.from(bytes));
          if (frame.kind === FrameKind.fetch) (frame.response ? decodeFetchResponse(frame.header, frame.payload) : decodeFetchRequest(frame.header));
          else if (frame.kind === FrameKind.markers) (frame.response ? decodeMarkersResponse(frame.header) : decodeMarkersRequest(frame.header));
          else if (frame.kind === FrameKind.verify) (frame.response ? decodeVerifyResponse(frame.header) : decodeVerifyRequest(frame.header));
          else (frame.response ? decodeHelloResponse(frame.header) : decodeHello(frame.header));
        } catch (err) {
          expect(BrokerError.is(err, 'MALFORMED_INPUT')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
