import { BrokerError, compileSql92, parseTagExpression, type RecordHeader } from '../../../core/index.ts';
import { RocketError } from '../status.ts';
import { propertyOf, tagOf } from './message-record.ts';

export interface WireFilterExpression {
  type?: string;
  expression?: string;
}

export type MessageFilter = (headers: readonly RecordHeader[]) => boolean;

const cache = new Map<string, MessageFilter>();
const CACHE_LIMIT = 10_000;

/** A subscription's filter (TAG or SQL92) compiled once; a bad expression is ILLEGAL_FILTER_EXPRESSION. */
export function compileFilter(filter: WireFilterExpression | undefined): MessageFilter {
  const type = filter?.type === 'SQL' ? 'SQL' : 'TAG';
  const expression = filter?.expression ?? '*';
  const key = `${type}\u0000${expression}`;
  let compiled = cache.get(key);
  if (compiled) return compiled;
  try {
    if (type === 'SQL') {
      const sql = compileSql92(expression);
      compiled = (headers) => sql.matches(propertyOf(headers));
    } else {
      const tags = parseTagExpression(expression);
      compiled = (headers) => tags.matches(tagOf(headers));
    }
  } catch (err) {
    if (err instanceof BrokerError) throw new RocketError('ILLEGAL_FILTER_EXPRESSION', err.message);
    throw err;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, compiled);
  return compiled;
}
