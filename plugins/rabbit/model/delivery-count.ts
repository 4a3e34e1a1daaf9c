import { decodeProperties, encodePropertiesBytes, field } from '../codec/index.ts';
import { storedPropertiesAt } from './stored-message.ts';

/**
 * A stored message key with the `x-delivery-count` header a quorum queue adds (a long, the headers then
 * sorted by name as RabbitMQ's set_table_value leaves them). Only redeliveries and basic.get pay for it.
 */
export function withDeliveryCount(key: Buffer, count: number): Buffer {
  const propertiesAt = storedPropertiesAt(key);
  const properties = decodeProperties(key, propertiesAt, key.length);
  const headers = new Map(properties.headers ?? []).set('x-delivery-count', field.long(count));
  const sorted = new Map([...headers].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  return Buffer.concat([key.subarray(0, propertiesAt), encodePropertiesBytes({ ...properties, headers: sorted })]);
}
