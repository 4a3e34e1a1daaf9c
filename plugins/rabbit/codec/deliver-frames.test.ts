import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessageKey, STORED_ROUTING_AT, storedPropertiesAt } from '../model/stored-message.ts';
import { contentFrames, writeDeliver, type FrameSink } from './index.ts';

/** Collects everything written into one buffer. */
class CollectingSink implements FrameSink {
  private readonly buf = Buffer.alloc(1 << 16);
  pos = 0;
  room(): Buffer {
    return this.buf;
  }
  add(bytes: Buffer): void {
    this.pos += bytes.copy(this.buf, this.pos);
  }
  get bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

describe('writeDeliver', () => {
  it('writes the same bytes as the generic encoder, from the stored key', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 60 }),
        fc.stringMatching(/^[a-z0-9.-]{1,40}$/),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.boolean(),
        fc.uint8Array({ maxLength: 64 }),
        fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 2000, maxLength: 2100 }), fc.uint8Array({ minLength: 5000, maxLength: 9000 })),
        fc.integer({ min: 0, max: 65535 }),
        (exchange, routingKey, consumerTag, deliveryTag, redelivered, props, body, channel) => {
          const properties = Buffer.from(props);
          const key = encodeMessageKey({ exchange, routingKey, properties, persistent: false, priority: 0, expiresAt: -1 });
          const shortstr = (text: string): Buffer => Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)]);
          const routing = Buffer.concat([shortstr(exchange), shortstr(routingKey)]);
          expect(encodeMessageKey({ exchange, routingKey, routing, properties, persistent: false, priority: 0, expiresAt: -1 }).equals(key)).toBe(true);
          const frameMax = 4096;
          const sink = new CollectingSink();
          writeDeliver(sink, channel, Buffer.from(consumerTag), deliveryTag, redelivered, key, STORED_ROUTING_AT, storedPropertiesAt(key), Buffer.from(body), frameMax);
          const fast = sink.bytes;
          const generic = Buffer.concat(contentFrames(channel, 'basic.deliver', { consumerTag, deliveryTag, redelivered, exchange, routingKey }, properties, Buffer.from(body), frameMax));
          expect(fast.equals(generic)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
