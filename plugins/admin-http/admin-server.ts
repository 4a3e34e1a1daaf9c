import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  AdminError,
  AdminReply,
  ChunkedBody,
  hostAddresses,
  permits,
  type AdminEndpoints,
  type AdminPrincipal,
  type ListenerRegistry,
  type Logger,
  type RegisteredRoute,
} from '../../core/index.ts';
import type { HttpSettings } from './http-config.ts';
import { RouteTable } from './route-table.ts';

export interface AdminServerOptions {
  settings: HttpSettings;
  host: string;
  endpoints: AdminEndpoints;
  listeners: ListenerRegistry;
  logger: Logger;
}

const REALM = 'Basic realm="RabbitMQ Management"';

/**
 * The admin HTTP listener: fastify parses HTTP and JSON; every request is matched against the routes
 * plugins registered (`AdminEndpoints`), authenticated with HTTP basic auth unless the route is public,
 * and answered in RabbitMQ's JSON shapes, errors included (`{"error": ..., "reason": ...}`).
 */
export class AdminServer {
  private app: FastifyInstance | undefined;
  private readonly extraServers: http.Server[] = [];
  private routes: RouteTable | undefined;

  constructor(private readonly options: AdminServerOptions) {}

  async start(): Promise<void> {
    const { settings, host, listeners, endpoints } = this.options;
    if (settings.port === 0) return;
    const serverOptions = { requestTimeout: settings.requestTimeoutMs, headersTimeout: Math.min(settings.requestTimeoutMs, 60_000), keepAliveTimeout: 5000 };
    let handler: http.RequestListener | undefined;
    const createServer = (h: http.RequestListener): http.Server => {
      const server = http.createServer(serverOptions, h);
      server.maxConnections = settings.maxConnections;
      return server;
    };
    this.routes = new RouteTable(endpoints);
    const app = Fastify({
      bodyLimit: settings.maxBodyBytes,
      forceCloseConnections: true,
      return503OnClosing: true,
      serverFactory: (h) => {
        handler = h;
        return createServer(h);
      },
    });
    this.app = app;
    // Bodies are JSON whatever the client calls them (curl sends form encoding by default): RabbitMQ reads them so too.
    app.removeAllContentTypeParsers();
    const json = app.getDefaultJsonParser('error', 'error');
    app.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
      if (body === '') return done(null, undefined);
      json(request, body as string, done);
    });
    app.setErrorHandler((err, _request, reply) => this.failed(err, reply));
    app.setNotFoundHandler((_request, reply) => void send(reply, 404, { error: 'Object Not Found', reason: 'Not Found' }));
    app.route({ method: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'], url: '/*', handler: (request, reply) => this.handle(request, reply) });
    const [first, ...rest] = hostAddresses(host);
    try {
      await app.listen({ host: first, port: settings.port === 'auto' ? 0 : settings.port });
      const port = (app.server.address() as AddressInfo).port;
      listeners.add({ protocol: 'http', host: first!, port });
      for (const address of rest) {
        const server = createServer(handler!);
        try {
          await new Promise<void>((resolve, reject) => {
            server.once('error', reject);
            server.listen({ host: address, port, exclusive: true }, () => {
              server.off('error', reject);
              resolve();
            });
          });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (address === '::1' && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) continue;
          throw err;
        }
        this.extraServers.push(server);
        listeners.add({ protocol: 'http', host: address, port });
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.options.listeners.remove('http');
    this.routes?.close();
    const closing = this.extraServers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    await this.app?.close();
    await Promise.all(closing);
    this.app = undefined;
  }

  private async handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const match = this.routes!.match(request.method, request.url);
    if (match.kind === 'none') return send(reply, 404, { error: 'Object Not Found', reason: 'Not Found' });
    if (match.kind === 'method') {
      reply.header('allow', [...match.allowed, ...(match.allowed.includes('GET') ? ['HEAD'] : [])].join(', '));
      return send(reply, 405, { error: 'Method Not Allowed', reason: `${request.method} is not allowed here` });
    }
    const { route, params } = match;
    const principal = route.access === 'public' ? undefined : await this.authorize(route, request, reply);
    if (route.access !== 'public' && !principal) return reply;
    const result = await route.handler({ params, query: singleValued(request.query as Record<string, string | string[] | undefined>), body: request.body, principal, headers: request.headers as Record<string, string | undefined> });
    if (!(result instanceof AdminReply)) return send(reply, 200, result);
    reply.headers(result.headers);
    return send(reply, result.status, result.body);
  }

  /**
   * HTTP basic auth through the one credential check (AdminEndpoints.authenticate), then the route's
   * access level. A refusal challenges with `WWW-Authenticate`, except for scripts that say they are
   * one (`X-Requested-With: XMLHttpRequest`, as the web console does): a challenge would make the
   * browser open its own login dialog over the page's sign-in form.
   */
  private async authorize(route: RegisteredRoute, request: FastifyRequest, reply: FastifyReply): Promise<AdminPrincipal | undefined> {
    const challenge = request.headers['x-requested-with'] !== 'XMLHttpRequest';
    const credentials = basicCredentials(request.headers.authorization);
    if (!credentials) {
      if (challenge) reply.header('www-authenticate', REALM);
      void reply.code(401).send();
      return undefined;
    }
    const principal = await this.options.endpoints.authenticate(credentials.user, credentials.password, request.socket.remoteAddress);
    if (!principal) {
      if (challenge) reply.header('www-authenticate', REALM);
      void send(reply, 401, { error: 'not_authorized', reason: 'Login failed' });
      return undefined;
    }
    if (!permits(principal, route.access)) {
      void send(reply, 401, { error: 'not_authorized', reason: route.access === 'administrator' ? 'Not administrator user' : 'Not management user' });
      return undefined;
    }
    return principal;
  }

  private failed(err: unknown, reply: FastifyReply): void {
    if (err instanceof AdminError) return void send(reply, err.status, { error: err.error, reason: err.reason });
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      // fastify's own refusals: a body that is not JSON, too large, a bad header.
      const code = (err as { code?: string }).code;
      const reason = code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? 'not_json' : (err as Error).message;
      return void send(reply, status, { error: status === 413 ? 'payload_too_large' : 'bad_request', reason });
    }
    this.options.logger.error({ err }, 'admin request failed');
    void send(reply, 500, { error: 'internal_error', reason: (err as Error).message ?? String(err) });
  }
}

/** A JSON body, or text/bytes as they are (their content type comes from the route's headers), or nothing. */
function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  reply.code(status);
  if (body === undefined) return reply.send();
  if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof ChunkedBody) {
    if (!reply.hasHeader('content-type')) reply.header('content-type', 'text/plain; charset=utf-8');
    return body instanceof ChunkedBody ? sendChunks(reply, body) : reply.send(body);
  }
  return reply.header('content-type', 'application/json').header('cache-control', 'no-cache').send(JSON.stringify(body));
}

/**
 * Writes the chunks to the socket as they are, in one gathered write (corked: one writev for the lot),
 * never joined into one buffer. The reply is taken from fastify (hijacked), which would copy or pipe them.
 */
function sendChunks(reply: FastifyReply, body: ChunkedBody): FastifyReply {
  reply.hijack();
  const response = reply.raw;
  response.writeHead(reply.statusCode, { ...reply.getHeaders(), 'content-length': body.length } as http.OutgoingHttpHeaders);
  response.cork();
  for (const chunk of body.chunks) response.write(chunk);
  // end() uncorks fully: the head and every chunk go out together.
  response.end();
  return reply;
}

/** `Authorization: Basic base64(user:password)`; the password may contain colons, the user may not. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A parameter given more than once (`?columns=a&columns=b`) counts once, with its last value, as routes expect one string. */
function singleValued(query: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(query)) out[key] = Array.isArray(value) ? value[value.length - 1] : value;
  return out;
}
