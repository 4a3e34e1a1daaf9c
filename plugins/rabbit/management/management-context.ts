import { AdminError, type AdminPrincipal, type AdminRequest, type DiskMonitor, type ListenerRegistry } from '../../../core/index.ts';
import type { AmqpIdentity } from '../amqp-metrics.ts';
import type { AmqpServer } from '../amqp-server.ts';
import type { Vhost } from '../model/vhost.ts';
import type { Json } from './json-values.ts';

/** What the management routes read and act on. */
export interface ManagementContext {
  readonly server: AmqpServer;
  readonly identity: AmqpIdentity;
  readonly listeners: ListenerRegistry;
  readonly disk: DiskMonitor;
}

/** Administrators and monitoring users see every vhost; other users the vhosts they have permissions in. */
export function seesAll(principal: AdminPrincipal | undefined): boolean {
  return principal === undefined || principal.tags.includes('administrator') || principal.tags.includes('monitoring');
}

export function canSee(ctx: ManagementContext, principal: AdminPrincipal | undefined, vhost: string): boolean {
  return seesAll(principal) || ctx.server.users.canAccessVhost(principal!.name, vhost);
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

/** The vhosts a listing covers: the one named, or every vhost the user may see. */
export function vhostsOf(ctx: ManagementContext, request: AdminRequest): Vhost[] {
  if (request.params.vhost !== undefined) return [vhostOf(ctx, request)];
  return [...ctx.server.vhosts.values()].filter((v) => canSee(ctx, request.principal, v.name));
}

/**
 * RabbitMQ's list query parameters: `sort` (a field, dotted for nested ones) and `sort_reverse`,
 * `columns` (comma-separated fields to keep), and pagination (`page`, `page_size`, `name`, `use_regex`).
 */
export function listReply(items: Array<Record<string, Json>>, query: AdminRequest['query']): unknown {
  let list = items;
  if (query.sort) {
    const path = query.sort.split('.');
    list = [...list].sort((a, b) => compare(pick(a, path), pick(b, path)));
  }
  if (query.sort_reverse === 'true') list = [...list].reverse();
  const columns = query.columns?.split(',').filter((c) => c !== '');
  const shaped = columns && columns.length > 0 ? list.map((item) => project(item, columns)) : list;
  if (query.page === undefined) return shaped;
  const page = positiveInteger(query.page, 'page');
  const pageSize = query.page_size === undefined ? 100 : positiveInteger(query.page_size, 'page_size');
  if (pageSize > 500) throw AdminError.badRequest('page_size must be at most 500');
  let filtered = shaped;
  if (query.name) {
    let matcher: (name: string) => boolean;
    if (query.use_regex === 'true') {
      let re: RegExp;
      try {
        re = new RegExp(query.name);
      } catch {
        throw AdminError.badRequest('name is not a valid regular expression');
      }
      matcher = (name) => re.test(name);
    } else matcher = (name) => name.includes(query.name!);
    filtered = shaped.filter((item) => matcher(String(item.name ?? '')));
  }
  const pageCount = Math.max(1, Math.ceil(filtered.length / pageSize));
  if (page > pageCount) throw AdminError.badRequest(`page ${page} is beyond the last page (${pageCount})`);
  return {
    filtered_count: filtered.length,
    item_count: Math.min(pageSize, filtered.length - (page - 1) * pageSize),
    items: filtered.slice((page - 1) * pageSize, page * pageSize),
    page,
    page_count: pageCount,
    page_size: pageSize,
    total_count: items.length,
  };
}

function positiveInteger(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw AdminError.badRequest(`${name} must be a positive integer`);
  return n;
}

function pick(item: Json, path: readonly string[]): Json | undefined {
  let at: Json | undefined = item;
  for (const key of path) at = at !== null && typeof at === 'object' && !Array.isArray(at) ? at[key] : undefined;
  return at;
}

function compare(a: Json | undefined, b: Json | undefined): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '').localeCompare(String(b ?? ''));
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
