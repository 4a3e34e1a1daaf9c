import { streamFilter, type StreamFilter } from '../../../core/index.ts';
import type { FieldTable, FieldValue } from '../codec/index.ts';

const longString = (v: FieldValue): string | undefined => (v.type === 'S' ? v.value.toString('utf8') : undefined);

/**
 * basic.consume's `x-stream-filter` (a string, or an array whose strings count) and `x-stream-match-unfiltered`
 * (a bool, false by default), as RabbitMQ 3.13's filter_spec; undefined without a filter, as RabbitMQ
 * ignores other types. Batches are matched by core's batchMatchesFilter.
 */
export function streamFilterOf(args: FieldTable): StreamFilter | undefined {
  const filter = args.get('x-stream-filter');
  if (filter === undefined) return undefined;
  let values: string[];
  if (filter.type === 'A') values = filter.value.map(longString).filter((v): v is string => v !== undefined);
  else if (filter.type === 'S') values = [longString(filter)!];
  else return undefined;
  const unfiltered = args.get('x-stream-match-unfiltered');
  return streamFilter(values, unfiltered?.type === 't' && unfiltered.value);
}
