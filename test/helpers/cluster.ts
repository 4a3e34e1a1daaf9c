import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { decodeRecords, RecordBatch } from '../../core/index.ts';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { KafkaWire } from './kafka-wire.ts';
import { EtcdServer, type EtcdOptions } from './etcd.ts';
import { ROOT } from './spawn.ts';
import { tempDir } from './temp-dir.ts';

export interface ClusterOptions {
  readonly nodes: number;
  /** The brokers' lease TTL (etcd's minimum is 2 s at default timings). */
  readonly leaseTtlMs?: number;
  readonly etcd?: EtcdOptions;
  /** Extra flags for every broker. */
  readonly flags?: readonly string[];
  /** The address broker `nodeId` binds (and connects to its peers from); 127.0.0.1 by default. */
  readonly hostOf?: (nodeId: number) => string;
  /** The etcd endpoint broker `nodeId` is given (e.g. a fault proxy in front of etcd); etcd's own by default. */
  readonly etcdEndpointOf?: (nodeId: number, etcd: EtcdServer) => Promise<string>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * One broker process of a test cluster: `bin/wharf.js start` on its own data directory, with the
 * Kafka listener only; its stderr (pino logs) goes to `<dataDir>.log` for post-mortems. Restarts reuse
 * its data directory and ports, as an operator restarting a crashed broker would.
 */
export class BrokerProcess {
  child: ChildProcess | undefined;
  kafkaPort = 0;
  replicationPort = 0;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly nodeId: number,
    readonly dataDir: string,
    private readonly etcdEndpoint: string,
    private readonly leaseTtlMs: number,
    private readonly flags: readonly string[],
    readonly host = '127.0.0.1',
  ) {}

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get bootstrap(): string {
    return `${this.host}:${this.kafkaPort}`;
  }

  get logFile(): string {
    return `${this.dataDir}.log`;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error(`broker ${this.nodeId} is already running`);
    const args = [
      path.join(ROOT, 'bin/wharf.js'),
      'start',
      '--data-dir', this.dataDir,
      '--node-id', String(this.nodeId),
      '--cluster-etcd', this.etcdEndpoint,
      '--cluster-lease-ttl-ms', String(this.leaseTtlMs),
      '--host', this.host,
      '--kafka-port', this.kafkaPort ? String(this.kafkaPort) : 'auto',
      '--replication-port', this.replicationPort ? String(this.replicationPort) : 'auto',
      '--amqp-port', '0',
      '--rocket-port', '0',
      '--http-port', '0',
      '--log-level', 'info',
      '--cluster-request-timeout-ms', String(Math.max(300, Math.floor(this.leaseTtlMs / 3))),
      '--replication-fetch-max-wait-ms', '200',
      '--groups-initial-rebalance-delay-ms', '0',
      '--groups-min-session-timeout-ms', '1000',
      ...this.flags,
    ];
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', log] });
    fs.closeSync(log);
    this.child = child;
    live.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        live.delete(child);
        if (this.child === child) this.child = undefined;
        resolve();
      }),
    );
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`broker ${this.nodeId} did not start; see ${this.logFile}`)), 60_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const ready = out.split('\n').find((l) => l.startsWith('Wharf ready'));
        if (ready) {
          clearTimeout(timer);
          resolve(ready);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`broker ${this.nodeId} exited with ${code} before it was ready; see ${this.logFile}`));
      });
    });
    this.kafkaPort = Number(/kafka [\d.]+:(\d+)/.exec(line)![1]);
    this.replicationPort = Number(/replication [\d.]+:(\d+)/.exec(line)![1]);
  }

  /** kill -9, and wait until the process is gone. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM: a controlled shutdown. */
  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.exited;
  }

  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }
}

/** etcd plus `nodes` broker processes on loopback, each on a temporary data directory. */
export class TestCluster {
  private constructor(
    readonly etcd: EtcdServer,
    readonly brokers: BrokerProcess[],
    readonly dir: string,
  ) {}

  static async start(options: ClusterOptions): Promise<TestCluster> {
    const etcd = await EtcdServer.start(options.etcd);
    const dir = tempDir('wharf-cluster-').path;
    const leaseTtlMs = options.leaseTtlMs ?? 2000;
    const brokers: BrokerProcess[] = [];
    for (let nodeId = 1; nodeId <= options.nodes; nodeId++) {
      const endpoint = (await options.etcdEndpointOf?.(nodeId, etcd)) ?? etcd.endpoint;
      brokers.push(new BrokerProcess(nodeId, path.join(dir, `broker-${nodeId}`), endpoint, leaseTtlMs, options.flags ?? [], options.hostOf?.(nodeId)));
    }
    const cluster = new TestCluster(etcd, brokers, dir);
    try {
      for (const broker of brokers) await broker.start();
    } catch (err) {
      await cluster.remove();
      throw err;
    }
    return cluster;
  }

  broker(nodeId: number): BrokerProcess {
    return this.brokers.find((b) => b.nodeId === nodeId)!;
  }

  /** The Kafka addresses of the brokers running now. */
  get bootstrap(): string[] {
    return this.brokers.filter((b) => b.running && b.kafkaPort > 0).map((b) => b.bootstrap);
  }

  client(config: Partial<KafkaConfig> = {}): Kafka {
    return new Kafka({
      clientId: 'cluster-test',
      brokers: this.bootstrap,
      logLevel: logLevel.NOTHING,
      retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 },
      ...config,
    });
  }

  /** Kills everything and deletes the data; the broker logs are printed first when `keepLogs` names a failure. */
  async remove(): Promise<void> {
    await Promise.all(this.brokers.map((b) => b.kill()));
    await this.etcd.remove();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The last lines of every broker's log, for a failing test's message. */
  logTail(lines = 40): string {
    return this.brokers
      .map((b) => {
        const text = fs.existsSync(b.logFile) ? fs.readFileSync(b.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n') : '';
        return `--- broker ${b.nodeId}\n${text}`;
      })
      .join('\n');
  }
}

/** The bytes of a partition's replica on one broker: its segment files, concatenated in offset order. */
export function replicaBytes(broker: BrokerProcess, topic: string, partition: number): Buffer {
  const dir = path.join(broker.dataDir, `${topic}-${partition}`);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  return Buffer.concat(files.map((f) => fs.readFileSync(path.join(dir, f))));
}

/**
 * Every record value of a partition up to its high watermark, fetched straight from its leader (found
 * through Metadata from `bootstrap`) without a consumer group: the cheapest complete read for a test.
 */
export async function readPartition(bootstrap: readonly string[], topic: string, partition = 0): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await readFromLeader(bootstrap, topic, partition);
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export interface PartitionView {
  leader: number;
  isr: number[];
  replicas: number[];
  /** The leader's Kafka port and host, if it is a live broker. */
  leaderPort: number | undefined;
  leaderHost: string | undefined;
}

/** One partition as a broker's Metadata answer describes it (raw protocol: no client library caching). */
export async function describePartition(bootstrap: string, topic: string, partition = 0): Promise<PartitionView> {
  const [host, port] = bootstrap.split(':');
  const wire = await KafkaWire.connect(Number(port), host);
  try {
    const metadata = (await wire.request(ApiKeys.Metadata, 8, { topics: [{ name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false } as never)) as {
      topics: Array<{ partitions: Array<{ partitionIndex: number; leaderId: number; isrNodes: number[]; replicaNodes: number[] }> }>;
      brokers: Array<{ nodeId: number; host: string; port: number }>;
    };
    const p = metadata.topics[0]?.partitions.find((x) => x.partitionIndex === partition);
    if (!p) throw new Error(`no metadata for ${topic}-${partition}`);
    const leader = metadata.brokers.find((b) => b.nodeId === p.leaderId);
    return { leader: p.leaderId, isr: [...p.isrNodes].sort(), replicas: [...p.replicaNodes].sort(), leaderPort: leader?.port, leaderHost: leader?.host };
  } finally {
    wire.close();
  }
}

async function readFromLeader(bootstrap: readonly string[], topic: string, partition: number): Promise<string[]> {
  const { leaderPort: port, leaderHost: host } = await describePartition(bootstrap[0]!, topic, partition);
  if (port === undefined) throw new Error(`no leader for ${topic}-${partition}`);
  const wire = await KafkaWire.connect(port, host);
  try {
    const values: string[] = [];
    let offset = 0;
    for (;;) {
      const response = (await wire.request(ApiKeys.Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 16 * 1024 * 1024,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 16 * 1024 * 1024 }] }],
        forgottenTopicsData: [],
        rackId: '',
      } as never)) as { responses: Array<{ partitions: Array<{ errorCode: number; highWatermark: number; records: Buffer | null }> }> };
      const p = response.responses[0]!.partitions[0]!;
      if (p.errorCode !== 0) throw new Error(`fetch of ${topic}-${partition} failed with error ${p.errorCode}`);
      const records = p.records ?? Buffer.alloc(0);
      for (let pos = 0; pos < records.length; ) {
        const batch = new RecordBatch(records, pos);
        for (const record of decodeRecords(records, pos)) values.push(record.value!.toString());
        offset = batch.nextOffset;
        pos += batch.sizeInBytes;
      }
      if (offset >= p.highWatermark) return values;
    }
  } finally {
    wire.close();
  }
}
