import { AdminError, type AdminPrincipal, type AdminRequest, type DiskMonitor, type ListenerRegistry } from '../../../core/index.ts';
import type { AmqpIdentity } from '../amqp-metrics.ts';
import type { AmqpServer } from '../amqp-server.ts';
import type { Permission } from '../auth.ts';
import type { Vhost } from '../model/vhost.ts';
import type { Json } from './json-values.ts';
import type { MessageRates } from './message-rates.ts';

/** What the management routes read and act on. */
export interface ManagementContext {
  readonly server: AmqpServer;
  readonly identity: AmqpIdentity;
  readonly listeners: ListenerRegistry;
  readonly disk: DiskMonitor;
  readonly rates: MessageRates;
}

/** Administrators and monitoring users see every vhost; other users the vhosts they have permissions in. */
export function seesAll(principal: AdminPrincipal | undefined): boolean {
  return principal === undefined || principal.tags.includes('administrator') || principal.tags.includes('monitoring');
}

export function canSee(ctx: ManagementContext, principal: AdminPrincipal | undefined, vhost: string): boolean {
  return seesAll(principal) || ctx.server.users.accessOf(principal!.name).canOpenVhost(vhost);
}

/** The vhost a request names: 404 if it does not exist, 401 if the user has no access to it. */
export function vhostOf(ctx: ManagementContext, request: AdminRequest, name = request.params.vhost!): Vhost {
  const vhost = ctx.server.vhosts.get(name);
  if (!vhost) throw AdminError.notFound();
  if (!canSee(ctx, request.principal, name)) {
    throw new AdminError(401, 'not_authorised', 'User not authorised to access virtual host');
  }
  return vhost;
}

/**
 * What changes or takes messages acts as the user over AMQP would: with its configure, write or read
 * permission on the resource in the vhost (administrators included, as in RabbitMQ); 401 otherwise.
 */
export function requirePermission(ctx: ManagementContext, request: AdminRequest, vhost: Vhost, permission: Permission, kind: 'queue' | 'exchange', name: string): void {
  const user = request.principal?.name;
  if (user === undefined) return;
  const resource = kind === 'exchange' && name === '' ? 'amq.default' : name;
  if (!ctx.server.users.accessOf(user).allows(vhost.name, permission, kind, resource)) {
    throw new AdminError(401, 'not_authorised', `${permission} access to ${kind} '${resource}' in vhost '${vhost.name}' refused for user '${user}'`);
  }
}

/** The vhosts a listing covers: the one named, or every vhost the user may see. */
export function vhostsOf(ctx: ManagementContext, request: AdminRequest): Vhost[] {
  if (request.params.vhost !== undefined) return [vhostOf(ctx, request)];
  return [...ctx.server.vhosts.values()].filter((v) => canSee(ctx, request.principal, v.name));
}

/**
 * RabbitMQ's list query parameters: `sort` (a field, dotted for nested ones) and `sort_reverse`,
 * `columns` (comma-separated fields to keep), and pagination (`page`, `page_size`, `name`, `use_regex`).
 * Lists are sorted by `defaultSort` (after `sort`, when given) as RabbitMQ sorts them; `sort=` keeps them unsorted.
 */
export function listReply(items: Array<Record<string, Json>>, query: AdminRequest['query'], defaultSort: readonly string[] = ['vhost', 'name']): unknown {
  let list = items;
  if (query.sort !== '') {
    const paths = [...(query.sort === undefined ? [] : [query.sort]), ...defaultSort].map((field) => field.split('.'));
    list = [...list].sort((a, b) => {
      for (const path of paths) {
        const order = compareTerms(pick(a, path) ?? 0, pick(b, path) ?? 0);
        if (order !== 0) return order;
      }
      return 0;
    });
  }
  if (query.sort_reverse === 'true') list = [...list].reverse();
  const columns = query.columns?.split(',').filter((c) => c !== '');
  const shaped = columns && columns.length > 0 ? list.map((item) => project(item, columns)) : list;
  if (query.page === undefined) return shaped;
  const page = integerParameter(query.page);
  const givenSize = query.page_size === undefined ? undefined : integerParameter(query.page_size);
  const pageSize = givenSize ?? 100;
  if (page < 1 || pageSize < 1 || pageSize > 500) {
    throw new AdminError(400, 'invalid_pagination_parameters', `Invalid pagination parameters: page number ${page}, page size ${givenSize}`);
  }
  let filtered = shaped;
  if (query.name) {
    let matcher: (name: string) => boolean;
    if (query.use_regex === 'true') {
      let re: RegExp;
      try {
        re = new RegExp(query.name, 'i');
      } catch {
        throw AdminError.badRequest('name is not a valid regular expression');
      }
      matcher = (name) => re.test(name);
    } else {
      const wanted = query.name.toLowerCase();
      matcher = (name) => name.toLowerCase().includes(wanted);
    }
    filtered = shaped.filter((item) => matcher(String(item.name ?? '')));
  }
  const offset = (page - 1) * pageSize;
  if (offset > filtered.length) throw new AdminError(400, 'page_out_of_range', `Page out of range, page: ${page} page size: ${pageSize}, len: ${filtered.length}`);
  const pageItems = filtered.slice(offset, offset + pageSize);
  return {
    filtered_count: filtered.length,
    item_count: pageItems.length,
    items: pageItems,
    page,
    page_count: Math.ceil(filtered.length / pageSize),
    page_size: pageSize,
    total_count: items.length,
  };
}

/** RabbitMQ reads `page` and `page_size` as integers; anything else is refused. */
function integerParameter(value: string): number {
  if (!/^-?\d{1,15}$/.test(value)) throw AdminError.badRequest('Pagination parameters are invalid');
  return Number(value);
}

function pick(item: Json, path: readonly string[]): Json | undefined {
  let at: Json | undefined = item;
  for (const key of path) at = at !== null && typeof at === 'object' && !Array.isArray(at) ? at[key] : undefined;
  return at;
}

/** Erlang's term order, which RabbitMQ sorts by: numbers, then atoms (false, null, true), then lists, then binaries by their bytes. */
function compareTerms(a: Json, b: Json): number {
  const [rankA, rankB] = [termRank(a), termRank(b)];
  if (rankA !== rankB) return rankA - rankB;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  const [textA, textB] = [JSON.stringify(a), JSON.stringify(b)];
  return textA < textB ? -1 : textA > textB ? 1 : 0;
}

function termRank(value: Json): number {
  if (typeof value === 'number') return 0;
  if (typeof value === 'string') return 3;
  return value === null || typeof value === 'boolean' ? 1 : 2;
}

/** Keeps the named fields; `a.b` keeps `b` inside `a`. */
function project(item: Record<string, Json>, columns: readonly string[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const column of columns) {
    const path = column.split('.');
    const value = pick(item, path);
    if (value === undefined) continue;
    let at = out;
    for (let i = 0; i < path.length - 1; i++) at = (at[path[i]!] ??= {}) as Record<string, Json>;
    at[path[path.length - 1]!] = value;
  }
  return out;
}
