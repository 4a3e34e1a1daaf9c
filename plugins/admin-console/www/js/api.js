// The JSON APIs with the signed-in user's credentials (HTTP basic auth, as the admin API requires).
// Credentials live in sessionStorage: they last as long as the tab.

const KEY = 'wharf.console.credentials';

export class Unauthorized extends Error {}

export class HttpError extends Error {
  constructor(status, body) {
    super(body && typeof body === 'object' && body.reason ? `${status}: ${typeof body.reason === 'string' ? body.reason : JSON.stringify(body.reason)}` : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const session = {
  credentials: sessionStorage.getItem(KEY),
  user: sessionStorage.getItem(`${KEY}.user`),
  /** Resolves with the GET paths the broker serves (from /api/wharf/endpoints): pages ask before calling a plugin's API. */
  paths: undefined,

  get signedIn() {
    return this.credentials !== null;
  },

  async signIn(user, password) {
    this.credentials = `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)))}`;
    this.user = user;
    try {
      await this.resume();
    } catch (err) {
      this.signOut();
      throw err;
    }
    sessionStorage.setItem(KEY, this.credentials);
    sessionStorage.setItem(`${KEY}.user`, user);
  },

  /** Loads the endpoint index with the current credentials; pages may call other APIs meanwhile. */
  resume() {
    this.paths = api('/api/wharf/endpoints').then((endpoints) => new Set(endpoints.filter((e) => e.method === 'GET').map((e) => e.path)));
    return this.paths;
  },

  signOut() {
    this.credentials = null;
    this.user = null;
    this.paths = undefined;
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(`${KEY}.user`);
  },

  async has(path) {
    try {
      return (await (this.paths ?? this.resume())).has(path);
    } catch (err) {
      this.paths = undefined; // asked again next time
      throw err;
    }
  },
};

/** A JSON API call; resolves with the parsed body (undefined for none); 401 throws Unauthorized, other failures HttpError. */
export async function api(path, { method = 'GET', body } = {}) {
  // Marked as a script's request, the admin server refuses without a challenge that would open the browser's own login dialog.
  const headers = { accept: 'application/json', 'x-requested-with': 'XMLHttpRequest' };
  if (session.credentials) headers.authorization = session.credentials;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  const text = await response.text();
  const parsed = text && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text || undefined;
  if (response.status === 401) throw new Unauthorized(parsed?.reason ?? 'Login failed');
  if (!response.ok) throw new HttpError(response.status, parsed);
  return parsed;
}

/**
 * GETs `path` when the broker serves the route `pattern` (its plugin is loaded), else resolves with
 * `fallback`: a console for a broker without RocketMQ simply has no RocketMQ rows.
 */
export async function served(pattern, path = pattern, fallback = []) {
  return (await session.has(pattern)) ? api(path) : fallback;
}
