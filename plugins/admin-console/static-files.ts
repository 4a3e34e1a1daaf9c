import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AdminError, AdminReply, type AdminRoute } from '../../core/index.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Headers every console file carries: revalidate each time, no framing, no sniffing, nothing loaded from elsewhere. */
const HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
};

interface StaticFile {
  readonly ok: AdminReply;
  readonly notModified: AdminReply;
  readonly etag: string;
}

/**
 * The console's files as two public GET routes: `index.html` at `/`, the rest at `/console/<path>`.
 * Files are read once, when the plugin starts, and only those are served (a path names a file in the
 * table or nothing). Each carries a strong ETag, so a browser revalidates with `If-None-Match` and
 * gets a bodiless 304.
 */
export async function staticRoutes(root: string): Promise<AdminRoute[]> {
  const files = new Map<string, StaticFile>();
  for (const file of await listFiles(root)) {
    const type = CONTENT_TYPES[path.extname(file)];
    if (type === undefined) continue;
    const body = await fs.readFile(path.join(root, file));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(file.split(path.sep).join('/'), { etag, ok: new AdminReply(200, body, { ...HEADERS, 'content-type': type, etag }), notModified: new AdminReply(304, undefined, { ...HEADERS, etag }) });
  }
  const serve = (name: string, ifNoneMatch: string | undefined): AdminReply => {
    const file = files.get(name);
    if (!file) throw AdminError.notFound();
    return ifNoneMatch === file.etag ? file.notModified : file.ok;
  };
  return [
    { method: 'GET', path: '/', access: 'public', summary: 'the web console', handler: ({ headers }) => serve('index.html', headers['if-none-match']) },
    { method: 'GET', path: '/console/*', access: 'public', summary: 'the web console\'s scripts and styles', handler: ({ params, headers }) => serve(params['*']!, headers['if-none-match']) },
  ];
}

async function listFiles(root: string, dir = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await fs.readdir(path.join(root, dir), { withFileTypes: true })) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}
