import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../../../core/index.ts';
import { AmqpWriter } from './amqp-writer.ts';
import { methodFrame } from './frames.ts';
import { decodeMethod, decodeProperties, encodeProperties, type BasicProperties } from './generated/methods.ts';
import { isBasicPublish, PropertiesDecoder, PublishDecoder } from './repeat-decoders.ts';

const publishArgs = fc.record({
  ticket: fc.integer({ min: 0, max: 65535 }),
  exchange: fc.constantFrom('', 'amq.direct', 'ex', 'é-x'),
  routingKey: fc.constantFrom('', 'q', 'a.b.c', 'ключ'),
  mandatory: fc.boolean(),
  immediate: fc.boolean(),
});

const properties: fc.Arbitrary<BasicProperties> = fc.record(
  {
    contentType: fc.constantFrom('text/plain', 'application/json'),
    headers: fc.constantFrom(new Map(), new Map([['x', { type: 'I' as const, value: 1 }]])),
    deliveryMode: fc.constantFrom(1, 2),
    priority: fc.integer({ min: 0, max: 9 }),
    messageId: fc.constantFrom('a', 'b'),
    expiration: fc.constantFrom('100', '2000'),
  },
  { requiredKeys: [] },
);

/** A method frame's payload (between the 7-byte header and the frame end). */
const payloadOf = (frame: Buffer): Buffer => frame.subarray(7, frame.length - 1);

function encodePropertyBytes(p: BasicProperties): Buffer {
  const w = new AmqpWriter();
  encodeProperties(w, p);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

describe('repeat decoders', () => {
  it('PublishDecoder returns what the generic decoder does, for any sequence with repeats, and the routing bytes as sent', () => {
    fc.assert(
      fc.property(fc.array(publishArgs, { minLength: 1, maxLength: 12 }), fc.array(fc.nat(11), { maxLength: 12 }), (distinct, picks) => {
        const decoder = new PublishDecoder();
        for (const pick of [0, ...picks]) {
          const args = distinct[pick % distinct.length]!;
          const payload = payloadOf(methodFrame(1, 'basic.publish', args));
          expect(isBasicPublish(payload)).toBe(true);
          const decoded = decoder.decode(payload);
          expect({ name: 'basic.publish', args: decoded.args }).toEqual(decodeMethod(payload));
          const exchange = Buffer.from(args.exchange);
          const key = Buffer.from(args.routingKey);
          expect(decoded.routing.equals(Buffer.concat([Buffer.from([exchange.length]), exchange, Buffer.from([key.length]), key]))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('PublishDecoder refuses corrupted frames as the generic decoder does (typed errors), cached or not', () => {
    const valid = payloadOf(methodFrame(1, 'basic.publish', { ticket: 0, exchange: 'ex', routingKey: 'rk', mandatory: false, immediate: false }));
    fc.assert(
      fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length), fc.boolean(), (at, byte, cut, warm) => {
        const input = Buffer.from(valid);
        input[at] = byte;
        const corrupted = input.subarray(0, cut);
        const decoder = new PublishDecoder();
        if (warm) decoder.decode(valid);
        let generic: unknown;
        try {
          generic = decodeMethod(corrupted);
        } catch (err) {
          generic = err;
        }
        if (!isBasicPublish(corrupted)) return;
        try {
          const decoded = decoder.decode(corrupted);
          expect(generic).toEqual({ name: 'basic.publish', args: decoded.args });
        } catch (err) {
          expect(err).toBeInstanceOf(BrokerError);
          expect(generic).toBeInstanceOf(BrokerError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('PropertiesDecoder returns what decodeProperties does, for any sequence with repeats', () => {
    fc.assert(
      fc.property(fc.array(properties, { minLength: 1, maxLength: 8 }), fc.array(fc.nat(7), { maxLength: 12 }), (distinct, picks) => {
        const decoder = new PropertiesDecoder();
        for (const pick of [0, ...picks]) {
          const bytes = encodePropertyBytes(distinct[pick % distinct.length]!);
          expect(decoder.decode(bytes)).toEqual(decodeProperties(bytes, 0, bytes.length));
        }
      }),
      { numRuns: 300 },
    );
  });
});
