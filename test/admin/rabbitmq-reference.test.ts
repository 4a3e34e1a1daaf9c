import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { parseExposition, startAdmin, type AdminTestBroker, type Sample } from '../helpers/admin.ts';
import { eventually } from '../helpers/kafka.ts';
import { hasProgram } from '../helpers/programs.ts';
import { startRabbitMq, type RabbitMq } from '../helpers/rabbitmq.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/**
 * Wharf beside Debian's RabbitMQ 3.10.8 (rabbitmq_management, rabbitmq_prometheus), both given the same
 * AMQP workload: the metric families the official RabbitMQ-Overview dashboard queries have the same types,
 * label sets and values, and the management API answers with the same shapes.
 */
const present = hasProgram('rabbitmq', 'the comparison with RabbitMQ\'s management API and metrics');
let reference: RabbitMq;
let wharf: AdminTestBroker;
const dataDir = tempDir('wharf-reference-');

/** Every family RabbitMQ-Overview.json (rabbitmq-server v3.10.8) queries, and a few more of the same kind. */
const DASHBOARD_FAMILIES = [
  'rabbitmq_build_info',
  'rabbitmq_channel_consumers',
  'rabbitmq_channels',
  'rabbitmq_channels_closed_total',
  'rabbitmq_channels_opened_total',
  'rabbitmq_connections',
  'rabbitmq_connections_closed_total',
  'rabbitmq_connections_opened_total',
  'rabbitmq_consumers',
  'rabbitmq_disk_space_available_bytes',
  'rabbitmq_global_messages_acknowledged_total',
  'rabbitmq_global_messages_confirmed_total',
  'rabbitmq_global_messages_delivered_consume_auto_ack_total',
  'rabbitmq_global_messages_delivered_consume_manual_ack_total',
  'rabbitmq_global_messages_delivered_get_auto_ack_total',
  'rabbitmq_global_messages_delivered_get_manual_ack_total',
  'rabbitmq_global_messages_get_empty_total',
  'rabbitmq_global_messages_received_confirm_total',
  'rabbitmq_global_messages_received_total',
  'rabbitmq_global_messages_redelivered_total',
  'rabbitmq_global_messages_routed_total',
  'rabbitmq_global_messages_unroutable_dropped_total',
  'rabbitmq_global_messages_unroutable_returned_total',
  'rabbitmq_identity_info',
  'rabbitmq_process_max_fds',
  'rabbitmq_process_max_tcp_sockets',
  'rabbitmq_process_open_fds',
  'rabbitmq_process_open_tcp_sockets',
  'rabbitmq_process_resident_memory_bytes',
  'rabbitmq_queue_messages_ready',
  'rabbitmq_queue_messages_unacked',
  'rabbitmq_queues',
  'rabbitmq_queues_created_total',
  'rabbitmq_queues_declared_total',
  'rabbitmq_queues_deleted_total',
  'rabbitmq_resident_memory_limit_bytes',
  'rabbitmq_queue_messages',
  'rabbitmq_queue_consumers',
  'rabbitmq_global_consumers',
  'rabbitmq_global_publishers',
  'rabbitmq_disk_space_available_limit_bytes',
];

/** The same AMQP traffic on either broker; returns the connection, kept open while the brokers are compared. */
async function workload(port: number): Promise<amqp.ChannelModel> {
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`, { clientProperties: { connection_name: 'reference' } });
  const publisher = await connection.createConfirmChannel();
  await publisher.assertExchange('ref-x', 'topic', { durable: true });
  await publisher.assertQueue('ref', { durable: true, arguments: { 'x-max-length': 1000 } });
  await publisher.bindQueue('ref', 'ref-x', 'a.#', { kind: 'binding' });
  for (let i = 0; i < 10; i++) publisher.publish('ref-x', 'a.b', Buffer.from(`message ${i}`), { persistent: true, contentType: 'text/plain' });
  publisher.publish('amq.direct', 'nowhere', Buffer.from('returned'), { mandatory: true });
  publisher.publish('amq.direct', 'nowhere', Buffer.from('dropped'));
  await publisher.waitForConfirms();
  const consumer = await connection.createChannel();
  await consumer.prefetch(3);
  const held: amqp.ConsumeMessage[] = [];
  await consumer.consume('ref', (m) => m && held.push(m), { consumerTag: 'ref-consumer' });
  await eventually(() => held.length === 3, 10_000, 'three deliveries');
  const getter = await connection.createChannel();
  expect(await getter.get('ref', { noAck: true })).not.toBe(false);
  return connection;
}

const EXPECTED: Array<[string, Record<string, string>, number]> = [
  ['rabbitmq_queue_messages_ready', { vhost: '/', queue: 'ref' }, 6],
  ['rabbitmq_queue_messages_unacked', { vhost: '/', queue: 'ref' }, 3],
  ['rabbitmq_queue_messages', { vhost: '/', queue: 'ref' }, 9],
  ['rabbitmq_queue_consumers', { vhost: '/', queue: 'ref' }, 1],
  ['rabbitmq_queues', {}, 1],
  ['rabbitmq_connections', {}, 1],
  ['rabbitmq_channels', {}, 3],
  ['rabbitmq_consumers', {}, 1],
  ['rabbitmq_global_messages_received_total', { protocol: 'amqp091' }, 12],
  ['rabbitmq_global_messages_received_confirm_total', { protocol: 'amqp091' }, 12],
  ['rabbitmq_global_messages_routed_total', { protocol: 'amqp091' }, 10],
  ['rabbitmq_global_messages_confirmed_total', { protocol: 'amqp091' }, 12],
  ['rabbitmq_global_messages_unroutable_returned_total', { protocol: 'amqp091' }, 1],
  ['rabbitmq_global_messages_unroutable_dropped_total', { protocol: 'amqp091' }, 1],
  ['rabbitmq_global_messages_delivered_consume_manual_ack_total', { protocol: 'amqp091', queue_type: 'rabbit_classic_queue' }, 3],
  ['rabbitmq_global_messages_delivered_get_auto_ack_total', { protocol: 'amqp091', queue_type: 'rabbit_classic_queue' }, 1],
  ['rabbitmq_global_messages_delivered_total', { protocol: 'amqp091', queue_type: 'rabbit_classic_queue' }, 4],
  ['rabbitmq_global_messages_acknowledged_total', { protocol: 'amqp091', queue_type: 'rabbit_classic_queue' }, 0],
  ['rabbitmq_global_consumers', { protocol: 'amqp091' }, 1],
  ['rabbitmq_channel_consumers', {}, 1],
];

let referenceConnection: amqp.ChannelModel | undefined;
let wharfConnection: amqp.ChannelModel | undefined;

beforeAll(async () => {
  if (!present) return;
  [reference, wharf] = await Promise.all([startRabbitMq({ management: true, prometheus: true }), startAdmin([rabbit()], {}, dataDir.path)]);
  [referenceConnection, wharfConnection] = await Promise.all([workload(reference.port), workload(wharf.port('amqp'))]);
}, 120_000);

afterAll(async () => {
  await referenceConnection?.close().catch(() => undefined);
  await wharfConnection?.close().catch(() => undefined);
  await wharf?.stop();
  await reference?.stop();
  dataDir.remove();
}, 30_000);

const scrapeReference = async (): Promise<{ samples: Sample[]; text: string }> => {
  const text = await (await fetch(`http://127.0.0.1:${reference.prometheusPort}/metrics/per-object`)).text();
  return { samples: parseExposition(text), text };
};

/** The sum over the series whose labels include `labels` (a Grafana `sum(family{...})`). */
const total = (samples: readonly Sample[], name: string, labels: Record<string, string>): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((sum, s) => sum + s.value, 0);

const types = (text: string): Map<string, string> => new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
const labelSets = (samples: readonly Sample[], name: string): string[] => [...new Set(samples.filter((s) => s.name === name).map((s) => Object.keys(s.labels).sort().join(',')))].sort();

const api = async (base: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> => {
  const response = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, ...(init.headers as object) } });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
};

describe.skipIf(!present)('Wharf beside RabbitMQ 3.10.8', () => {
  it('the dashboard\'s families have RabbitMQ\'s types, label sets and values', async () => {
    let ref: { samples: Sample[]; text: string } | undefined;
    await eventually(async () => {
      ref = await scrapeReference();
      return EXPECTED.every(([name, labels, value]) => total(ref!.samples, name, labels) === value);
    }, 30_000, 'RabbitMQ\'s statistics to settle');
    const text = await (await fetch(`${wharf.base}/metrics`)).text();
    const ours = parseExposition(text);
    const [refTypes, ourTypes] = [types(ref!.text), types(text)];
    for (const family of DASHBOARD_FAMILIES) {
      expect.soft(ourTypes.get(family), `${family}: type`).toBe(refTypes.get(family));
      expect.soft(labelSets(ours, family), `${family}: label sets`).toEqual(labelSets(ref!.samples, family));
    }
    for (const [name, labels, value] of EXPECTED) expect.soft(total(ours, name, labels), `${name}${JSON.stringify(labels)}`).toBe(value);
    // Every dashboard query joins on identity_info: exactly one series, with a cluster and a node.
    for (const samples of [ref!.samples, ours]) {
      const identity = samples.filter((s) => s.name === 'rabbitmq_identity_info');
      expect(identity).toHaveLength(1);
      expect(identity[0]!.labels).toMatchObject({ rabbitmq_cluster: expect.any(String), rabbitmq_node: expect.any(String) });
    }
  });

  it('the management API answers with RabbitMQ\'s shapes: overview, queues, exchanges, bindings, connections, channels, consumers, definitions, errors', async () => {
    const refBase = `http://127.0.0.1:${reference.managementPort}`;
    let refQueue: any;
    await eventually(async () => {
      refQueue = (await api(refBase, '/api/queues/%2F/ref')).body;
      return refQueue?.messages_ready === 6 && refQueue?.messages_unacknowledged === 3;
    }, 30_000, 'RabbitMQ\'s queue statistics');
    const ourQueue = (await api(wharf.base, '/api/queues/%2F/ref')).body;
    const queueFields = ['name', 'vhost', 'type', 'durable', 'auto_delete', 'exclusive', 'arguments', 'state', 'consumers', 'messages', 'messages_ready', 'messages_unacknowledged'];
    for (const field of queueFields) expect.soft(ourQueue[field], `queue.${field}`).toEqual(refQueue[field]);
    for (const field of ['node', 'consumer_details', 'policy', 'exclusive_consumer_tag', 'message_stats', 'consumer_capacity', 'effective_policy_definition']) expect.soft(ourQueue, `queue has ${field}`).toHaveProperty(field);
    // Rates as RabbitMQ's rates_mode basic writes them: every counter with its `*_details` (reductions are the Erlang process's).
    const rated = (queue: Record<string, unknown>) => Object.keys(queue).filter((k) => k.endsWith('_details') && k !== 'consumer_details' && k !== 'reductions_details').sort();
    expect(rated(ourQueue)).toEqual(rated(refQueue));
    expect(Object.keys(ourQueue.message_stats).sort()).toEqual(Object.keys(refQueue.message_stats).sort());
    for (const counter of ['publish', 'deliver_get', 'deliver', 'get_no_ack', 'ack', 'redeliver']) expect.soft(ourQueue.message_stats[counter], `message_stats.${counter}`).toBe(refQueue.message_stats[counter]);

    const [refOverview, ourOverview] = [(await api(refBase, '/api/overview')).body, (await api(wharf.base, '/api/overview')).body];
    for (const field of Object.keys(refOverview).filter((k) => !['sample_retention_policies', 'erlang_full_version', 'release_series_support_status'].includes(k))) {
      expect.soft(ourOverview, `overview has ${field}`).toHaveProperty(field);
    }
    for (const group of ['object_totals', 'queue_totals']) expect.soft(Object.keys(ourOverview[group]).sort(), group).toEqual(Object.keys(refOverview[group]).sort());
    expect(ourOverview.object_totals).toEqual(refOverview.object_totals);
    expect(ourOverview.rabbitmq_version).toBe(refOverview.rabbitmq_version);
    expect(Object.keys(ourOverview.listeners[0]).sort()).toEqual(expect.arrayContaining(['ip_address', 'node', 'port', 'protocol']));

    const strip = (items: any[]) => items.map(({ name, vhost, type, durable, auto_delete, internal, arguments: args }) => ({ name, vhost, type, durable, auto_delete, internal, arguments: args }));
    expect(strip((await api(wharf.base, '/api/exchanges')).body)).toEqual(strip((await api(refBase, '/api/exchanges')).body));
    // A binding with arguments is keyed `<routing key>~<base64url of erlang:phash2 of the arguments>`, the same on both.
    expect((await api(wharf.base, '/api/bindings')).body).toEqual((await api(refBase, '/api/bindings')).body);
    expect((await api(wharf.base, '/api/queues/%2F/ref/bindings')).body).toEqual((await api(refBase, '/api/queues/%2F/ref/bindings')).body);

    const keysOf = (items: any[]) => Object.keys(items[0]).sort();
    const [refConnections, ourConnections] = [(await api(refBase, '/api/connections')).body, (await api(wharf.base, '/api/connections')).body];
    const connectionFields = ['name', 'node', 'user', 'vhost', 'state', 'protocol', 'auth_mechanism', 'peer_host', 'peer_port', 'host', 'port', 'ssl', 'channels', 'channel_max', 'frame_max', 'timeout', 'client_properties', 'connected_at', 'recv_oct', 'send_oct', 'user_provided_name', 'type'];
    expect(keysOf(refConnections)).toEqual(expect.arrayContaining(connectionFields));
    expect(keysOf(ourConnections)).toEqual(expect.arrayContaining(connectionFields));
    for (const field of ['user', 'vhost', 'state', 'protocol', 'auth_mechanism', 'peer_host', 'channels', 'channel_max', 'frame_max', 'timeout', 'user_provided_name', 'ssl', 'type']) {
      expect.soft(ourConnections[0][field], `connection.${field}`).toEqual(refConnections[0][field]);
    }
    const [refChannels, ourChannels] = [(await api(refBase, '/api/channels?sort=number')).body, (await api(wharf.base, '/api/channels?sort=number')).body];
    for (const field of ['number', 'user', 'vhost', 'consumer_count', 'prefetch_count', 'global_prefetch_count', 'messages_unacknowledged', 'confirm', 'transactional']) {
      expect.soft(ourChannels.map((c: any) => c[field]), `channels.${field}`).toEqual(refChannels.map((c: any) => c[field]));
    }
    const [refConsumers, ourConsumers] = [(await api(refBase, '/api/consumers')).body, (await api(wharf.base, '/api/consumers')).body];
    const consumerView = (c: any) => ({ consumer_tag: c.consumer_tag, queue: c.queue, ack_required: c.ack_required, exclusive: c.exclusive, prefetch_count: c.prefetch_count, arguments: c.arguments, active: c.active });
    expect(ourConsumers.map(consumerView)).toEqual(refConsumers.map(consumerView));

    const [refDefs, ourDefs] = [(await api(refBase, '/api/definitions')).body, (await api(wharf.base, '/api/definitions')).body];
    expect(Object.keys(ourDefs).sort()).toEqual(Object.keys(refDefs).sort());
    for (const kind of ['queues', 'exchanges', 'bindings', 'vhosts', 'permissions']) expect.soft(ourDefs[kind], `definitions.${kind}`).toEqual(refDefs[kind]);

    for (const [path, init] of [
      ['/api/queues/%2F/missing', {}],
      ['/api/queues/%2F/ref', { method: 'PUT', body: '{bad', headers: { 'content-type': 'application/json' } }],
      ['/api/queues/%2F/ref', { method: 'PUT', body: '{"durable":"maybe"}', headers: { 'content-type': 'application/json' } }],
      ['/api/queues/%2F/ref', { method: 'PUT', body: '{"durable":false}', headers: { 'content-type': 'application/json' } }],
      ['/api/queues?page=0', {}],
      ['/api/queues?page=x', {}],
      ['/api/queues?page=1&page_size=501', {}],
      ['/api/queues?page=3&page_size=1', {}],
      ['/api/queues?page=1&name=REF&columns=name,messages', {}],
      ['/api/exchanges?sort=type&sort_reverse=true&columns=name,type', {}],
    ] as const) {
      const [refAnswer, ourAnswer] = [await api(refBase, path, init as RequestInit), await api(wharf.base, path, init as RequestInit)];
      expect.soft(ourAnswer, `${(init as RequestInit).method ?? 'GET'} ${path} ${(init as RequestInit).body ?? ''}`).toEqual(refAnswer);
    }
    const badLogin = { headers: { authorization: `Basic ${Buffer.from('guest:wrong').toString('base64')}` } };
    expect(await api(wharf.base, '/api/overview', badLogin)).toEqual(await api(refBase, '/api/overview', badLogin));
  });

  it('exclusive consumers of quorum and stream queues are listed exclusive; purging a stream is a bad request', async () => {
    const refBase = `http://127.0.0.1:${reference.managementPort}`;
    const views = await Promise.all(
      [[reference.port, refBase], [wharf.port('amqp'), wharf.base]].map(async ([port, base]) => {
        const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
        try {
          const ch = await connection.createChannel();
          await ch.prefetch(5);
          for (const type of ['quorum', 'stream']) {
            await ch.assertQueue(`exclusive-${type}`, { durable: true, arguments: { 'x-queue-type': type } });
            await ch.consume(`exclusive-${type}`, () => undefined, { exclusive: true, consumerTag: `tag-${type}` });
          }
          let consumers: any[] = [];
          await eventually(async () => {
            consumers = ((await api(base as string, '/api/consumers')).body as any[]).filter((c) => c.queue.name.startsWith('exclusive-'));
            return consumers.length === 2;
          }, 30_000, 'the two consumers listed');
          const purge = await api(base as string, '/api/queues/%2F/exclusive-stream/contents', { method: 'DELETE' });
          for (const type of ['quorum', 'stream']) await ch.deleteQueue(`exclusive-${type}`);
          return { consumers: consumers.map((c) => [c.queue.name, c.consumer_tag, c.exclusive]).sort(), purge };
        } finally {
          await connection.close();
        }
      }),
    );
    expect(views[0]!.consumers).toEqual([['exclusive-quorum', 'tag-quorum', true], ['exclusive-stream', 'tag-stream', true]]);
    expect(views[0]!.purge).toEqual({ status: 400, body: { error: 'bad_request', reason: "queue.purge not supported by stream queues queue 'exclusive-stream' in vhost '/'" } });
    expect(views[1]).toEqual(views[0]);
  });

  it('keys bindings with arguments of every type as RabbitMQ does (erlang:phash2 of the sorted argument table), over AMQP and HTTP, and finds them by that key', async () => {
    const refBase = `http://127.0.0.1:${reference.managementPort}`;
    const headersArgs: Array<Record<string, unknown>> = [
      { 'x-match': 'all', zeta: 'last', alpha: 'first' },
      { 'x-match': 'any', n: 7, big: 5_000_000_000, neg: -3, flag: true, off: false, ratio: 0.25 },
      { 'x-match': 'all', nested: { b: 'x', a: 1 }, list: ['one', 2, true], 'empty-string': '', 'ünïcode': 'värde' },
    ];
    const post = (base: string, args: Record<string, unknown>, key: string) =>
      api(base, '/api/bindings/%2F/e/amq.headers/q/ref', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ routing_key: key, arguments: args }) });
    for (const base of [refBase, wharf.base]) {
      const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${base === refBase ? reference.port : wharf.port('amqp')}`);
      const channel = await connection.createChannel();
      for (const [i, args] of headersArgs.entries()) await channel.bindQueue('ref', 'amq.headers', `amqp-${i}`, args);
      await connection.close();
      for (const [i, args] of headersArgs.entries()) expect((await post(base, args, i === 0 ? '' : `http-${i}`)).status).toBe(201);
    }
    const keysOf = async (base: string) =>
      ((await api(base, '/api/exchanges/%2F/amq.headers/bindings/source')).body as any[]).map((b) => [b.routing_key, b.properties_key]).sort((a, b) => String(a).localeCompare(String(b)));
    const [ours, theirs] = [await keysOf(wharf.base), await keysOf(refBase)];
    expect(theirs).toHaveLength(6);
    expect(ours).toEqual(theirs);
    // The key names the binding in URLs: GET and DELETE find it on both brokers.
    for (const [key, props] of theirs) {
      for (const base of [refBase, wharf.base]) {
        expect((await api(base, `/api/bindings/%2F/e/amq.headers/q/ref/${props}`)).body).toMatchObject({ routing_key: key, properties_key: props });
        expect((await api(base, `/api/bindings/%2F/e/amq.headers/q/ref/${props}`, { method: 'DELETE' })).status).toBe(204);
      }
    }
    expect(await keysOf(wharf.base)).toEqual([]);
  });
});
