import type { FieldTable, FieldValue } from '../codec/index.ts';
import { typeName } from '../model/field-terms.ts';
import { atom, binary, float, integer, list, phash2, tuple, type ErlangTerm } from './erlang-phash2.ts';

/**
 * RabbitMQ's binding identity in URLs (rabbit_mgmt_format:pack_binding_props): the routing key, `~` if empty,
 * and `~` + base64url of erlang:phash2(Args, 2^32) as 4 big-endian bytes when there are arguments, Args
 * being the argument table as RabbitMQ keeps it: `[{Name, Type, Value}]` sorted by name.
 */
export function propertiesKey(routingKey: string, args: FieldTable): string {
  const key = routingKey === '' ? '' : encodeURIComponent(routingKey);
  if (args.size === 0) return key === '' ? '~' : key;
  const hash = Buffer.alloc(4);
  hash.writeUInt32BE(phash2(tableTerm(args, true)));
  return `${key}~${hash.toString('base64url')}`;
}

/** A field table as an Erlang term; RabbitMQ sorts a binding's arguments by name (rabbit_misc:sort_field_table), not nested tables. */
function tableTerm(table: FieldTable, sorted: boolean): ErlangTerm {
  const entries = [...table];
  if (sorted) entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return list(entries.map(([name, value]) => tuple(binary(Buffer.from(name, 'utf8')), atom(typeName(value)), valueTerm(value))));
}

function valueTerm(field: FieldValue): ErlangTerm {
  switch (field.type) {
    case 'S':
    case 'x':
      return binary(field.value);
    case 't':
      return atom(field.value ? 'true' : 'false');
    case 'f':
    case 'd':
      return float(field.value);
    case 'D':
      return tuple(integer(field.value.scale), integer(field.value.digits));
    case 'A':
      return list(field.value.map((v) => tuple(atom(typeName(v)), valueTerm(v))));
    case 'F':
      return tableTerm(field.value, false);
    case 'V':
      return atom('undefined');
    default:
      return integer(field.value);
  }
}
