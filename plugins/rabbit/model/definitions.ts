import { MetadataLog, type StorageEngine } from '../../../core/index.ts';
import { decodeTable, tableSize, writeTable, type FieldTable } from '../codec/index.ts';
import type { ExchangeSpec, ExchangeType } from './exchange.ts';

interface StoredExchange {
  vhost: string;
  name: string;
  type: ExchangeType;
  autoDelete: boolean;
  internal: boolean;
  arguments: Buffer;
}

interface StoredQueue {
  vhost: string;
  name: string;
  autoDelete: boolean;
  arguments: Buffer;
}

export interface StoredBinding {
  vhost: string;
  source: string;
  destinationKind: 'queue' | 'exchange';
  destination: string;
  routingKey: string;
  arguments: Buffer;
}

type Definition = ({ kind: 'exchange' } & StoredExchange) | ({ kind: 'queue' } & StoredQueue) | ({ kind: 'binding' } & StoredBinding);

export function encodeArguments(table: FieldTable): Buffer {
  const buf = Buffer.alloc(tableSize(table));
  writeTable(buf, 0, table);
  return buf;
}

export function decodeArguments(buf: Buffer): FieldTable {
  return decodeTable(buf, 0, buf.length);
}

/** Durable exchanges, queues and bindings, kept in the internal log `__wharf_amqp-definitions`. */
export class Definitions {
  private constructor(private readonly log: MetadataLog<Definition>) {}

  static async open(engine: StorageEngine): Promise<Definitions> {
    return new Definitions(await MetadataLog.open<Definition>(engine, 'amqp-definitions'));
  }

  exchanges(vhost: string): Array<ExchangeSpec> {
    return [...this.log.values()]
      .filter((d): d is { kind: 'exchange' } & StoredExchange => d.kind === 'exchange' && d.vhost === vhost)
      .map((d) => ({ name: d.name, type: d.type, durable: true, autoDelete: d.autoDelete, internal: d.internal, arguments: decodeArguments(Buffer.from(d.arguments)) }));
  }

  queues(vhost: string): Array<{ name: string; autoDelete: boolean; arguments: FieldTable }> {
    return [...this.log.values()]
      .filter((d): d is { kind: 'queue' } & StoredQueue => d.kind === 'queue' && d.vhost === vhost)
      .map((d) => ({ name: d.name, autoDelete: d.autoDelete, arguments: decodeArguments(Buffer.from(d.arguments)) }));
  }

  bindings(vhost: string): StoredBinding[] {
    return [...this.log.values()].filter((d): d is { kind: 'binding' } & StoredBinding => d.kind === 'binding' && d.vhost === vhost);
  }

  putExchange(vhost: string, spec: ExchangeSpec): Promise<void> {
    return this.log.put(key('x', vhost, spec.name), { kind: 'exchange', vhost, name: spec.name, type: spec.type, autoDelete: spec.autoDelete, internal: spec.internal, arguments: encodeArguments(spec.arguments) });
  }

  deleteExchange(vhost: string, name: string): Promise<void> {
    return this.log.delete(key('x', vhost, name));
  }

  putQueue(vhost: string, name: string, autoDelete: boolean, args: FieldTable): Promise<void> {
    return this.log.put(key('q', vhost, name), { kind: 'queue', vhost, name, autoDelete, arguments: encodeArguments(args) });
  }

  deleteQueue(vhost: string, name: string): Promise<void> {
    return this.log.delete(key('q', vhost, name));
  }

  putBinding(b: StoredBinding): Promise<void> {
    return this.log.put(bindingKey(b), { kind: 'binding', ...b });
  }

  deleteBinding(b: StoredBinding): Promise<void> {
    return this.log.delete(bindingKey(b));
  }
}

function key(kind: string, vhost: string, name: string): string {
  return `${kind}\u0000${vhost}\u0000${name}`;
}

function bindingKey(b: StoredBinding): string {
  return ['b', b.vhost, b.source, b.destinationKind, b.destination, b.routingKey, Buffer.from(b.arguments).toString('hex')].join('\u0000');
}
