import { headersMatch, TopicMatcher, type HeadersMatch } from '../../../core/index.ts';
import { fieldText, type FieldTable } from '../codec/index.ts';

export type ExchangeType = 'direct' | 'fanout' | 'topic' | 'headers';
export const EXCHANGE_TYPES: readonly string[] = ['direct', 'fanout', 'topic', 'headers'];

/** Where a binding leads: a queue or (exchange-to-exchange) another exchange. */
export interface Destination {
  kind: 'queue' | 'exchange';
  name: string;
}

export interface Binding {
  destination: Destination;
  routingKey: string;
  arguments: FieldTable;
  /** Identity within the exchange: destination, key and arguments. */
  id: string;
}

export interface ExchangeSpec {
  name: string;
  type: ExchangeType;
  durable: boolean;
  autoDelete: boolean;
  internal: boolean;
  arguments: FieldTable;
}

const destinationKey = (d: Destination): string => `${d.kind}\u0000${d.name}`;

/** An exchange and its bindings, with the matching structure its type needs. */
export class Exchange {
  private readonly bindings = new Map<string, Binding>();
  private readonly direct = new Map<string, Map<string, Destination>>();
  private readonly topic = new TopicMatcher<string>();
  private readonly destinations = new Map<string, { destination: Destination; bindings: number }>();

  constructor(readonly spec: ExchangeSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get bindingCount(): number {
    return this.bindings.size;
  }

  get alternateExchange(): string | undefined {
    return fieldText(this.spec.arguments.get('alternate-exchange'));
  }

  allBindings(): IterableIterator<Binding> {
    return this.bindings.values();
  }

  /** Adds a binding; returns false if an identical one exists. */
  bind(binding: Binding): boolean {
    if (this.bindings.has(binding.id)) return false;
    this.bindings.set(binding.id, binding);
    const key = destinationKey(binding.destination);
    const entry = this.destinations.get(key);
    if (entry) entry.bindings++;
    else this.destinations.set(key, { destination: binding.destination, bindings: 1 });
    if (this.spec.type === 'direct') {
      let byKey = this.direct.get(binding.routingKey);
      if (!byKey) this.direct.set(binding.routingKey, (byKey = new Map()));
      byKey.set(binding.id, binding.destination);
    } else if (this.spec.type === 'topic') this.topic.add(binding.routingKey, key);
    return true;
  }

  unbind(id: string): Binding | undefined {
    const binding = this.bindings.get(id);
    if (!binding) return undefined;
    this.bindings.delete(id);
    const key = destinationKey(binding.destination);
    const entry = this.destinations.get(key)!;
    if (--entry.bindings === 0) this.destinations.delete(key);
    if (this.spec.type === 'direct') {
      const byKey = this.direct.get(binding.routingKey);
      byKey?.delete(id);
      if (byKey?.size === 0) this.direct.delete(binding.routingKey);
    } else if (this.spec.type === 'topic') this.topic.remove(binding.routingKey, destinationKey(binding.destination));
    return binding;
  }

  /** Removes every binding to a destination (it was deleted); returns them. */
  unbindDestination(destination: Destination): Binding[] {
    const removed = [...this.bindings.values()].filter((b) => b.destination.kind === destination.kind && b.destination.name === destination.name);
    for (const b of removed) this.unbind(b.id);
    return removed;
  }

  /** The destinations a message with this routing key and headers reaches through this exchange alone. */
  route(routingKey: string, headers: FieldTable | undefined, out: Destination[]): void {
    switch (this.spec.type) {
      case 'direct':
        for (const d of this.direct.get(routingKey)?.values() ?? []) out.push(d);
        return;
      case 'fanout':
        for (const b of this.bindings.values()) out.push(b.destination);
        return;
      case 'topic':
        for (const key of this.topic.match(routingKey)) out.push(this.destinations.get(key)!.destination);
        return;
      case 'headers':
        for (const b of this.bindings.values()) {
          const mode = (fieldText(b.arguments.get('x-match')) ?? 'all') as HeadersMatch;
          if (headersMatch(mode, b.arguments, headers)) out.push(b.destination);
        }
        return;
    }
  }
}
