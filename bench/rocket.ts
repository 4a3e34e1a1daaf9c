/**
 * RocketMQ: send and receive throughput with the official client (rocketmq-client-nodejs), 1 KiB bodies,
 * producer and consumer in separate processes, broker CPU beside client CPU; then a backlog of 1 M
 * delayed entries in the core DelayScheduler on storage-fs: peak RSS and firing lateness, beside a plain
 * setTimeout's lateness and an idle process's RSS measured in the same run.
 * BENCH_ROCKET_MESSAGES (50,000), BENCH_ROCKET_TIMERS (1,000,000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fmt, lineFields, printTable } from './harness.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const TMP = path.join(ROOT, '.bench-tmp/rocket');
const MESSAGES = Number(process.env.BENCH_ROCKET_MESSAGES ?? 50_000);
const TIMERS = Number(process.env.BENCH_ROCKET_TIMERS ?? 1_000_000);

/** CPU seconds a process has used so far (utime + stime). */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function worker(file: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/workers', file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

fs.rmSync(TMP, { recursive: true, force: true });
fs.mkdirSync(TMP, { recursive: true });

// Throughput: a broker process (storage-fs, flush policy default), one producer, one consumer.
const broker = spawn(process.execPath, [path.join(ROOT, 'bin/wharf.js'), 'start', '--data-dir', path.join(TMP, 'data'), '--kafka-port', '0', '--amqp-port', '0', '--rocket-port', 'auto', '--stream-port', 'auto', '--http-port', '0', '--host', '127.0.0.1', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await lineFields(broker, 'Wharf ready');
const endpoints = ready.join(' ').match(/rocketmq (\S+)/)![1]!;
const rows: string[][] = [];
for (const [label, bytes] of [['1 KiB', 1024]] as const) {
  const topic = `bench-${bytes}`;
  const consumer = worker('rocket-client.ts', ['consume', endpoints, topic, `g-${bytes}`, String(MESSAGES), '32']);
  await lineFields(consumer, 'ready');
  const brokerCpu0 = cpuSeconds(broker.pid!);
  const producer = worker('rocket-client.ts', ['produce', endpoints, topic, String(MESSAGES), String(bytes), '64']);
  const [, sendMs, producerCpu] = await lineFields(producer, 'done');
  const [, receiveMs, consumerCpu] = await lineFields(consumer, 'done');
  const brokerCpu = cpuSeconds(broker.pid!) - brokerCpu0;
  rows.push([`${label}: send`, `${fmt((MESSAGES * 1000) / Number(sendMs))} msg/s`, `${(Number(producerCpu) / 1000).toFixed(1)} s`, '']);
  rows.push([`${label}: receive + ack`, `${fmt((MESSAGES * 1000) / Number(receiveMs))} msg/s`, `${(Number(consumerCpu) / 1000).toFixed(1)} s`, `${brokerCpu.toFixed(1)} s (both)`]);
}
broker.kill('SIGTERM');
await new Promise((r) => broker.once('exit', r));
printTable(`RocketMQ with rocketmq-client-nodejs, ${fmt(MESSAGES)} messages, producer (64 sends in flight) and SimpleConsumer (4 × batch 32) in separate processes`, ['case', 'rate', 'client CPU', 'broker CPU'], rows);

// Delayed backlog: the DelayScheduler in its own process, so its RSS is measured alone.
const delay = worker('delay-backlog.ts', [path.join(TMP, 'delay'), String(TIMERS)]);
const [, peakRss, idleRss, p50, p99, max, reference99, scheduleRate] = await lineFields(delay, 'result');
await new Promise((r) => delay.once('exit', r));
printTable(`${fmt(TIMERS)} delayed entries (100 B) in the core DelayScheduler on storage-fs, due over 20 s`, ['measurement', 'scheduler', 'reference', 'target'], [
  ['peak RSS', `${fmt(Number(peakRss))} MiB`, `${fmt(Number(idleRss))} MiB (same process before scheduling)`, '< 200 MB'],
  ['firing lateness p50 / p99 / max', `${p50} / ${p99} / ${max} ms`, `${reference99} ms p99 (setTimeout every 1 ms, same process)`, '≤ 100 ms'],
  ['schedule rate', `${fmt(Number(scheduleRate))} entries/s`, '', ''],
]);
fs.rmSync(TMP, { recursive: true, force: true });
