/**
 * How a stream message maps onto a record, the same for every protocol that reads or writes streams:
 *
 * - the record value is the message body (AMQP 1.0: the one `data` section; AMQP 0-9-1: the body);
 * - each application property (AMQP 1.0) or header (AMQP 0-9-1) whose name and value are strings is a
 *   record header `name` = UTF-8 value: what Kafka clients see, and Kafka headers come back as such;
 * - everything else is kept as AMQP 1.0 bytes in a header named `x-amqp-<section>`: the header,
 *   delivery-annotations, message-annotations, properties and footer sections as published, and the
 *   application properties that are not string → string as one AMQP 1.0 map;
 * - `x-amqp-body` (empty) marks a value that holds the body sections as published (amqp-value,
 *   amqp-sequence, several data sections, or bytes that are not an AMQP 1.0 message);
 * - `x-amqp-publisher` on the last record of a batch: the stream publisher's reference and last
 *   publishing id (deduplication);
 * - `x-amqp-filter-value`: the filter value a stream protocol Publish v2 gave the message (see
 *   stream-filter.ts; AMQP 0-9-1 publishers give theirs as the plain header `x-stream-filter-value`);
 * - `x-amqp-sub-entry` (empty) on the first record of a batch: the batch is one sub-entry of a stream
 *   protocol Publish, delivered to stream consumers as a sub-entry again (compressed as the batch is).
 * Header names starting `x-amqp-` are reserved: they are never shown as application properties.
 */
export const HEADER = {
  header: Buffer.from('x-amqp-header'),
  deliveryAnnotations: Buffer.from('x-amqp-delivery-annotations'),
  messageAnnotations: Buffer.from('x-amqp-message-annotations'),
  properties: Buffer.from('x-amqp-properties'),
  footer: Buffer.from('x-amqp-footer'),
  applicationProperties: Buffer.from('x-amqp-application-properties'),
  body: Buffer.from('x-amqp-body'),
  publisher: Buffer.from('x-amqp-publisher'),
  filterValue: Buffer.from('x-amqp-filter-value'),
  subEntry: Buffer.from('x-amqp-sub-entry'),
} as const;

/** The sections kept verbatim, in AMQP 1.0's order of sections (application properties and body come between properties and footer). */
export const SECTION_HEADERS: readonly Buffer[] = [HEADER.header, HEADER.deliveryAnnotations, HEADER.messageAnnotations, HEADER.properties, HEADER.footer];

/** The prefix of reserved header names. */
export const RESERVED_PREFIX = Buffer.from('x-amqp-');

/** Whether `buf[start, end)` begins with the reserved prefix. */
export function isReservedName(buf: Buffer, start: number, end: number): boolean {
  if (end - start < RESERVED_PREFIX.length) return false;
  for (let i = 0; i < RESERVED_PREFIX.length; i++) if (buf[start + i] !== RESERVED_PREFIX[i]) return false;
  return true;
}

/** Whether `buf[start, end)` is exactly `name`. */
export function nameIs(buf: Buffer, start: number, end: number, name: Buffer): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (buf[start + i] !== name[i]) return false;
  return true;
}
