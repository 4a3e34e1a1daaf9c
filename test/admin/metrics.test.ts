import amqp from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafka } from '../../plugins/kafka/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { rocket } from '../../plugins/rocket/index.ts';
import { startAdmin, valueOf, type AdminTestBroker, type Sample } from '../helpers/admin.ts';
import { eventually } from '../helpers/kafka.ts';
import { Producer, quietLogger, SimpleConsumer } from '../helpers/rocket.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** Real clients of each protocol produce and consume; /metrics is scraped before and after. */
let broker: AdminTestBroker;
const dir = tempDir('wharf-metrics-');

beforeAll(async () => {
  broker = await startAdmin([kafka(), rabbit(), rocket()], { topics: { flush: 'always' } }, dir.path);
});

afterAll(async () => {
  await broker?.stop();
  dir.remove();
});

const sum = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).reduce((total, s) => total + s.value, 0);

describe('/metrics as real clients produce and consume', () => {
  it('Kafka (kafkajs): messages and bytes in and out per topic, group lag, offsets, storage, request latency, fsync latency', async () => {
    const before = await broker.scrape();
    const client = new Kafka({ clientId: 'metrics-test', brokers: [`127.0.0.1:${broker.port('kafka')}`], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'metered', numPartitions: 1 }] });
    await admin.disconnect();
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'metered', messages: Array.from({ length: 10 }, (_, i) => ({ value: `message ${i}` })) });
    const consumer = client.consumer({ groupId: 'metered-group' });
    await consumer.connect();
    await consumer.subscribe({ topics: ['metered'], fromBeginning: true });
    let consumed = 0;
    await consumer.run({ eachMessage: async () => void consumed++ });
    await eventually(() => consumed === 10, 20_000, 'ten messages consumed');
    await eventually(async () => valueOf(await broker.scrape(), 'wharf_consumer_group_lag', { group: 'metered-group', topic: 'metered', partition: 0 }) === 0 && consumed === 10, 20_000, 'the commit');
    await consumer.disconnect();
    await producer.send({ topic: 'metered', messages: Array.from({ length: 5 }, (_, i) => ({ value: `later ${i}` })) });
    await producer.disconnect();

    const after = await broker.scrape();
    const topic = { protocol: 'kafka', topic: 'metered' };
    expect(valueOf(after, 'wharf_messages_in_total', topic) - valueOf(before, 'wharf_messages_in_total', topic)).toBe(15);
    expect(valueOf(after, 'wharf_bytes_in_total', topic)).toBeGreaterThan(15 * 'message 0'.length);
    expect(valueOf(after, 'wharf_messages_out_total', topic)).toBeGreaterThanOrEqual(10);
    expect(valueOf(after, 'wharf_bytes_out_total', topic)).toBeGreaterThan(0);
    expect(valueOf(after, 'wharf_consumer_group_lag', { protocol: 'kafka', group: 'metered-group', topic: 'metered', partition: 0 })).toBe(5);
    expect(valueOf(after, 'wharf_partition_high_watermark', { topic: 'metered', partition: 0 })).toBe(15);
    expect(valueOf(after, 'wharf_partition_log_start_offset', { topic: 'metered', partition: 0 })).toBe(0);
    expect(valueOf(after, 'wharf_storage_bytes', { topic: 'metered', partition: 0 })).toBeGreaterThan(0);
    expect(valueOf(after, 'wharf_storage_segments', { topic: 'metered', partition: 0 })).toBe(1);
    const produces = { protocol: 'kafka', api: 'Produce' };
    expect(valueOf(after, 'wharf_request_duration_seconds_count', produces) - valueOf(before, 'wharf_request_duration_seconds_count', produces)).toBe(2);
    expect(valueOf(after, 'wharf_request_duration_seconds_bucket', { ...produces, le: '+Inf' })).toBe(valueOf(after, 'wharf_request_duration_seconds_count', produces));
    expect(valueOf(after, 'wharf_fsync_duration_seconds_count')).toBeGreaterThan(valueOf(before, 'wharf_fsync_duration_seconds_count'));
    expect(valueOf(after, 'wharf_connections_opened_total', { protocol: 'kafka' })).toBeGreaterThan(valueOf(before, 'wharf_connections_opened_total', { protocol: 'kafka' }));
  });

  it('AMQP (amqplib): per-queue depth (ready, unacked), confirms, redeliveries, and RabbitMQ\'s own families', async () => {
    const before = await broker.scrape();
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port('amqp')}`);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('metered-queue', { durable: true });
    for (let i = 0; i < 20; i++) channel.sendToQueue('metered-queue', Buffer.from(`body ${i}`), { persistent: true });
    await channel.waitForConfirms();
    await channel.prefetch(5);
    const held: amqp.ConsumeMessage[] = [];
    const { consumerTag } = await channel.consume('metered-queue', (m) => m && held.push(m));
    await eventually(() => held.length === 5, 10_000, 'five deliveries');
    const during = await broker.scrape();
    const queue = { protocol: 'amqp', vhost: '/', queue: 'metered-queue' };
    expect(valueOf(during, 'wharf_queue_messages_unacked', queue)).toBe(5);
    expect(valueOf(during, 'wharf_queue_messages_ready', queue)).toBe(15);
    expect(valueOf(during, 'wharf_consumers', queue)).toBe(1);
    expect(valueOf(during, 'rabbitmq_queue_messages_unacked', { vhost: '/', queue: 'metered-queue' })).toBe(5);
    expect(valueOf(during, 'rabbitmq_channel_consumers')).toBeGreaterThanOrEqual(1);
    await channel.cancel(consumerTag);
    for (const m of held.slice(0, 4)) channel.ack(m);
    channel.nack(held[4]!, false, true);
    const got = await channel.get('metered-queue', { noAck: false });
    expect(got && got.fields.redelivered).toBe(true);
    channel.ack(got as amqp.GetMessage);
    await channel.close();
    await connection.close();

    const after = await broker.scrape();
    expect(valueOf(after, 'wharf_messages_in_total', queue)).toBe(20);
    expect(valueOf(after, 'wharf_bytes_in_total', queue)).toBe(20 * 'body 0'.length + 10);
    expect(valueOf(after, 'wharf_messages_out_total', queue)).toBe(6);
    expect(valueOf(after, 'wharf_acks_total', queue)).toBe(5);
    expect(valueOf(after, 'wharf_redeliveries_total', queue)).toBe(1);
    expect(valueOf(after, 'wharf_queue_messages_ready', queue)).toBe(15);
    expect(valueOf(after, 'wharf_queue_messages_unacked', queue)).toBe(0);
    expect(valueOf(after, 'wharf_confirms_total', { protocol: 'amqp' }) - valueOf(before, 'wharf_confirms_total', { protocol: 'amqp' })).toBe(20);
    const amqp091 = { protocol: 'amqp091' };
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('rabbitmq_global_messages_received_total', amqp091)).toBe(20);
    expect(delta('rabbitmq_global_messages_received_confirm_total', amqp091)).toBe(20);
    expect(delta('rabbitmq_global_messages_confirmed_total', amqp091)).toBe(20);
    expect(delta('rabbitmq_global_messages_routed_total', amqp091)).toBe(20);
    const classic = { protocol: 'amqp091', queue_type: 'rabbit_classic_queue' };
    expect(delta('rabbitmq_global_messages_delivered_consume_manual_ack_total', classic)).toBe(5);
    expect(delta('rabbitmq_global_messages_delivered_get_manual_ack_total', classic)).toBe(1);
    expect(delta('rabbitmq_global_messages_redelivered_total', classic)).toBe(1);
    expect(delta('rabbitmq_global_messages_acknowledged_total', classic)).toBe(5);
    expect(delta('rabbitmq_connections_opened_total')).toBe(1);
    expect(delta('rabbitmq_channels_opened_total')).toBe(1);
    expect(delta('rabbitmq_channels_closed_total')).toBe(1);
    expect(delta('rabbitmq_queues_created_total')).toBe(1);
    expect(valueOf(after, 'rabbitmq_queue_messages_ready', { vhost: '/', queue: 'metered-queue' })).toBe(15);
    expect(valueOf(after, 'rabbitmq_queues')).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'wharf_request_duration_seconds_count', { protocol: 'amqp', api: 'queue.declare' })).toBeGreaterThanOrEqual(1);
  });

  it('RocketMQ (official client): messages in per topic, out and acked per group, lag and in-flight per queue', async () => {
    const endpoints = `127.0.0.1:${broker.port('rocketmq')}`;
    const producer = new Producer({ endpoints, namespace: '', logger: quietLogger } as never);
    await producer.startup();
    for (let i = 0; i < 6; i++) await producer.send({ topic: 'metered-topic', body: Buffer.from(`rocket ${i}`), tag: 'T' } as never);
    const consumer = new SimpleConsumer({ endpoints, namespace: '', logger: quietLogger, consumerGroup: 'metered-rocket', subscriptions: new Map([['metered-topic', '*']]), awaitDuration: 500 } as never);
    await consumer.startup();
    const received: Array<Awaited<ReturnType<SimpleConsumer['receive']>>[number]> = [];
    await eventually(async () => {
      received.push(...(await consumer.receive(6 - received.length, 30_000)));
      return received.length === 6;
    }, 20_000, 'six messages received');
    for (const message of received.slice(0, 4)) await consumer.ack(message);
    const after = await broker.scrape();
    expect(valueOf(after, 'wharf_messages_in_total', { protocol: 'rocketmq', topic: 'metered-topic' })).toBe(6);
    expect(valueOf(after, 'wharf_bytes_in_total', { protocol: 'rocketmq', topic: 'metered-topic' })).toBe(6 * 'rocket 0'.length);
    const group = { protocol: 'rocketmq', group: 'metered-rocket', topic: 'metered-topic' };
    expect(valueOf(after, 'wharf_messages_out_total', group)).toBe(6);
    expect(valueOf(after, 'wharf_acks_total', group)).toBe(4);
    expect(sum(after, 'wharf_consumer_group_inflight', group)).toBe(2);
    expect(sum(after, 'wharf_consumer_group_lag', group)).toBe(0);
    expect(valueOf(after, 'wharf_connections', { protocol: 'rocketmq' })).toBeGreaterThanOrEqual(2);
    expect(valueOf(after, 'wharf_request_duration_seconds_count', { protocol: 'rocketmq', api: 'SendMessage' })).toBe(6);
    await consumer.shutdown();
    await producer.shutdown();
  });

  it('exposes process and runtime families: RSS, event-loop lag, GC, the build', async () => {
    const text = await (await fetch(`${broker.base}/metrics`)).text();
    for (const family of ['wharf_process_resident_memory_bytes', 'wharf_nodejs_eventloop_lag_seconds', 'wharf_nodejs_gc_duration_seconds', 'wharf_build_info', 'rabbitmq_identity_info']) {
      expect(text).toContain(`# TYPE ${family} `);
    }
    const samples = await broker.scrape();
    expect(valueOf(samples, 'wharf_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(samples.find((s) => s.name === 'wharf_build_info')!.labels.version).toMatch(/^\d+\.\d+\.\d+/);
  });
});
