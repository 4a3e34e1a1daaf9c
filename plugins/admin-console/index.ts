import { fileURLToPath } from 'node:url';
import { definePlugin, TOKENS, type AdminEndpoints } from '../../core/index.ts';
import { staticRoutes } from './static-files.ts';

const WWW = fileURLToPath(new URL('./www/', import.meta.url));

/**
 * The web console at `/` on the admin HTTP port: static HTML, CSS and ES modules that read the JSON
 * APIs other plugins register (RabbitMQ's /api, /api/wharf, /metrics) with the user's credentials.
 * It only contributes routes; whichever plugin serves AdminEndpoints over HTTP serves the console.
 */
export function adminConsole() {
  let removeRoutes: (() => void) | undefined;
  return definePlugin({
    name: 'admin-console',
    requires: [TOKENS.AdminEndpoints],
    async start({ container }) {
      const endpoints = container.get<AdminEndpoints>(TOKENS.AdminEndpoints);
      removeRoutes = endpoints.add('admin-console', await staticRoutes(WWW));
    },
    stop() {
      removeRoutes?.();
      removeRoutes = undefined;
    },
  });
}
