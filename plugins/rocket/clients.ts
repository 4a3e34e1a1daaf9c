import type { ServerDuplexStream } from '@grpc/grpc-js';

/** apache.rocketmq.v2.ClientType by name (PRODUCER, PUSH_CONSUMER, SIMPLE_CONSUMER, ...). */
export type ClientType = string;

export interface ClientSession {
  readonly id: string;
  type?: ClientType;
  group?: string;
  language?: string;
  /** Topics a producer announced in its settings. */
  topics: Set<string>;
  lastSeen: number;
  telemetry?: ServerDuplexStream<unknown, unknown>;
}

/** The clients this broker has heard from, keyed by their `x-mq-client-id`. */
export class ClientRegistry {
  private readonly sessions = new Map<string, ClientSession>();

  constructor(
    private readonly now: () => number,
    private readonly timeoutMs: number,
  ) {}

  touch(id: string): ClientSession {
    let session = this.sessions.get(id);
    if (!session) {
      session = { id, topics: new Set(), lastSeen: 0 };
      this.sessions.set(id, session);
    }
    session.lastSeen = this.now();
    return session;
  }

  /** Every known client. */
  list(): IterableIterator<ClientSession> {
    return this.sessions.values();
  }

  get(id: string): ClientSession | undefined {
    return this.sessions.get(id);
  }

  alive(id: string): boolean {
    const session = this.sessions.get(id);
    return session !== undefined && (session.telemetry !== undefined || this.now() - session.lastSeen < this.timeoutMs);
  }

  remove(id: string): void {
    const session = this.sessions.get(id);
    session?.telemetry?.end();
    this.sessions.delete(id);
  }

  /** Producers with an open telemetry stream that publish to `topic`, `preferred` first. */
  producersOf(topic: string, preferred?: string): ClientSession[] {
    const found = [...this.sessions.values()].filter((s) => s.telemetry && s.type === 'PRODUCER' && (s.topics.size === 0 || s.topics.has(topic)));
    return found.sort((a, b) => Number(b.id === preferred) - Number(a.id === preferred));
  }

  /** Ids of the push consumers of a group. */
  members(group: string): string[] {
    return [...this.sessions.values()].filter((s) => s.group === group && s.type === 'PUSH_CONSUMER').map((s) => s.id);
  }

  /** Forgets clients silent for longer than the timeout. */
  expire(): void {
    for (const [id, session] of this.sessions) if (!session.telemetry && this.now() - session.lastSeen >= this.timeoutMs) this.sessions.delete(id);
  }

  closeAll(): void {
    for (const session of this.sessions.values()) session.telemetry?.end();
    this.sessions.clear();
  }
}
