import {
  AdminError,
  AdminReply,
  type AdminRequest,
  type ClientConnection,
  ChunkedBody,
  WHARF_VERSION,
  type AdminEndpoints,
  type AdminRoute,
  type BrokerConfig,
  type BrokerStatus,
  type Cluster,
  type DiskMonitor,
  type ListenerRegistry,
  type Metrics,
  type StorageEngine,
  type TopicRegistry,
} from '../../core/index.ts';

export interface ServerRouteSources {
  config: BrokerConfig;
  status: BrokerStatus;
  metrics: Metrics;
  endpoints: AdminEndpoints;
  listeners: ListenerRegistry;
  topics: TopicRegistry;
  engine: StorageEngine;
  disk: DiskMonitor;
  cluster: Cluster;
}

/** What the admin server answers itself: probes, metrics, the broker overview and the endpoint index. */
export function serverRoutes(s: ServerRouteSources): AdminRoute[] {
  const metrics = async (): Promise<AdminReply> => new AdminReply(200, new ChunkedBody(await s.metrics.scrapeChunks()), { 'content-type': s.metrics.contentType });
  return [
    { method: 'GET', path: '/health/live', access: 'public', summary: 'liveness: 200 while the process answers HTTP', handler: () => ({ status: 'ok' }) },
    {
      method: 'GET',
      path: '/health/ready',
      access: 'public',
      summary: 'readiness: 200 once every plugin has started, 503 while starting or stopping',
      handler: () => (s.status.ready ? { status: 'ok' } : new AdminReply(503, { status: 'failed', reason: `the broker is ${s.status.state}` })),
    },
    { method: 'GET', path: '/metrics', access: 'public', summary: 'Prometheus exposition: wharf_* families and the RabbitMQ families Grafana dashboards use', handler: metrics },
    { method: 'GET', path: '/metrics/per-object', access: 'public', summary: 'the same as /metrics (its series are per object already), for RabbitMQ scrape configs', handler: metrics },
    { method: 'GET', path: '/api/wharf/overview', summary: 'this broker: version, uptime, listeners, storage, disk, cluster', handler: () => overview(s) },
    {
      method: 'GET',
      path: '/api/wharf/connections',
      summary: 'open client connections of every protocol (Kafka, AMQP, RabbitMQ Stream, RocketMQ): peer, user, client id and software, bytes in and out, when connected',
      handler: (request) => visibleConnections(s, request).map(connectionJson),
    },
    {
      method: 'GET',
      path: '/api/wharf/connections/:listener/:id',
      summary: 'one client connection, by its listener and id',
      handler: (request) => {
        const found = visibleConnections(s, request).find((c) => c.listener === request.params.listener && String(c.id) === request.params.id);
        if (!found) throw AdminError.notFound();
        return connectionJson(found);
      },
    },
    {
      method: 'GET',
      path: '/api/wharf/endpoints',
      summary: 'every admin endpoint: method, path, summary, access level, contributing plugin',
      handler: () =>
        s.endpoints
          .list()
          .map((r) => ({ method: r.method, path: r.path, summary: r.summary, access: r.access, plugin: r.plugin }))
          .sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method)),
    },
  ];
}

function overview(s: ServerRouteSources): object {
  let partitions = 0;
  let bytes = 0;
  let segments = 0;
  const topics = s.topics.list({ includeInternal: true });
  for (const topic of topics) {
    for (let p = 0; p < topic.partitions; p++) {
      const log = s.topics.log(topic.name, p);
      if (!log) continue;
      partitions++;
      bytes += log.size;
      segments += log.segmentCount ?? 0;
    }
  }
  const now = Date.now();
  return {
    product_name: 'Wharf',
    product_version: WHARF_VERSION,
    node_id: s.config.nodeId,
    nodejs_version: process.version,
    state: s.status.state,
    started_at: s.status.startedAt ?? null,
    uptime_ms: s.status.startedAt === undefined ? 0 : now - s.status.startedAt,
    listeners: s.listeners.list().map((l) => ({ protocol: l.protocol, ip_address: l.host, port: l.port })),
    storage: {
      description: s.engine.description,
      durable: s.engine.durable,
      logs: partitions,
      bytes,
      segments,
      disk_free_bytes: s.disk.freeBytes ?? null,
      disk_free_limit: s.config.diskFreeLimit,
      read_only: s.disk.readOnly,
    },
    topics: topics.filter((t) => !t.internal).length,
    cluster: {
      clustered: s.cluster.clustered,
      description: s.cluster.description,
      controller_id: s.cluster.controllerId(),
      members: s.cluster.members().map((m) => ({ node_id: m.nodeId, endpoints: m.endpoints })),
    },
  };
}

/** Users without administrator or monitoring see their own connections only (RabbitMQ's rule for /api/connections). */
function visibleConnections(s: ServerRouteSources, request: AdminRequest): ClientConnection[] {
  const { name, tags } = request.principal!;
  const everyone = tags.includes('administrator') || tags.includes('monitoring');
  return s.listeners.clients().filter((c) => everyone || c.user === name);
}

/** The protocol a listener serves: its name without the `-tls` of a TLS port. */
function protocolOf(listener: string): string {
  const protocol = listener.endsWith('-tls') ? listener.slice(0, -4) : listener;
  return protocol === 'rabbitmq-stream' ? 'stream' : protocol;
}

function connectionJson(c: ClientConnection): object {
  return {
    protocol: protocolOf(c.listener),
    listener: c.listener,
    id: c.id,
    name: `${c.peerHost}:${c.peerPort}`,
    tls: c.tls,
    peer_host: c.peerHost,
    peer_port: c.peerPort,
    user: c.user ?? null,
    client_id: c.clientId ?? null,
    client_software: c.clientSoftware ?? null,
    connected_at: c.connectedAt,
    bytes_in: c.bytesIn,
    bytes_out: c.bytesOut,
    details: c.details ?? {},
  };
}
