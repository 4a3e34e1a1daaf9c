import amqp from 'amqplib';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../core/index.ts';
import { ApiKeys } from '../plugins/kafka/codec/index.ts';
import { startBrokerProcess, type BrokerProcess } from './helpers/broker-process.ts';
import { fetchValues, KafkaWire } from './helpers/kafka-wire.ts';
import { rawRocketClient } from './helpers/rocket-wire.ts';

/** A RocketMQ SendMessage to the auto-created NORMAL topic `rocket-full`; its status. */
async function rocketSend(port: number, id: string): Promise<{ code: string; message: string }> {
  const client = rawRocketClient(`127.0.0.1:${port}`);
  try {
    const systemProperties = { messageId: id, messageType: 'NORMAL', bodyEncoding: 'IDENTITY', bornTimestamp: { seconds: Math.floor(Date.now() / 1000) } };
    const response = await client.unary('SendMessage', { messages: [{ topic: { name: 'rocket-full' }, body: Buffer.from(id), userProperties: {}, systemProperties }] });
    return response.status as { code: string; message: string };
  } finally {
    client.close();
  }
}

/** Mounts an 8 MiB tmpfs at `dir`, so the test can fill and free the disk; needs root. */
function mountTmpfs(dir: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir], { stdio: 'pipe' });
}

/** Why the test cannot run here, if it cannot: it needs root and a tmpfs mount (tried once, then undone). */
function cannotMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (mounting a tmpfs needs root)';
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-probe-'));
  try {
    mountTmpfs(probe);
    execFileSync('umount', [probe]);
    return undefined;
  } catch (err) {
    return `mount -t tmpfs failed: ${(err as Error).message.split('\n')[0]}`;
  } finally {
    fs.rmdirSync(probe);
  }
}

/** Writes a file until the disk refuses another byte. */
function fill(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

async function produceCode(port: number, value: string): Promise<number> {
  const wire = await KafkaWire.connect(port);
  try {
    const records = encodeRecordBatch({ records: [{ value: Buffer.from(value) }] });
    const response = await wire.request(ApiKeys.Produce, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'full', partitionData: [{ index: 0, records }] }] });
    return response.responses[0]!.partitionResponses[0]!.errorCode;
  } finally {
    wire.close();
  }
}

async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const skip = cannotMount();

describe.skipIf(skip !== undefined)(`a full disk${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let root = '';
  const args = ['--disk-free-limit', String(512 * 1024), '--topics-flush', 'never'];
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'wharf-full-'));
    mountTmpfs(root);
  });
  let broker: BrokerProcess | undefined;
  afterAll(async () => {
    await broker?.kill();
    execFileSync('umount', [root]);
    fs.rmdirSync(root);
  });

  it('makes the broker read-only with each protocol\'s answer, lets it start so after a kill -9, and resumes writes once space returns', async () => {
    const dataDir = path.join(root, 'data');
    const filler = path.join(root, 'filler');
    broker = await startBrokerProcess(dataDir, args);
    {
      const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue('kept', { durable: true });
      channel.sendToQueue('kept', Buffer.from('stored before'), { persistent: true });
      await channel.waitForConfirms();
      await connection.close();
    }
    const wire = await KafkaWire.connect(broker.ports.kafka!);
    await wire.request(ApiKeys.CreateTopics, 4, { topics: [{ name: 'full', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    wire.close();
    expect(await produceCode(broker.ports.kafka!, 'before')).toBe(0);
    expect((await rocketSend(broker.ports.rocketmq!, 'R1')).code).toBe('OK');

    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const blocked = new Promise<string>((resolve) => connection.on('blocked', resolve));
    connection.on('error', () => undefined);
    const channel = await connection.createChannel();

    fill(filler);
    // Kafka: KAFKA_STORAGE_ERROR (56), as a Kafka broker answers for a failed log directory.
    // Until the broker notices, an append may still fit in the file's last page: what is acknowledged is stored.
    let acknowledged = 0;
    const whileFull = async (): Promise<number> => {
      const code = await produceCode(broker!.ports.kafka!, 'while full');
      if (code === 0) acknowledged++;
      return code;
    };
    expect(await until(whileFull, (code) => code !== 0)).toBe(56);
    const stored = ['before', ...Array.from({ length: acknowledged }, () => 'while full')];
    // RocketMQ: what its proxy answers when the store is not writable.
    const refusedSend = await rocketSend(broker.ports.rocketmq!, 'R2');
    expect(refusedSend.code).toBe('INTERNAL_SERVER_ERROR');
    expect(refusedSend.message).toContain("the broker's disk is full");
    // AMQP: connection.blocked with RabbitMQ's reason; a declare of an existing queue still works, a new queue
    // is refused on its channel (406) and the connection lives on.
    expect(await blocked).toBe('low on disk');
    expect((await channel.assertQueue('kept', { durable: true })).messageCount).toBe(1);
    const refused = await connection.createChannel();
    refused.on('error', () => undefined);
    await expect(refused.assertQueue('new-while-full', { durable: true })).rejects.toThrow(/PRECONDITION_FAILED.*read-only/);
    expect((await channel.checkQueue('kept')).messageCount).toBe(1);
    await connection.close();

    // A crash while full, and a start on the full disk: reads are served, writes still refused.
    await broker.kill();
    broker = await startBrokerProcess(dataDir, args);
    expect(await fetchValues(broker.ports.kafka!, 'full')).toEqual(stored);
    expect(await produceCode(broker.ports.kafka!, 'after restart, still full')).toBe(56);
    const reader = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`);
    const unblocked = new Promise<void>((resolve) => reader.on('unblocked', resolve));
    const readerChannel = await reader.createChannel();
    expect((await readerChannel.get('kept', { noAck: true }) || undefined)?.content.toString()).toBe('stored before');

    // Space returns: writes resume without a restart.
    fs.rmSync(filler);
    const freed = performance.now();
    expect(await until(() => produceCode(broker!.ports.kafka!, 'after space returned'), (code) => code === 0)).toBe(0);
    const resumedMs = performance.now() - freed;
    await unblocked;
    console.log(`writes resumed ${resumedMs.toFixed(0)} ms after space returned`);
    expect(await fetchValues(broker.ports.kafka!, 'full')).toEqual([...stored, 'after space returned']);
    await reader.close();
    expect(await broker.stop()).toBe(0);
  }, 90_000);
});
