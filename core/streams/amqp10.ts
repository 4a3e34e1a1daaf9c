import { malformed } from '../errors.ts';

/** AMQP 1.0 message sections, by the small-ulong descriptor code RabbitMQ's stream clients write. */
export const Section = {
  header: 0x70,
  deliveryAnnotations: 0x71,
  messageAnnotations: 0x72,
  properties: 0x73,
  applicationProperties: 0x74,
  data: 0x75,
  amqpSequence: 0x76,
  amqpValue: 0x77,
  footer: 0x78,
} as const;

const MAX_DESCRIBED_DEPTH = 16;

/**
 * The end of the AMQP 1.0 encoded value at `pos` (bounds-checked against `end`); MALFORMED_INPUT for
 * an unknown format code or a value running past `end`.
 */
export function skipAmqpValue(buf: Buffer, pos: number, end: number, depth = 0): number {
  if (pos >= end) throw malformed('AMQP 1.0 value runs past the end');
  const code = buf[pos]!;
  let next: number;
  switch (code >> 4) {
    case 0x0:
      if (code !== 0 || depth >= MAX_DESCRIBED_DEPTH) throw malformed(`AMQP 1.0 format code 0x${code.toString(16)}`);
      return skipAmqpValue(buf, skipAmqpValue(buf, pos + 1, end, depth + 1), end, depth + 1);
    case 0x4:
      if (code > 0x45) throw unknown(code);
      next = pos + 1;
      break;
    case 0x5:
      if (code > 0x56) throw unknown(code);
      next = pos + 2;
      break;
    case 0x6:
      if (code > 0x61) throw unknown(code);
      next = pos + 3;
      break;
    case 0x7:
      if (code > 0x74) throw unknown(code);
      next = pos + 5;
      break;
    case 0x8:
      if (code > 0x84) throw unknown(code);
      next = pos + 9;
      break;
    case 0x9:
      if (code !== 0x94 && code !== 0x98) throw unknown(code);
      next = pos + 17;
      break;
    case 0xa:
    case 0xc:
    case 0xe:
      if (pos + 2 > end) throw malformed('AMQP 1.0 value runs past the end');
      next = pos + 2 + buf[pos + 1]!;
      break;
    case 0xb:
    case 0xd:
    case 0xf:
      if (pos + 5 > end) throw malformed('AMQP 1.0 value runs past the end');
      next = pos + 5 + buf.readUInt32BE(pos + 1);
      break;
    default:
      throw unknown(code);
  }
  if (next > end) throw malformed('AMQP 1.0 value runs past the end');
  return next;
}

const unknown = (code: number) => malformed(`AMQP 1.0 format code 0x${code.toString(16)}`);

/** The section code of the described section at `pos` (`0x00 0x53 code` or `0x00 0x80 <ulong>`), or -1. */
export function sectionCodeAt(buf: Buffer, pos: number, end: number): number {
  if (pos + 3 > end || buf[pos] !== 0) return -1;
  if (buf[pos + 1] === 0x53) return buf[pos + 2]!;
  if (buf[pos + 1] === 0x80 && pos + 10 <= end && buf.readUInt32BE(pos + 2) === 0) return buf.readUInt32BE(pos + 6);
  return -1;
}

/** Bytes of the descriptor of a section whose code `sectionCodeAt` read. */
export const descriptorSize = (buf: Buffer, pos: number): number => (buf[pos + 1] === 0x53 ? 3 : 10);

/** Whether the value at `pos` is a string (str8/str32). */
export const isAmqpString = (code: number): boolean => code === 0xa1 || code === 0xb1;
/** Whether it is a string or a symbol: what a map key of application properties may be. */
export const isAmqpName = (code: number): boolean => code === 0xa1 || code === 0xb1 || code === 0xa3 || code === 0xb3;

/** Size of a str8/str32 (or vbin8/vbin32) header for `length` bytes. */
export const variableHeaderSize = (length: number): number => (length <= 255 ? 2 : 5);

/** Writes a str8/str32 (`string`) or vbin8/vbin32 (`binary`) header at `pos`; returns the position after it. */
export function writeVariableHeader(buf: Buffer, pos: number, length: number, kind: 'string' | 'binary'): number {
  if (length <= 255) {
    buf[pos] = kind === 'string' ? 0xa1 : 0xa0;
    buf[pos + 1] = length;
    return pos + 2;
  }
  buf[pos] = kind === 'string' ? 0xb1 : 0xb0;
  buf.writeUInt32BE(length, pos + 1);
  return pos + 5;
}
