import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { ContainerModule } from 'inversify';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RecordBatch,
  SegmentedStorageEngine,
  SingleNodeReplicator,
  TOKENS,
  createBroker,
  createRootLogger,
  decodeRecords,
  defaultLogConfig,
  definePlugin,
  encodeRecordBatch,
  systemClock,
  type ReplicaLog,
  type Replicator,
} from '../../core/index.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { ApiKeys, decodeResponse, encodeRequest } from '../../plugins/kafka/codec/index.ts';
import { FsSegmentStore } from '../../plugins/storage-fs/index.ts';
import { memoryStorage } from '../../plugins/storage-memory/index.ts';
import { eventually } from '../helpers/kafka.ts';
import { KafkaWire } from '../helpers/kafka-wire.ts';
import { hasProgram } from '../helpers/programs.ts';
import { exitCode, ROOT, waitForLine } from '../helpers/spawn.ts';
import { tempDir } from '../helpers/temp-dir.ts';

/** The CLI broker (storage-fs, flush always) in a child process, so it can be killed with SIGKILL and restarted on its port. */
async function startBrokerProcess(dataDir: string, port?: number): Promise<{ child: ChildProcess; port: number }> {
  const args = ['start', '--data-dir', dataDir, '--kafka-port', String(port ?? 'auto'), '--amqp-port', '0', '--rocket-port', '0', '--stream-port', '0', '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'error'];
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const ready = await waitForLine(child, /^Wharf ready/);
  return { child, port: Number(/kafka 127\.0\.0\.1:(\d+)/.exec(ready)![1]) };
}

async function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  child.kill(signal);
  await exitCode(child);
}

async function createTopic(port: number, topic: string, numPartitions: number): Promise<void> {
  const admin = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

/** Every record of a partition in offset order, read from the data directory of a stopped broker. */
async function readPartition(dataDir: string, topic: string, partition: number): Promise<Array<{ offset: number; value: string }>> {
  const engine = new SegmentedStorageEngine(new FsSegmentStore(dataDir), new SingleNodeReplicator(), systemClock, createRootLogger('silent'));
  await engine.open();
  const log = await engine.openLog({ topic, partition }, { ...defaultLogConfig, flush: { kind: 'never' } });
  const records: Array<{ offset: number; value: string }> = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
    const { records: bytes } = await log.read(offset, 1 << 20);
    for (let pos = 0; pos < bytes.length; ) {
      const batch = new RecordBatch(bytes, pos);
      for (const r of decodeRecords(bytes, pos)) records.push({ offset: r.offset, value: r.value!.toString() });
      offset = batch.nextOffset;
      pos += batch.sizeInBytes;
    }
  }
  await engine.close();
  return records;
}

const dirs: Array<{ remove(): void }> = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) await stop(child, 'SIGKILL');
  for (const dir of dirs.splice(0)) dir.remove();
});

/**
 * confluent-kafka producers with enable.idempotence: each sends `<producer>-<n>` to partition n % PARTITIONS,
 * reports every delivery on stdout, and stops producing at a line on stdin, then flushes.
 */
const PRODUCERS_SCRIPT = `
import sys, threading, time
from confluent_kafka import Producer
bootstrap, topic, producers, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
out = sys.stdout
def delivered(err, msg):
    if err is None: out.write('ack %s %d %d\\n' % (msg.value().decode(), msg.partition(), msg.offset()))
    else: out.write('fail %s %s\\n' % (msg.value().decode(), err.name()))
def error(err):
    if err.fatal(): out.write('fatal %s %s\\n' % (err.name(), err.str()))
config = {'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'linger.ms': 2, 'message.timeout.ms': 60000,
          'retry.backoff.ms': 50, 'reconnect.backoff.ms': 50, 'reconnect.backoff.max.ms': 250, 'error_cb': error}
ps = [Producer(config) for _ in range(producers)]
sent = [0] * producers
while not stop.is_set():
    for k, p in enumerate(ps):
        for _ in range(10):
            p.produce(topic, value=('%d-%d' % (k, sent[k])).encode(), partition=sent[k] % partitions, on_delivery=delivered)
            sent[k] += 1
        p.poll(0)
    out.flush()
    time.sleep(0.005)
for p in ps: out.write('left %d\\n' % p.flush(90))
out.write('done\\n')
out.flush()
`;

describe('idempotent producers across a broker crash', () => {
  it.skipIf(!hasProgram('confluent-kafka', 'the idempotent crash test'))(
    'librdkafka retries its in-flight batches after a kill -9 and a restart; every acknowledged message is stored once, in order, at its acknowledged offset',
    async () => {
      const PRODUCERS = 3;
      const PARTITIONS = 3;
      const dir = tempDir();
      dirs.push(dir);
      const first = await startBrokerProcess(dir.path);
      children.push(first.child);
      await createTopic(first.port, 'orders', PARTITIONS);

      const python = spawn('/usr/bin/python3', ['-c', PRODUCERS_SCRIPT, `127.0.0.1:${first.port}`, 'orders', String(PRODUCERS), String(PARTITIONS)], { stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(python);
      const acked = new Map<string, { partition: number; offset: number }>();
      const problems: string[] = [];
      let done = false;
      let stderr = '';
      python.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      readline.createInterface({ input: python.stdout! }).on('line', (line) => {
        const [kind, value, partition, offset] = line.split(' ');
        if (kind === 'ack') acked.set(value!, { partition: Number(partition), offset: Number(offset) });
        else if (kind === 'done') done = true;
        else if (kind !== 'left' || value !== '0') problems.push(line);
      });

      await eventually(() => acked.size >= 500, 30_000, 'acknowledgements before the crash');
      await stop(first.child, 'SIGKILL');
      const ackedBeforeCrash = acked.size;
      const second = await startBrokerProcess(dir.path, first.port);
      children.push(second.child);
      await eventually(() => acked.size >= ackedBeforeCrash + 500, 60_000, 'acknowledgements after the restart');
      python.stdin!.end('stop\n');
      await eventually(() => done, 60_000, `the producers to flush (stderr: ${stderr})`);
      await exitCode(python);
      await stop(second.child, 'SIGTERM');

      expect(problems).toEqual([]);
      const stored = new Map<string, { partition: number; offset: number }>();
      const duplicates: string[] = [];
      const outOfOrder: string[] = [];
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const last = new Map<string, number>();
        for (const { offset, value } of await readPartition(dir.path, 'orders', partition)) {
          if (stored.has(value)) duplicates.push(value);
          stored.set(value, { partition, offset });
          const [producer, n] = value.split('-').map(Number) as [number, number];
          if ((last.get(`${producer}`) ?? -1) >= n) outOfOrder.push(value);
          last.set(`${producer}`, n);
        }
      }
      expect(duplicates).toEqual([]);
      expect(outOfOrder).toEqual([]);
      const misplaced = [...acked].filter(([value, at]) => stored.get(value)?.offset !== at.offset || stored.get(value)?.partition !== at.partition);
      expect(misplaced).toEqual([]);
    },
    150_000,
  );

  it('answers the identical batch resent after a kill -9 and after a clean restart with its original offsets, and leaves the log unchanged', async () => {
    const dir = tempDir();
    dirs.push(dir);
    let broker = await startBrokerProcess(dir.path);
    children.push(broker.child);
    const { port } = broker;
    await createTopic(port, 'wire', 1);
    const produce = (records: Buffer) => ({ transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'wire', partitionData: [{ index: 0, records }] }] });
    const send = async (wire: KafkaWire, records: Buffer) => (await wire.request(ApiKeys.Produce, 7, produce(records))).responses[0]!.partitionResponses[0]!;

    let wire = await KafkaWire.connect(port);
    const init = { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 };
    const { producerId, producerEpoch } = await wire.request(ApiKeys.InitProducerId, 1, init);
    const batch = (baseSequence: number, ...values: string[]) => encodeRecordBatch({ producerId, producerEpoch, baseSequence, timestamp: Date.now(), records: values.map((v) => ({ value: Buffer.from(v) })) });
    const first = batch(0, 'a', 'b');
    const second = batch(2, 'c');
    expect(await send(wire, Buffer.from(first))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await send(wire, encodeRecordBatch({ records: [{ value: Buffer.from('plain') }] }))).toMatchObject({ errorCode: 0, baseOffset: 2 });
    expect(await send(wire, Buffer.from(second))).toMatchObject({ errorCode: 0, baseOffset: 3 });
    wire.close();

    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      await stop(broker.child, signal);
      broker = await startBrokerProcess(dir.path, port);
      children.push(broker.child);
      wire = await KafkaWire.connect(port);
      expect(await send(wire, Buffer.from(first))).toMatchObject({ errorCode: 0, baseOffset: 0 });
      expect(await send(wire, Buffer.from(second))).toMatchObject({ errorCode: 0, baseOffset: 3 });
      expect(await send(wire, batch(9, 'gap'))).toMatchObject({ errorCode: 45 });
      const again = await wire.request(ApiKeys.InitProducerId, 1, init);
      expect(again.producerId).toBeGreaterThan(producerId);
      wire.close();
    }
    wire = await KafkaWire.connect(port);
    expect(await send(wire, batch(3, 'd'))).toMatchObject({ errorCode: 0, baseOffset: 4 });
    wire.close();
    await stop(broker.child, 'SIGTERM');
    expect((await readPartition(dir.path, 'wire', 0)).map((r) => `${r.offset}:${r.value}`)).toEqual(['0:a', '1:b', '2:plain', '3:c', '4:d']);
  }, 60_000);
});

/** A replicator that commits at once while open and holds every commit while closed, as a slow follower would. */
class GatedReplicator implements Replicator {
  readonly name = 'gated';
  private held: Array<() => void> | undefined;

  checkAppend(): undefined {
    return undefined;
  }

  commit(log: ReplicaLog, endOffset: number): Promise<void> {
    if (this.held === undefined) {
      log.advanceHighWatermark(endOffset);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.held!.push(() => resolve(log.advanceHighWatermark(endOffset))));
  }

  close(): void {
    this.held = [];
  }

  open(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const release of held) release();
  }
}

describe('a retried batch whose original is not committed yet', () => {
  it('is answered with the original offsets only once the original commits, or REQUEST_TIMED_OUT after the request timeout, as Kafka delays it', async () => {
    const gate = new GatedReplicator();
    const gated = definePlugin({
      name: 'gated-replicator',
      provides: [TOKENS.Replicator],
      replaces: [TOKENS.Replicator],
      module: () => new ContainerModule(({ bind }) => void bind<Replicator>(TOKENS.Replicator).toConstantValue(gate)),
    });
    const broker = await createBroker({ plugins: [memoryStorage(), kafka(), gated], config: { logLevel: 'error', host: '127.0.0.1', kafka: { port: 'auto' } } });
    await broker.start();
    try {
      const port = broker.listeners().find((l) => l.protocol === 'kafka')!.port;
      await createTopic(port, 'held', 1);
      const [a, b] = [await KafkaWire.connect(port), await KafkaWire.connect(port)];
      const { producerId, producerEpoch } = await a.request(ApiKeys.InitProducerId, 1, { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
      const batch = (baseSequence: number) => encodeRecordBatch({ producerId, producerEpoch, baseSequence, records: [{ value: Buffer.from(`m${baseSequence}`) }] });
      let correlationId = 0;
      const produce = (wire: KafkaWire, records: Buffer, timeoutMs = 5000) => {
        wire.send(encodeRequest(ApiKeys.Produce, 7, ++correlationId, 'held', { transactionalId: null, acks: -1, timeoutMs, topicData: [{ name: 'held', partitionData: [{ index: 0, records }] }] }));
        return wire.nextFrame().then((frame) => decodeResponse(ApiKeys.Produce, 7, frame).body.responses[0]!.partitionResponses[0]!);
      };
      const within = <T>(promise: Promise<T>, ms: number) => Promise.race([promise, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);

      gate.close();
      const original = produce(a, batch(0));
      const retry = produce(b, batch(0));
      expect(await within(retry, 300)).toBe('pending');
      gate.open();
      expect(await original).toMatchObject({ errorCode: 0, baseOffset: 0 });
      expect(await retry).toMatchObject({ errorCode: 0, baseOffset: 0 });

      gate.close();
      const next = produce(a, batch(1));
      expect(await produce(b, batch(1), 100)).toMatchObject({ errorCode: 7 });
      gate.open();
      expect(await next).toMatchObject({ errorCode: 0, baseOffset: 1 });
      a.close();
      b.close();
    } finally {
      gate.open();
      await broker.stop();
    }
  });
});
