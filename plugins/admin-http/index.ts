import {
  definePlugin,
  TOKENS,
  type AdminEndpoints,
  type BrokerConfig,
  type BrokerStatus,
  type Cluster,
  type DiskMonitor,
  type ListenerRegistry,
  type Metrics,
  type Security,
  type StorageEngine,
  type TopicRegistry,
} from '../../core/index.ts';
import { AdminServer } from './admin-server.ts';
import { httpConfigFields } from './http-config.ts';
import { securityRoutes } from './security-routes.ts';
import { serverRoutes } from './server-routes.ts';

/**
 * The admin HTTP server on `http.port` (15672): the routes plugins contribute to the core's
 * AdminEndpoints (RabbitMQ's management API from the rabbit plugin, /api/wharf views from the
 * others), /metrics from the core's metrics registry, and liveness/readiness probes.
 */
export function adminHttp() {
  let server: AdminServer | undefined;
  let removeRoutes: (() => void) | undefined;
  return definePlugin({
    name: 'admin-http',
    requires: [TOKENS.Metrics, TOKENS.AdminEndpoints, TOKENS.ListenerRegistry],
    config: { name: 'http', fields: httpConfigFields },
    async start({ container, section, logger }) {
      const config = container.get<BrokerConfig>(TOKENS.Config);
      const endpoints = container.get<AdminEndpoints>(TOKENS.AdminEndpoints);
      const metrics = container.get<Metrics>(TOKENS.Metrics);
      const listeners = container.get<ListenerRegistry>(TOKENS.ListenerRegistry);
      metrics.enableProcessMetrics();
      removeRoutes = endpoints.add('admin-http', [
        ...serverRoutes({
          config,
          status: container.get<BrokerStatus>(TOKENS.BrokerStatus),
          metrics,
          endpoints,
          listeners,
          topics: container.get<TopicRegistry>(TOKENS.TopicRegistry),
          engine: container.get<StorageEngine>(TOKENS.StorageEngine),
          disk: container.get<DiskMonitor>(TOKENS.DiskMonitor),
          cluster: container.get<Cluster>(TOKENS.Cluster),
        }),
        ...securityRoutes(container.get<Security>(TOKENS.Security)),
      ]);
      server = new AdminServer({ settings: section, host: config.host, endpoints, listeners, logger });
      await server.start();
    },
    async stop() {
      await server?.stop();
      removeRoutes?.();
      server = undefined;
    },
  });
}
