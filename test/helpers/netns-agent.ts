/**
 * Runs a test cluster inside a private network namespace (`unshare -n`, started by `NetnsCluster`) and
 * does what the test asks over stdin/stdout, one JSON line each way: etcd, three brokers on 127.0.0.2–4,
 * each reaching etcd on a client port of its own, links cut with iptables (which in this namespace touch
 * nothing outside it: packets are dropped, as in a real partition), a kafkajs producer, raw requests to
 * one broker, reads.
 */
import { execFileSync } from 'node:child_process';
import readline from 'node:readline';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { decodeRecords, encodeRecordBatch, RecordBatch } from '../../core/index.ts';
import { ApiKeys } from '../../plugins/kafka/codec/index.ts';
import { describePartition, readPartition, replicaBytes, TestCluster } from './cluster.ts';
import { KafkaWire } from './kafka-wire.ts';

export const AGENT_PREFIX = '@@agent ';
const CHAIN = 'wharf-faults';

const hostOf = (nodeId: number) => `127.0.0.${nodeId + 1}`;
const iptables = (...args: string[]) => execFileSync('iptables', args, { stdio: ['ignore', 'ignore', 'pipe'] });

let cluster: TestCluster | undefined;
const etcdPorts = new Map<number, number>();
const isolated = new Set<number>();
let load: { stop(): Promise<{ acked: string[]; failures: number }> } | undefined;

const running = () => cluster!.brokers.filter((b) => b.running && !isolated.has(b.nodeId));

function client(): Kafka {
  return new Kafka({ clientId: 'netns-test', brokers: running().map((b) => b.bootstrap), logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 } });
}

/** An idempotent acks=all producer sending `<prefix><n>` one at a time until stopped; what was acknowledged, in order. */
function startLoad(topic: string, prefix: string): typeof load {
  const producer: Producer = client().producer({ idempotent: true, maxInFlightRequests: 1 });
  const acked: string[] = [];
  let failures = 0;
  let stopped = false;
  const loop = (async () => {
    await producer.connect();
    for (let i = 0; !stopped; i++) {
      const value = `${prefix}${i}`;
      try {
        await producer.send({ topic, acks: -1, timeout: 2000, messages: [{ value }] });
        acked.push(value);
      } catch {
        // Not acknowledged: the same value is never retried, so one that was stored anyway shows as unacknowledged, not as a duplicate.
        failures++;
      }
    }
    await producer.disconnect();
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { acked, failures };
    },
  };
}

/** One produce request straight to broker `nodeId`: its error code, or `timeout` when no answer comes in `timeoutMs`. */
async function produceTo(nodeId: number, topic: string, value: string, acks: number, timeoutMs: number): Promise<number | 'timeout'> {
  const broker = cluster!.broker(nodeId);
  const wire = await KafkaWire.connect(broker.kafkaPort, broker.host);
  try {
    const records = encodeRecordBatch({ records: [{ value: Buffer.from(value) }] });
    wire.send(wire.encode(ApiKeys.Produce, 7, { transactionalId: null, acks, timeoutMs, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] } as never));
    const answer = await Promise.race([wire.response(ApiKeys.Produce, 7).catch(() => undefined), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs + 1000))]);
    return answer ? (answer as { responses: Array<{ partitionResponses: Array<{ errorCode: number }> }> }).responses[0]!.partitionResponses[0]!.errorCode : 'timeout';
  } finally {
    wire.close();
  }
}

const commands: Record<string, (args: any) => Promise<unknown>> = {
  async start({ nodes, leaseTtlMs, flags }: { nodes: number; leaseTtlMs: number; flags: string[] }) {
    execFileSync('ip', ['link', 'set', 'lo', 'up']);
    iptables('-N', CHAIN);
    iptables('-I', 'INPUT', '-j', CHAIN);
    cluster = await TestCluster.start({
      nodes,
      leaseTtlMs,
      flags,
      hostOf,
      etcd: { extraClientPorts: nodes },
      etcdEndpointOf: async (nodeId, etcd) => {
        etcdPorts.set(nodeId, etcd.extraPorts[nodeId - 1]!);
        return `http://127.0.0.1:${etcdPorts.get(nodeId)}`;
      },
    });
    return cluster.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host }));
  },
  async createTopic({ topic, minIsr }: { topic: string; minIsr: number }) {
    const admin = client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: String(minIsr) }] }] });
    await admin.disconnect();
  },
  /** The partition as broker `via` (default: the first one not cut off) describes it. */
  async describe({ topic, via }: { topic: string; via?: number }) {
    const broker = via === undefined ? running()[0]! : cluster!.broker(via);
    return describePartition(broker.bootstrap, topic);
  },
  /** Drops every packet between the two brokers' addresses, both ways. */
  async cut({ a, b }: { a: number; b: number }) {
    iptables('-A', CHAIN, '-s', hostOf(a), '-d', hostOf(b), '-j', 'DROP');
    iptables('-A', CHAIN, '-s', hostOf(b), '-d', hostOf(a), '-j', 'DROP');
  },
  /** Drops every packet to and from the etcd client port broker `node` uses. */
  async cutFromEtcd({ node }: { node: number }) {
    const port = String(etcdPorts.get(node));
    iptables('-A', CHAIN, '-p', 'tcp', '--dport', port, '-j', 'DROP');
    iptables('-A', CHAIN, '-p', 'tcp', '--sport', port, '-j', 'DROP');
  },
  /** Marks a broker as cut off from the test's clients' point of view: `client()` and `describe` stop using it. */
  async markIsolated({ node }: { node: number }) {
    isolated.add(node);
  },
  async heal() {
    iptables('-F', CHAIN);
    isolated.clear();
  },
  async startLoad({ topic, prefix }: { topic: string; prefix: string }) {
    load = startLoad(topic, prefix);
  },
  async stopLoad() {
    const result = await load!.stop();
    load = undefined;
    return result;
  },
  async produceTo({ node, topic, value, acks, timeoutMs }: { node: number; topic: string; value: string; acks: number; timeoutMs: number }) {
    return produceTo(node, topic, value, acks, timeoutMs);
  },
  async read({ topic, via }: { topic: string; via?: number }) {
    const bootstrap = via === undefined ? running().map((b) => b.bootstrap) : [cluster!.broker(via).bootstrap];
    return readPartition(bootstrap, topic);
  },
  /** The record values in broker `node`'s own copy of the partition (its segment files). */
  async replicaValues({ topic, node }: { topic: string; node: number }) {
    const bytes = replicaBytes(cluster!.broker(node), topic, 0);
    const values: string[] = [];
    for (let pos = 0; pos < bytes.length; pos += new RecordBatch(bytes, pos).sizeInBytes) {
      for (const record of decodeRecords(bytes, pos)) values.push(record.value!.toString());
    }
    return values;
  },
  async logTail() {
    return cluster?.logTail(30) ?? '';
  },
  async stop() {
    await load?.stop().catch(() => undefined);
    await cluster?.remove();
    return null;
  },
};

const reply = (message: object) => process.stdout.write(`${AGENT_PREFIX}${JSON.stringify(message)}\n`);

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, command, args } = JSON.parse(line) as { id: number; command: string; args: unknown };
  commands[command]!(args).then(
    (result) => reply({ id, result: result ?? null }),
    (err: Error) => reply({ id, error: err.stack ?? String(err) }),
  );
}).on('close', () => {
  void commands.stop!(undefined).finally(() => process.exit(0));
});
