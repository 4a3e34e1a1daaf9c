import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { ClientSession } from '../clients.ts';
import { RetryPolicy } from '../model/retry-policy.ts';
import { fromMillis } from '../model/message-record.ts';
import type { RocketContext, WireResource } from '../rocket-context.ts';
import { OK, type Status } from '../status.ts';

interface WireSettings {
  clientType?: string;
  accessPoint?: unknown;
  requestTimeout?: unknown;
  publishing?: { topics?: WireResource[] };
  subscription?: { group?: WireResource; subscriptions?: unknown[] };
  userAgent?: { language?: string };
}

/** RocketMQ's proxy defaults for producers: 3 attempts, back-off 10 ms doubling to 1 s. */
const PRODUCER_RETRY = new RetryPolicy({ maxAttempts: 3, backoffMs: { initialMs: 10, maxMs: 1000, multiplier: 2 } });
const RECEIVE_BATCH_SIZE = 32;

/**
 * The telemetry stream: the client announces its settings and waits for the broker's; the broker keeps
 * the stream to push transaction check-backs. Each command is admitted on its own (`admit` returns the
 * refusal of one that may not go ahead), as the proxy authenticates and authorizes every command.
 */
export function telemetry(
  ctx: RocketContext,
  call: ServerDuplexStream<{ settings?: WireSettings }, object>,
  clientId: string | undefined,
  admit: (command: object) => Promise<Status> | undefined,
): void {
  if (!clientId) {
    call.write({ status: { code: 'CLIENT_ID_REQUIRED', message: 'x-mq-client-id is required' } });
    call.end();
    return;
  }
  // The stream becomes the client's only once a command is admitted: an unauthenticated caller naming
  // another client's id must not take over its check-backs.
  let session: ClientSession | undefined;
  const detach = (): void => {
    if (session && session.telemetry === (call as unknown)) session.telemetry = undefined;
  };
  call.on('data', (command: { settings?: WireSettings }) => {
    const refused = admit(command);
    if (refused) return void refused.then((status) => call.write({ status }));
    const client = (session = ctx.clients.touch(clientId));
    if (client.telemetry !== (call as unknown)) {
      client.telemetry?.end();
      client.telemetry = call as ServerDuplexStream<unknown, unknown>;
    }
    if (command.settings) call.write({ status: OK, settings: answer(ctx, client, command.settings) });
  });
  call.on('end', () => {
    detach();
    call.end();
  });
  call.on('error', detach);
  call.on('cancelled', detach);
}

function answer(ctx: RocketContext, session: ClientSession, settings: WireSettings): object {
  const nodeClient = settings.userAgent?.language === 'NODE_JS';
  session.type = settings.clientType ?? session.type;
  session.language = settings.userAgent?.language;
  const common = { clientType: settings.clientType, accessPoint: settings.accessPoint, requestTimeout: settings.requestTimeout, userAgent: settings.userAgent };
  if (settings.publishing) {
    session.topics = new Set((settings.publishing.topics ?? []).map((t) => t.name ?? ''));
    return {
      ...common,
      backoffPolicy: PRODUCER_RETRY.toSettings(nodeClient),
      publishing: { topics: settings.publishing.topics ?? [], maxBodySize: ctx.settings.maxBodyBytes, validateMessageType: true },
    };
  }
  const group = settings.subscription?.group?.name ?? '';
  if (group) session.group = group;
  return {
    ...common,
    backoffPolicy: ctx.groups.retryPolicy(group).toSettings(nodeClient),
    subscription: {
      group: settings.subscription?.group,
      subscriptions: settings.subscription?.subscriptions ?? [],
      fifo: ctx.groups.isFifo(group),
      receiveBatchSize: RECEIVE_BATCH_SIZE,
      longPollingTimeout: fromMillis(ctx.settings.maxLongPollingMs),
    },
  };
}
