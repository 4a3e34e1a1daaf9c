import { decodeMethod, decodeProperties, type BasicProperties, type MethodArgs } from './generated/methods.ts';

/** Class 60 (basic), method 40 (publish). */
export function isBasicPublish(payload: Buffer): boolean {
  return payload.length >= 4 && payload[0] === 0 && payload[1] === 60 && payload[2] === 0 && payload[3] === 40;
}

export interface DecodedPublish {
  readonly args: Readonly<MethodArgs['basic.publish']>;
  /** The exchange and routing-key shortstrs exactly as they arrived (the stored message key holds them so). */
  readonly routing: Buffer;
}

/**
 * basic.publish arguments. Publishers mostly repeat the same exchange, routing key and flags: when the
 * argument bytes equal the previous frame's, the previous (immutable) result is returned without decoding.
 */
export class PublishDecoder {
  private last: DecodedPublish | undefined;
  /** The previous frame's argument bytes (after class and method ids). */
  private lastBytes: Buffer = Buffer.alloc(0);

  /** `payload` is a whole basic.publish method frame payload (class and method ids included). */
  decode(payload: Buffer): DecodedPublish {
    if (this.last !== undefined && sameBytes(payload, 4, this.lastBytes)) return this.last;
    const method = decodeMethod(payload);
    if (method.name !== 'basic.publish') throw new TypeError(`not basic.publish: ${method.name}`);
    const exchangeAt = 6;
    const end = exchangeAt + 1 + payload[exchangeAt]! + 1 + payload[exchangeAt + 1 + payload[exchangeAt]!]!;
    this.lastBytes = Buffer.from(payload.subarray(4));
    this.last = { args: method.args, routing: this.lastBytes.subarray(exchangeAt - 4, end - 4) };
    return this.last;
  }
}

/** Content-header properties, the previous (immutable) result reused when the bytes repeat. */
export class PropertiesDecoder {
  private last: Readonly<BasicProperties> | undefined;
  private lastBytes: Buffer = Buffer.alloc(0);

  decode(bytes: Buffer): Readonly<BasicProperties> {
    if (this.last !== undefined && sameBytes(bytes, 0, this.lastBytes)) return this.last;
    const properties = decodeProperties(bytes, 0, bytes.length);
    this.lastBytes = Buffer.from(bytes);
    this.last = properties;
    return properties;
  }
}

/** Whether `buf` from `at` to its end holds exactly `expected` (short inputs: a loop beats a native call). */
function sameBytes(buf: Buffer, at: number, expected: Buffer): boolean {
  if (buf.length - at !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (buf[at + i] !== expected[i]) return false;
  return true;
}
