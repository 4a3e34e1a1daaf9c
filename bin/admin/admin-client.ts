import http from 'node:http';
import https from 'node:https';

/** The admin commands' exit codes (README: Admin CLI). */
export const EXIT = {
  ok: 0,
  /** The server refused the request: 400, 409, 5xx. */
  refused: 1,
  /** Unknown command or option, a missing or malformed argument. */
  usage: 2,
  /** No connection, no answer in time, or an answer that is not the admin API's. */
  unreachable: 3,
  /** 401: wrong user or password, or a user without the management tag. */
  unauthorized: 4,
  /** 404: no such topic, group, queue or vhost. */
  notFound: 5,
} as const;

/** A failure the CLI reports as one line on stderr and an exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** The HTTP status of a refusal. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ServerOptions {
  /** Base URL of the admin HTTP server, e.g. http://127.0.0.1:15672 (a path prefix is kept). */
  server: string;
  user: string;
  password: string;
  timeoutMs: number;
}

/** A path with every interpolated value percent-encoded as one segment: apiPath`/api/queues/${vhost}`. */
export function apiPath(parts: TemplateStringsArray, ...values: Array<string | number>): string {
  return parts.reduce((path, part, i) => path + encodeURIComponent(values[i - 1]!) + part);
}

/**
 * The one HTTP client of the admin commands: basic auth, JSON in and out, and the admin API's answers
 * (RabbitMQ's `{"error", "reason"}` refusals) turned into CliFailures with their exit codes. `subject`
 * names what a request is about ("Kafka topic orders") for the 404 message.
 */
export class AdminClient {
  private readonly base: URL;
  private readonly authorization: string;

  constructor(private readonly options: ServerOptions) {
    let base: URL;
    try {
      base = new URL(options.server);
    } catch {
      throw new CliFailure(`--server must be a URL such as http://127.0.0.1:15672, not ${JSON.stringify(options.server)}`, EXIT.usage);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new CliFailure(`--server must be an http:// or https:// URL, not ${options.server}`, EXIT.usage);
    this.base = base;
    this.authorization = `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  }

  async get<T>(path: string, subject: string): Promise<T> {
    return (await this.request('GET', path, subject)).body as T;
  }

  /** PUT with a JSON body; resolves with the status (201 created, 204 changed). */
  async put(path: string, subject: string, body: unknown): Promise<number> {
    return (await this.request('PUT', path, subject, body)).status;
  }

  async delete(path: string, subject: string): Promise<void> {
    await this.request('DELETE', path, subject);
  }

  private request(method: string, path: string, subject: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const url = new URL(this.base.pathname.replace(/\/+$/, '') + path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string | number> = { authorization: this.authorization, accept: 'application/json' };
    if (payload) Object.assign(headers, { 'content-type': 'application/json', 'content-length': payload.length });
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method, headers, agent: false, timeout: this.options.timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (err) => reject(this.unreachable(err)));
        response.on('end', () => {
          try {
            resolve(this.answer(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), subject));
          } catch (err) {
            reject(err);
          }
        });
      });
      request.on('timeout', () => request.destroy(new CliFailure(`no answer from ${this.base.origin} within ${this.options.timeoutMs} ms`, EXIT.unreachable)));
      request.on('error', (err) => reject(err instanceof CliFailure ? err : this.unreachable(err)));
      request.end(payload);
    });
  }

  private answer(status: number, text: string, subject: string): { status: number; body: unknown } {
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new CliFailure(`${this.base.origin} answered ${status} with something other than JSON: is it Wharf's admin HTTP port?`, EXIT.unreachable);
    }
    if (status >= 200 && status < 300) return { status, body };
    const reason = reasonOf(body);
    if (status === 401) {
      // RabbitMQ's reasons: 'Login failed' for credentials, 'Not management user' / 'Not administrator user' for tags.
      const hint = reason === undefined || reason === 'Login failed' ? ' (check --user and --password)' : '';
      throw new CliFailure(`${this.base.origin} refused user ${JSON.stringify(this.options.user)}: ${reason ?? 'not authorized'}${hint}`, EXIT.unauthorized, status);
    }
    if (status === 404) throw new CliFailure(reason === undefined || reason === 'Not Found' ? `${subject} not found` : `${subject}: ${reason}`, EXIT.notFound, status);
    throw new CliFailure(`${subject}: ${reason ?? 'refused'} (HTTP ${status})`, EXIT.refused, status);
  }

  private unreachable(err: Error): CliFailure {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ECONNREFUSED' ? 'connection refused (is the broker running, with --http-port?)' : code === 'ENOTFOUND' ? 'unknown host' : err.message;
    return new CliFailure(`cannot reach ${this.base.origin}: ${why}`, EXIT.unreachable);
  }
}

/** RabbitMQ's error bodies carry the why in `reason` (a string, or any JSON value). */
function reasonOf(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || !('reason' in body)) return undefined;
  const reason = (body as { reason: unknown }).reason;
  return typeof reason === 'string' ? reason : JSON.stringify(reason);
}
