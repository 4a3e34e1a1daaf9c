/**
 * Latency probe for bench/compaction: a kafkajs producer sending one 1 KiB record (acks=all) every
 * `intervalMs` until its stdin closes. Usage: node --import tsx bench/workers/kafkajs-paced.ts <broker> <topic> <intervalMs>
 * Prints "ready" once connected, then "sent <n> p50 <ms> p99 <ms> max <ms> all <ms,ms,...>" at the end.
 */
import { Kafka, logLevel } from 'kafkajs';

const [broker, topic, intervalText] = process.argv.slice(2) as [string, string, string];
const interval = Number(intervalText);
const producer = new Kafka({ clientId: 'bench-paced', brokers: [broker], logLevel: logLevel.NOTHING }).producer();
await producer.connect();
const value = Buffer.alloc(1024, 'x');
await producer.send({ topic, acks: -1, messages: [{ value }] });
const latencies: number[] = [];
let stopping = false;
process.stdin.on('end', () => (stopping = true)).resume();
console.log('ready');
for (let next = performance.now(); !stopping; next += interval) {
  const wait = next - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const start = performance.now();
  await producer.send({ topic, acks: -1, messages: [{ value }] });
  latencies.push(performance.now() - start);
}
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(2);
console.log(`sent ${latencies.length} p50 ${at(0.5)} p99 ${at(0.99)} max ${latencies[latencies.length - 1]!.toFixed(2)} all ${latencies.map((l) => l.toFixed(2)).join(',')}`);
await producer.disconnect();
