import type { AdminRoute } from '../../../core/index.ts';
import { accessRoutes } from './access-routes.ts';
import { connectionRoutes } from './connection-routes.ts';
import { definitionsRoutes } from './definitions-routes.ts';
import { exchangeRoutes } from './exchange-routes.ts';
import type { ManagementContext } from './management-context.ts';
import { overviewRoutes } from './overview-routes.ts';
import { queueRoutes } from './queue-routes.ts';
import { wharfAmqpRoutes } from './wharf-routes.ts';

export { amqpUsersAuthenticator } from './access-routes.ts';
export type { ManagementContext } from './management-context.ts';
export { MessageRates } from './message-rates.ts';
export { overviewTotals } from './overview-routes.ts';

/** RabbitMQ 3.10's management HTTP API (the subset rabbitmqadmin and monitoring tools use), plus Wharf's queue browser. */
export function managementRoutes(ctx: ManagementContext): AdminRoute[] {
  return [...overviewRoutes(ctx), ...accessRoutes(ctx), ...queueRoutes(ctx), ...exchangeRoutes(ctx), ...connectionRoutes(ctx), ...definitionsRoutes(ctx), ...wharfAmqpRoutes(ctx)];
}
