import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { ClientDescription } from '../../core/index.ts';

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
  /** `address:port` of the connection its latest call came on (grpc-js's getPeer). */
  peer?: string;
  /** x-mq-language and x-mq-client-version of its calls. */
  software?: { name: string; version: string };
  /** The access key its calls are signed with, if they are. */
  user?: string;
}

/** The clients this broker has heard from, keyed by their `x-mq-client-id`. */
export class ClientRegistry {
  private readonly sessions = new Map<string, ClientSession>();
  private readonly byPeer = new Map<string, ClientSession>();

  constructor(
    private readonly now: () => number,
    private readonly timeoutMs: number,
  ) {}

  touch(id: string, peer?: string): ClientSession {
    let session = this.sessions.get(id);
    if (!session) {
      session = { id, topics: new Set(), lastSeen: 0 };
      this.sessions.set(id, session);
    }
    session.lastSeen = this.now();
    if (peer !== undefined && session.peer !== peer) {
      session.peer = peer;
      this.byPeer.set(peer, session);
    }
    return session;
  }

  /** The client whose latest call came on the connection from `peer` (`address:port`). */
  onPeer(peer: string): ClientSession | undefined {
    return this.byPeer.get(peer);
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
    this.forgetPeer(session);
  }

  private forgetPeer(session: ClientSession | undefined): void {
    if (session?.peer !== undefined && this.byPeer.get(session.peer) === session) this.byPeer.delete(session.peer);
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
    for (const [id, session] of this.sessions) {
      if (session.telemetry || this.now() - session.lastSeen < this.timeoutMs) continue;
      this.sessions.delete(id);
      this.forgetPeer(session);
    }
  }

  closeAll(): void {
    for (const session of this.sessions.values()) session.telemetry?.end();
    this.sessions.clear();
    this.byPeer.clear();
  }
}

/** A client as the connections view shows it: its id, software, user, type and group. */
export function describeClient(session: ClientSession | undefined): ClientDescription {
  if (!session) return {};
  return {
    clientId: session.id,
    clientSoftware: session.software,
    user: session.user,
    details: { client_type: session.type ?? null, group: session.group ?? null, language: session.software?.name ?? null },
  };
}
