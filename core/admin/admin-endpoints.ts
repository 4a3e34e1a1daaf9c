import { timingSafeEqual } from 'node:crypto';
import { injectable } from 'inversify';
import { BrokerError } from '../errors.ts';

export type AdminMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

/**
 * Who may call a route: `public` needs no credentials (health probes); `management` needs a user with a
 * management tag (`management`, `policymaker`, `monitoring` or `administrator`, RabbitMQ's rule);
 * `administrator` needs the `administrator` tag.
 */
export type AdminAccess = 'public' | 'management' | 'administrator';

export interface AdminPrincipal {
  readonly name: string;
  readonly tags: readonly string[];
}

export interface AdminRequest {
  /** Path parameters, percent-decoded (`%2F` is `/`). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  /** The parsed JSON body, or undefined when there was none. */
  readonly body: unknown;
  /** The authenticated user; undefined only on public routes. */
  readonly principal: AdminPrincipal | undefined;
  readonly headers: Readonly<Record<string, string | undefined>>;
}

/** An answer other than `200` with a JSON body: a status, an optional body (JSON, text or bytes with a content type, `ChunkedBody`) and headers. */
export class AdminReply {
  constructor(
    readonly status: number,
    readonly body?: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  static readonly created = new AdminReply(201);
  static readonly noContent = new AdminReply(204);
}

/** A body of bytes sent as these buffers in order, never joined: a large answer assembled from parts kept elsewhere (/metrics). */
export class ChunkedBody {
  readonly length: number;

  constructor(readonly chunks: readonly Buffer[]) {
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    this.length = length;
  }
}

/** A refusal with RabbitMQ's JSON error shape, `{"error": ..., "reason": ...}`. */
export class AdminError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: unknown,
  ) {
    super(typeof reason === 'string' ? reason : error);
  }

  static badRequest(reason: unknown): AdminError {
    return new AdminError(400, 'bad_request', reason);
  }

  static notFound(): AdminError {
    return new AdminError(404, 'Object Not Found', 'Not Found');
  }

  static unavailable(reason: string): AdminError {
    return new AdminError(503, 'service_unavailable', reason);
  }

  /** A core refusal as HTTP: unknown things 404, existing or busy ones 409, invalid input 400; anything else is rethrown. */
  static from(err: unknown): AdminError {
    if (err instanceof AdminError) return err;
    if (!BrokerError.is(err)) throw err;
    switch (err.code) {
      case 'TOPIC_NOT_FOUND':
      case 'GROUP_NOT_FOUND':
        return new AdminError(404, 'not_found', err.message);
      case 'TOPIC_EXISTS':
      case 'GROUP_NOT_EMPTY':
        return new AdminError(409, 'conflict', err.message);
      case 'NOT_LEADER':
      case 'LEADER_NOT_AVAILABLE':
      case 'NOT_COORDINATOR':
      case 'COORDINATOR_LOADING':
        return new AdminError(503, 'service_unavailable', err.message);
      case 'BROKER_STATE':
      case 'STORAGE_IO':
        throw err;
      default:
        return AdminError.badRequest(err.message);
    }
  }
}

/** A request body as an object ({} when there was none); 400 for any other JSON value. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw AdminError.badRequest('not_json_object');
  return body as Record<string, unknown>;
}

/** A query parameter as an integer in [0, max], or the default when absent; 400 otherwise. */
export function queryInteger(value: string | undefined, name: string, defaultValue: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value === '') return defaultValue;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || n > max) throw AdminError.badRequest(`${name} must be an integer in [0, ${max}]`);
  return n;
}

/** Bytes for JSON: their text when they are valid UTF-8, else base64; null stays null. */
export function bytesJson(bytes: Buffer | null): { value: string | null; encoding: 'string' | 'base64' } {
  if (bytes === null) return { value: null, encoding: 'string' };
  try {
    return { value: UTF8.decode(bytes), encoding: 'string' };
  } catch {
    return { value: bytes.toString('base64'), encoding: 'base64' };
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface AdminRoute {
  readonly method: AdminMethod;
  /** A path pattern with `:name` parameters, e.g. `/api/queues/:vhost/:name`. */
  readonly path: string;
  /** One line for the endpoint index (`GET /api/wharf/endpoints`), which consoles and CLIs read. */
  readonly summary: string;
  readonly access?: AdminAccess;
  /** Returns the JSON body of a 200, or an AdminReply; throws AdminError for a refusal. */
  handler(request: AdminRequest): unknown;
}

export interface RegisteredRoute extends AdminRoute {
  /** The plugin that contributed it. */
  readonly plugin: string;
  readonly access: AdminAccess;
}

/** Checks a user's password; returns the principal, or undefined to refuse. */
/** Checks a user's password (it may take a turn of the event loop: a SCRAM user's key is derived off it). */
export type AdminAuthenticator = (user: string, password: string, remoteAddress: string | undefined) => AdminPrincipal | undefined | Promise<AdminPrincipal | undefined>;

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/** With no user store contributed: RabbitMQ's default, `guest`/`guest` as administrator, from loopback only. */
export const guestFromLoopback: AdminAuthenticator = (user, password, remoteAddress) => {
  const given = Buffer.from(`${user}\u0000${password}`);
  const expected = Buffer.from('guest\u0000guest');
  if (given.length !== expected.length || !timingSafeEqual(given, expected) || !LOOPBACK.has(remoteAddress ?? '')) return undefined;
  return { name: 'guest', tags: ['administrator'] };
};

/**
 * The admin HTTP API as plugins contribute it: each plugin adds its routes when it starts and removes
 * them when it stops (the rabbit plugin its RabbitMQ-compatible `/api/...`, kafka and rocket their
 * `/api/wharf/...` views). The admin-http plugin serves whatever is registered at the moment of a
 * request, so plugin order does not matter. Plugins never import the admin-http plugin.
 */
@injectable()
export class AdminEndpoints {
  private readonly routes = new Set<RegisteredRoute>();
  private authenticator: AdminAuthenticator = guestFromLoopback;
  private readonly listeners = new Set<() => void>();

  /** Adds a plugin's routes; returns the function that removes them. */
  add(plugin: string, routes: readonly AdminRoute[]): () => void {
    const added = routes.map((route): RegisteredRoute => ({ ...route, handler: route.handler, plugin, access: route.access ?? 'management' }));
    for (const route of added) this.routes.add(route);
    this.changed();
    return () => {
      for (const route of added) this.routes.delete(route);
      this.changed();
    };
  }

  list(): readonly RegisteredRoute[] {
    return [...this.routes];
  }

  /** Called whenever routes are added or removed; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The one place credentials are checked. The plugin that owns the user store installs its check
   * (today the rabbit plugin's AMQP users); returns the function that restores the previous one.
   */
  useAuthenticator(authenticator: AdminAuthenticator): () => void {
    const previous = this.authenticator;
    this.authenticator = authenticator;
    return () => {
      if (this.authenticator === authenticator) this.authenticator = previous;
    };
  }

  async authenticate(user: string, password: string, remoteAddress: string | undefined): Promise<AdminPrincipal | undefined> {
    return this.authenticator(user, password, remoteAddress);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

const MANAGEMENT_TAGS = new Set(['management', 'policymaker', 'monitoring', 'administrator']);

/** Whether the principal's tags grant the access level (RabbitMQ's management tags). */
export function permits(principal: AdminPrincipal, access: AdminAccess): boolean {
  if (access === 'public') return true;
  if (access === 'administrator') return principal.tags.includes('administrator');
  return principal.tags.some((tag) => MANAGEMENT_TAGS.has(tag));
}
