import os from 'node:os';
import { TOKENS, type AdminEndpoints, type BrokerConfig, type Clock, type Cluster, type DiskMonitor, type ListenerRegistry, type Metrics, type PluginContext } from '../../core/index.ts';
import { contributeAmqpMetrics, type AmqpIdentity } from './amqp-metrics.ts';
import type { AmqpServer } from './amqp-server.ts';
import { amqpUsersAuthenticator, managementRoutes, MessageRates, overviewTotals } from './management/index.ts';

/**
 * Connects a started AMQP server to the core's operations seams: its metric families, RabbitMQ's
 * management API routes, and the AMQP users as the admin API's credential check. Returns the detacher.
 */
export async function attachOperations(server: AmqpServer, { container }: PluginContext): Promise<() => void> {
  const config = container.get<BrokerConfig>(TOKENS.Config);
  const cluster = container.get<Cluster>(TOKENS.Cluster);
  const disk = container.get<DiskMonitor>(TOKENS.DiskMonitor);
  const endpoints = container.get<AdminEndpoints>(TOKENS.AdminEndpoints);
  const identity: AmqpIdentity = { node: `wharf-${config.nodeId}@${os.hostname()}`, cluster: 'wharf', clusterId: `wharf-cluster-id-${await cluster.clusterId()}` };
  const rates = new MessageRates(container.get<Clock>(TOKENS.Clock), () => overviewTotals(server));
  rates.start();
  const detachers = [
    () => rates.stop(),
    contributeAmqpMetrics(container.get<Metrics>(TOKENS.Metrics), server, identity, disk),
    endpoints.add('rabbit', managementRoutes({ server, identity, listeners: container.get<ListenerRegistry>(TOKENS.ListenerRegistry), disk, rates })),
    endpoints.useAuthenticator(amqpUsersAuthenticator(server.users)),
  ];
  return () => {
    for (const detach of detachers.reverse()) detach();
  };
}
