import FindMyWay from 'find-my-way';
import type { AdminEndpoints, AdminMethod, RegisteredRoute } from '../../core/index.ts';

const METHODS: readonly AdminMethod[] = ['GET', 'PUT', 'POST', 'DELETE'];

export type Match =
  | { kind: 'route'; route: RegisteredRoute; params: Record<string, string> }
  /** The path exists, for other methods. */
  | { kind: 'method'; allowed: AdminMethod[] }
  | { kind: 'none' };

/**
 * The registered admin routes as a find-my-way router (fastify's own), rebuilt whenever a plugin adds
 * or removes routes, so routes come and go with the plugins that own them.
 */
export class RouteTable {
  private router = FindMyWay({ maxParamLength: 4096 });
  private readonly unsubscribe: () => void;

  constructor(private readonly endpoints: AdminEndpoints) {
    this.rebuild();
    this.unsubscribe = endpoints.onChange(() => this.rebuild());
  }

  close(): void {
    this.unsubscribe();
  }

  /** HEAD is matched as GET. A path that does not decode matches nothing. */
  match(method: string, url: string): Match {
    const wanted = method === 'HEAD' ? 'GET' : method;
    if ((METHODS as readonly string[]).includes(wanted)) {
      const found = this.router.find(wanted as AdminMethod, url);
      if (found) return { kind: 'route', route: found.store as RegisteredRoute, params: found.params as Record<string, string> };
    }
    const allowed = METHODS.filter((m) => m !== wanted && this.router.find(m, url) !== null);
    return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
  }

  private rebuild(): void {
    const router = FindMyWay({ maxParamLength: 4096 });
    for (const route of this.endpoints.list()) router.on(route.method, route.path, () => undefined, route);
    this.router = router;
  }
}
