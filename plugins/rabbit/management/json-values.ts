import { AdminError } from '../../../core/index.ts';

export { bodyObject } from '../../../core/index.ts';
import type { BasicProperties, FieldTable, FieldValue } from '../codec/index.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A field table as RabbitMQ's management API writes it: strings, numbers, booleans, nested objects and arrays. */
export function tableToJson(table: FieldTable | undefined): { [key: string]: Json } {
  const out: { [key: string]: Json } = {};
  for (const [name, value] of table ?? []) out[name] = valueToJson(value);
  return out;
}

function valueToJson(v: FieldValue): Json {
  switch (v.type) {
    case 'S':
    case 'x':
      return v.value.toString('utf8');
    case 'l':
    case 'T':
      return Number(v.value);
    case 'D':
      return v.value.digits / 10 ** v.value.scale;
    case 'A':
      return v.value.map(valueToJson);
    case 'F':
      return tableToJson(v.value);
    case 'V':
      return null;
    default:
      return v.value;
  }
}

const MAX_DEPTH = 32;

/**
 * A JSON object as RabbitMQ's management API reads arguments and headers: integers become `long`,
 * other numbers `double`, strings `longstr`, booleans `bool`, arrays and objects nest, null is `void`.
 */
export function jsonToTable(json: unknown, what = 'arguments', depth = 0): FieldTable {
  if (json === undefined || json === null || (Array.isArray(json) && json.length === 0)) return new Map();
  if (typeof json !== 'object' || Array.isArray(json)) throw AdminError.badRequest(`${what} must be a JSON object`);
  if (depth > MAX_DEPTH) throw AdminError.badRequest(`${what} are nested too deeply`);
  const table: FieldTable = new Map();
  // RabbitMQ builds a table from a decoded JSON object by folding over an Erlang map: in key order (up to 32 keys).
  const entries = Object.entries(json as Record<string, unknown>);
  if (entries.length <= 32) entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const [name, value] of entries) {
    if (Buffer.byteLength(name) > 255) throw AdminError.badRequest(`${what}: the name ${JSON.stringify(name.slice(0, 32))}... is longer than 255 bytes`);
    table.set(name, jsonToValue(value, what, depth));
  }
  return table;
}

function jsonToValue(value: unknown, what: string, depth: number): FieldValue {
  if (value === null) return { type: 'V', value: null };
  if (typeof value === 'boolean') return { type: 't', value };
  if (typeof value === 'string') return { type: 'S', value: Buffer.from(value, 'utf8') };
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return { type: 'l', value: BigInt(value) };
    if (Number.isFinite(value)) return { type: 'd', value };
    throw AdminError.badRequest(`${what}: ${value} is not a number AMQP can carry`);
  }
  if (Array.isArray(value)) {
    if (depth > MAX_DEPTH) throw AdminError.badRequest(`${what} are nested too deeply`);
    return { type: 'A', value: value.map((v) => jsonToValue(v, what, depth + 1)) };
  }
  if (typeof value === 'object') return { type: 'F', value: jsonToTable(value, what, depth + 1) };
  throw AdminError.badRequest(`${what}: unsupported value`);
}

/** RabbitMQ's `properties` object (snake_case); an empty property list is written `[]`, as RabbitMQ does. */
export function propertiesToJson(p: BasicProperties): { [key: string]: Json } | [] {
  const out: { [key: string]: Json } = {};
  if (p.contentType !== undefined) out.content_type = p.contentType;
  if (p.contentEncoding !== undefined) out.content_encoding = p.contentEncoding;
  if (p.headers !== undefined) out.headers = tableToJson(p.headers);
  if (p.deliveryMode !== undefined) out.delivery_mode = p.deliveryMode;
  if (p.priority !== undefined) out.priority = p.priority;
  if (p.correlationId !== undefined) out.correlation_id = p.correlationId;
  if (p.replyTo !== undefined) out.reply_to = p.replyTo;
  if (p.expiration !== undefined) out.expiration = p.expiration;
  if (p.messageId !== undefined) out.message_id = p.messageId;
  if (p.timestamp !== undefined) out.timestamp = p.timestamp;
  if (p.type !== undefined) out.type = p.type;
  if (p.userId !== undefined) out.user_id = p.userId;
  if (p.appId !== undefined) out.app_id = p.appId;
  if (p.clusterId !== undefined) out.cluster_id = p.clusterId;
  return Object.keys(out).length === 0 ? [] : out;
}

const SHORT_STRINGS = {
  content_type: 'contentType',
  content_encoding: 'contentEncoding',
  correlation_id: 'correlationId',
  reply_to: 'replyTo',
  expiration: 'expiration',
  message_id: 'messageId',
  type: 'type',
  user_id: 'userId',
  app_id: 'appId',
  cluster_id: 'clusterId',
} as const;

/** The `properties` of a publish request; unknown keys are refused as RabbitMQ does. */
export function jsonToProperties(json: unknown): BasicProperties {
  if (json === undefined || json === null || (Array.isArray(json) && json.length === 0)) return {};
  if (typeof json !== 'object' || Array.isArray(json)) throw AdminError.badRequest('properties must be a JSON object');
  const p: BasicProperties = {};
  for (const [key, value] of Object.entries(json as Record<string, unknown>)) {
    if (key in SHORT_STRINGS) {
      if (typeof value !== 'string' || Buffer.byteLength(value) > 255) throw AdminError.badRequest(`property ${key} must be a string of at most 255 bytes`);
      (p as Record<string, unknown>)[SHORT_STRINGS[key as keyof typeof SHORT_STRINGS]] = value;
    } else if (key === 'delivery_mode' || key === 'priority') {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 255) throw AdminError.badRequest(`property ${key} must be an integer in [0, 255]`);
      if (key === 'delivery_mode') p.deliveryMode = n;
      else p.priority = n;
    } else if (key === 'timestamp') {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw AdminError.badRequest('property timestamp must be a non-negative integer');
      p.timestamp = value;
    } else if (key === 'headers') {
      p.headers = jsonToTable(value, 'headers');
    } else throw AdminError.badRequest(`unknown property ${key}`);
  }
  return p;
}

/** RabbitMQ's HTTP booleans: true/false, or the strings "true"/"false" (rabbitmqadmin sends strings). */
export function jsonBoolean(body: Record<string, unknown>, key: string, defaultValue: boolean): boolean {
  const value = body[key];
  if (value === undefined) return defaultValue;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw AdminError.badRequest(['not_boolean', value as Json]);
}
