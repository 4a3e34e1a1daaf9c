import { createBroker, type Broker, type BrokerPlugin } from '../../core/index.ts';
import { adminHttp } from '../../plugins/admin-http/index.ts';
import { fsStorage } from '../../plugins/storage-fs/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';

export interface AdminTestBroker {
  broker: Broker;
  /** `http://127.0.0.1:<port>` */
  base: string;
  port(protocol: string): number;
  /** A request with guest/guest (or `auth`) and a JSON body; the parsed JSON answer (or text) with the status. */
  api(method: string, path: string, body?: unknown, auth?: { user: string; password: string } | null): Promise<{ status: number; body: any; headers: Headers }>;
  /** The Prometheus exposition, parsed. */
  scrape(path?: string): Promise<Sample[]>;
  stop(): Promise<void>;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A broker with the given protocol plugins and the admin HTTP server, every listener on an OS-chosen loopback port. */
export async function startAdmin(plugins: BrokerPlugin<never>[], config: Record<string, unknown> = {}, dataDir?: string): Promise<AdminTestBroker> {
  const sections = new Set(plugins.map((p) => p.config?.name));
  const ports = Object.fromEntries(['kafka', 'amqp', 'rocket', 'stream'].filter((name) => sections.has(name)).map((name) => [name, { port: 'auto', ...(config[name] as object) }]));
  const broker = await createBroker({
    plugins: [dataDir ? fsStorage() : memoryStorage(), ...plugins, adminHttp()],
    config: {
      logLevel: 'error',
      host: '127.0.0.1',
      ...(dataDir ? { dataDir } : {}),
      topics: { flush: 'never' },
      groups: { initialRebalanceDelayMs: 0, minSessionTimeoutMs: 1000 },
      ...config,
      ...ports,
      http: { port: 'auto', ...(config.http as object) },
    },
  });
  await broker.start();
  const port = (protocol: string): number => broker.listeners().find((l) => l.protocol === protocol)!.port;
  const base = `http://127.0.0.1:${port('http')}`;
  const api: AdminTestBroker['api'] = async (method, path, body, auth = { user: 'guest', password: 'guest' }) => {
    const headers: Record<string, string> = {};
    if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: response.status, body: parsed, headers: response.headers };
  };
  const scrape = async (path = '/metrics'): Promise<Sample[]> => parseExposition(await (await fetch(`${base}${path}`)).text());
  return { broker, base, port, api, scrape, stop: () => broker.stop() };
}

/** Prometheus text exposition (0.0.4) as samples. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of match[2]?.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g) ?? []) labels[name!] = value!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample of `name` whose labels include `labels` (0 when absent). */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string | number> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === String(v)));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}
