import { Server, ServerCredentials, type Metadata, type ServerDuplexStream, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  AckStateStore,
  hostAddresses,
  TcpListener,
  TOKENS,
  WHARF_HISTOGRAMS,
  type AdminEndpoints,
  type AssignorRegistry,
  type HistogramSeries,
  type LatencyHistogram,
  type Metrics,
  type BrokerConfig,
  type Clock,
  type DiskMonitor,
  type ConnectionBudget,
  type ListenerRegistry,
  type Logger,
  type PluginContext,
  type Security,
  type StorageEngine,
  type TlsCredentials,
  type TopicRegistry,
} from '../../core/index.ts';
import { rocketAdminRoutes } from './admin-views.ts';
import { RocketAccess } from './auth/rocket-access.ts';
import { ClientRegistry, describeClient } from './clients.ts';
import { GrpcConnection } from './grpc-connection.ts';
import { ackMessage, changeInvisibleDuration, forwardMessageToDeadLetterQueue, receiveMessage } from './handlers/consume.ts';
import { heartbeat, notifyClientTermination, queryAssignment, queryRoute } from './handlers/route.ts';
import { recallMessage, sendMessage } from './handlers/send.ts';
import { telemetry } from './handlers/telemetry.ts';
import { checkBack, endTransaction } from './handlers/transaction.ts';
import { ConsumerGroups } from './model/consumer-groups.ts';
import { DelayedMessages } from './model/delayed-messages.ts';
import { GroupDirectory } from './model/group-directory.ts';
import { RocketTopics } from './model/rocket-topics.ts';
import { Transactions } from './model/transactions.ts';
import { loadMessagingService } from './proto.ts';
import type { RocketSettings } from './rocket-config.ts';
import type { Caller, RocketContext } from './rocket-context.ts';
import { contributeRocketMetrics } from './rocket-metrics.ts';
import { RocketTraffic } from './rocket-traffic.ts';
import { RocketError, statusOf } from './status.ts';

type Unary = (ctx: RocketContext, request: never, caller: Caller) => Promise<object> | object;

/** RPCs of the service this broker deliberately leaves out (pull consumers, lite topics). */
const NOT_IMPLEMENTED = ['PullMessage', 'UpdateOffset', 'GetOffset', 'QueryOffset', 'SyncLiteSubscription'];

/** apache.rocketmq.v2.MessagingService over gRPC, on the core's topics and storage. */
export class RocketServer {
  private server: Server | undefined;
  private listener: TcpListener | undefined;
  private ctx: RocketContext | undefined;
  private access: RocketAccess | undefined;
  private ackStore: AckStateStore | undefined;
  private clientSweep: NodeJS.Timeout | undefined;
  private readonly calls = new Set<AbortController>();
  private readonly detachers: Array<() => void> = [];
  private latency: LatencyHistogram | undefined;
  private readonly latencies = new Map<string, HistogramSeries>();

  async start({ container, section, logger }: PluginContext<RocketSettings>): Promise<void> {
    const clock = container.get<Clock>(TOKENS.Clock);
    const config = container.get<BrokerConfig>(TOKENS.Config);
    const registry = container.get<TopicRegistry>(TOKENS.TopicRegistry);
    const ackStore = (this.ackStore = await AckStateStore.open(container.get<StorageEngine>(TOKENS.StorageEngine), clock, logger, { name: 'rocket-state' }));
    const engine = container.get<StorageEngine>(TOKENS.StorageEngine);
    const topics = new RocketTopics(registry, { queues: section.queues, autoCreate: section.autoCreateTopics, dlqPermission: section.dlqPermission === 'write' ? 'WRITE' : 'READ_WRITE' });
    for (const [name, spec] of Object.entries(section.topics)) await topics.create(name, spec.type, spec.queues ?? section.queues);
    const clients = new ClientRegistry(() => clock.now(), section.clientTimeoutMs);
    const directory = await GroupDirectory.open(engine, section.groups);
    const groups = new ConsumerGroups(registry, topics, ackStore, clock, logger, {
      groups: directory,
      pushInvisibleMs: section.pushInvisibleMs,
      renewMaxMs: section.renewMaxMs,
      alive: (id) => clients.alive(id),
    });
    const delayed = await DelayedMessages.open(registry, topics, ackStore, clock, logger, section.maxDelayMs);
    const ctx: RocketContext = {
      settings: section,
      clock,
      logger,
      topics,
      groups,
      clients,
      delayed,
      transactions: undefined as unknown as Transactions,
      assignors: container.get<AssignorRegistry>(TOKENS.AssignorRegistry),
      disk: container.get<DiskMonitor>(TOKENS.DiskMonitor),
      storeHost: '',
      traffic: new RocketTraffic(),
    };
    const transactions = await Transactions.open(registry, topics, ackStore, clock, logger, {
      checkDelayMs: section.transactionCheckDelayMs,
      checkIntervalMs: section.transactionCheckIntervalMs,
      checkMax: section.transactionCheckMax,
      checkBack: (pending) => checkBack(ctx, pending),
    });
    this.ctx = Object.assign(ctx, { transactions });
    const metrics = container.get<Metrics>(TOKENS.Metrics);
    this.latency = metrics.histogram(WHARF_HISTOGRAMS.requestDuration);
    this.detachers.push(
      registry.onChange((event) => event.type === 'deleted' && ctx.traffic.deleteTopic(event.topic.name)),
      contributeRocketMetrics(metrics, ctx.traffic, groups, clients),
      container.get<AdminEndpoints>(TOKENS.AdminEndpoints).add(
        'rocket',
        rocketAdminRoutes({ registry, topics, groups, directory, clients, defaultQueues: section.queues, storeHost: () => ctx.storeHost }),
      ),
    );
    if (section.port === 0) return;
    const security = container.get<Security>(TOKENS.Security);
    this.access = new RocketAccess(security);
    const listeners = container.get<ListenerRegistry>(TOKENS.ListenerRegistry);
    listeners.describeAccess('rocketmq', security.anonymousAllowed ? 'ACL 2.0 HMAC-SHA1 or anonymous' : 'ACL 2.0 HMAC-SHA1 required');
    const server = (this.server = this.grpcServer(section, logger));
    const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
    const tls = container.get<TlsCredentials>(TOKENS.Tls);
    const tlsMode = tls.enabled && section.tlsMode !== 'disabled' ? (section.tlsMode === 'enforcing' ? 'tls' : 'detect') : undefined;
    const listener = (this.listener = new TcpListener({
      protocol: 'rocketmq',
      host: config.host,
      port: section.port,
      maxConnections: section.maxConnections,
      budget: container.get<ConnectionBudget>(TOKENS.ConnectionBudget),
      idleTimeoutMs: 0,
      logger,
      registry: container.get<ListenerRegistry>(TOKENS.ListenerRegistry),
      ...(tlsMode ? { tls: { credentials: tls, mode: tlsMode, alpn: ['h2'] } } : {}),
    }));
    const port = await listener.bind();
    Object.assign(ctx, { storeHost: `${hostAddresses(config.host)[0]}:${port}` });
    listener.serve((socket, _id, connectionLogger) => new GrpcConnection(socket, injector, section.handshakeTimeoutMs, connectionLogger, (peer) => describeClient(clients.onPeer(peer))));
    this.clientSweep = setInterval(() => clients.expire(), section.clientTimeoutMs);
    this.clientSweep.unref();
  }

  async stop(): Promise<void> {
    for (const detach of this.detachers.splice(0).reverse()) detach();
    if (this.clientSweep) clearInterval(this.clientSweep);
    for (const call of this.calls) call.abort();
    const server = this.server;
    this.server = undefined;
    this.ctx?.clients.closeAll();
    const drainTimeoutMs = this.ctx?.settings.drainTimeoutMs ?? 0;
    if (server) {
      const shutdown = new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, drainTimeoutMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await Promise.all([shutdown, this.listener?.stop(drainTimeoutMs)]);
      server.forceShutdown();
    }
    this.listener = undefined;
    await this.ctx?.groups.close();
    await this.ctx?.delayed.close();
    this.ctx?.transactions.close();
    await this.ackStore?.close();
  }

  /** The gRPC service, fed sockets by the listener; it closes sessions idle (no call) for `idleTimeoutMs` and those that stop answering pings. */
  private grpcServer(section: RocketSettings, logger: Logger): Server {
    const server = new Server({
      'grpc.max_receive_message_length': 130 * 1024 * 1024,
      'grpc.max_connection_idle_ms': section.idleTimeoutMs,
      'grpc.keepalive_time_ms': section.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': section.keepaliveTimeoutMs,
      'grpc.enable_channelz': 0,
    });
    server.addService(loadMessagingService(), this.implementation(logger));
    return server;
  }

  private implementation(logger: Logger): UntypedServiceImplementation {
    const unary = (rpc: string, handler: Unary) => {
      const latency = this.latencyOf(rpc);
      return (call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>) => unaryCall(rpc, handler, latency, call, callback);
    };
    const unaryCall = (rpc: string, handler: Unary, latency: HistogramSeries, call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>) => {
      const started = performance.now();
      const refused = this.access!.check(rpc, call.metadata, call.getPeer(), call.request);
      if (refused) return void refused.then((status) => callback(null, { status }));
      const caller = this.caller(call.metadata);
      if (!caller) return callback(null, { status: { code: 'CLIENT_ID_REQUIRED', message: 'x-mq-client-id is required' } });
      this.noteCaller(caller.clientId, call.metadata, call.getPeer());
      Promise.resolve()
        .then(() => handler(this.ctx!, call.request as never, caller))
        .then(
          (response) => callback(null, response),
          (err: unknown) => {
            if (!(err instanceof RocketError)) logger.error({ err }, 'rocketmq request failed');
            callback(null, { status: statusOf(err) });
          },
        )
        .finally(() => {
          this.calls.delete(caller.controller);
          latency.observeSince(started);
        });
    };
    const receiveLatency = this.latencyOf('ReceiveMessage');
    const implementation: UntypedServiceImplementation = {
      QueryRoute: unary('QueryRoute', queryRoute as Unary),
      Heartbeat: unary('Heartbeat', heartbeat as Unary),
      SendMessage: unary('SendMessage', sendMessage as Unary),
      QueryAssignment: unary('QueryAssignment', queryAssignment as Unary),
      AckMessage: unary('AckMessage', ackMessage as Unary),
      ChangeInvisibleDuration: unary('ChangeInvisibleDuration', changeInvisibleDuration as Unary),
      ForwardMessageToDeadLetterQueue: unary('ForwardMessageToDeadLetterQueue', forwardMessageToDeadLetterQueue as Unary),
      EndTransaction: unary('EndTransaction', endTransaction as Unary),
      NotifyClientTermination: unary('NotifyClientTermination', notifyClientTermination as Unary),
      RecallMessage: unary('RecallMessage', recallMessage as Unary),
      ReceiveMessage: (call: ServerWritableStream<object, object>) => {
        const started = performance.now();
        const refused = this.access!.check('ReceiveMessage', call.metadata, call.getPeer(), call.request);
        if (refused) {
          void refused.then((status) => {
            call.write({ status });
            call.end();
          });
          return;
        }
        const caller = this.caller(call.metadata);
        if (!caller) {
          call.write({ status: { code: 'CLIENT_ID_REQUIRED', message: 'x-mq-client-id is required' } });
          call.end();
          return;
        }
        this.noteCaller(caller.clientId, call.metadata, call.getPeer());
        call.on('cancelled', () => caller.controller.abort());
        void receiveMessage(this.ctx!, call.request as never, caller, (response) => call.write(response))
          .catch((err: unknown) => logger.error({ err }, 'rocketmq receive failed'))
          .finally(() => {
            this.calls.delete(caller.controller);
            receiveLatency.observeSince(started);
            call.end();
          });
      },
      Telemetry: (call: ServerDuplexStream<object, object>) =>
        telemetry(this.ctx!, call as never, this.clientId(call.metadata), (command) => this.access!.check('Telemetry', call.metadata, call.getPeer(), command)),
    };
    for (const name of NOT_IMPLEMENTED) {
      implementation[name] = (_call: unknown, callback?: sendUnaryData<object>) => {
        const status = { status: { code: 'NOT_IMPLEMENTED', message: `${name} is not supported by this broker` } };
        if (callback) callback(null, status);
        else {
          const stream = _call as ServerWritableStream<unknown, object>;
          stream.write(status);
          stream.end();
        }
      };
    }
    return implementation;
  }

  /** The request-latency series of one RPC (ReceiveMessage's includes its long poll). */
  private latencyOf(rpc: string): HistogramSeries {
    let series = this.latencies.get(rpc);
    if (!series) {
      series = this.latency!.labels({ protocol: 'rocketmq', api: rpc });
      this.latencies.set(rpc, series);
    }
    return series;
  }

  /** A call the access check let through: its client is alive, on the connection from `peer`, with this software and user. */
  private noteCaller(clientId: string, metadata: Metadata, peer: string): void {
    const session = this.ctx!.clients.touch(clientId, peer);
    if (session.software !== undefined) return;
    const text = (key: string) => {
      const value = metadata.get(key)[0];
      return typeof value === 'string' ? value : '';
    };
    session.software = { name: text('x-mq-language'), version: text('x-mq-client-version') };
    const credential = /Credential=([^,\s]+)/.exec(text('authorization'));
    if (credential) session.user = credential[1];
  }

  private clientId(metadata: Metadata): string | undefined {
    const value = metadata.get('x-mq-client-id')[0];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  private caller(metadata: Metadata): (Caller & { controller: AbortController }) | undefined {
    const clientId = this.clientId(metadata);
    if (!clientId) return undefined;
    const controller = new AbortController();
    this.calls.add(controller);
    return { clientId, signal: controller.signal, controller };
  }
}

