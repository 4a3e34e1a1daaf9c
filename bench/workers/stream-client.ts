/**
 * A rabbitmq-stream-js-client load generator for bench/streams.ts.
 *   publish <port> <stream> <count> <bytes>  creates the stream, publishes with confirms; prints `done <ms> <cpu ms>`
 *   consume <port> <stream> <count>          reads from first until count; prints `done <ms> <cpu ms>`
 * (<cpu ms>: this process's CPU time over the same span, to tell whether the client is the limit)
 */
import { createRequire } from 'node:module';
import { connect, Offset } from 'rabbitmq-stream-js-client';

// RabbitMQ 3.10 predates ExchangeCommandVersions (3.11) and closes the connection on it, which every
// published version of the client sends: against a 3.10 server the call is skipped, nothing else changes.
const { Connection } = createRequire(import.meta.url)('rabbitmq-stream-js-client/dist/connection.js') as {
  Connection: { prototype: { exchangeCommandVersions(): Promise<unknown>; rabbitManagementVersion: string } };
};
const exchange = Connection.prototype.exchangeCommandVersions;
Connection.prototype.exchangeCommandVersions = function (this: { rabbitManagementVersion: string }) {
  return /^3\.(10|9|8)\./.test(this.rabbitManagementVersion) ? Promise.resolve() : exchange.call(this);
};

const [mode, port, stream, countText, bytesText] = process.argv.slice(2);
const count = Number(countText);
const log = (step: string) => process.env.BENCH_STREAM_DEBUG && process.stderr.write(`${mode}: ${step}\n`);
const client = await connect({ hostname: '127.0.0.1', port: Number(port), username: 'guest', password: 'guest', vhost: '/' });

if (mode === 'publish') {
  log('connected');
  await client.createStream({ stream: stream!, arguments: {} });
  log('created');
  const publisher = await client.declarePublisher({ stream: stream! });
  log('declared');
  let confirmed = 0;
  const done = new Promise<void>((resolve) =>
    publisher.on('publish_confirm', (err, ids) => {
      if (err) throw new Error(`publish error ${err}`);
      confirmed += ids.length;
      if (confirmed >= count) resolve();
    }),
  );
  const body = Buffer.alloc(Number(bytesText), 'x');
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i++) await publisher.send(body);
  await publisher.flush();
  await done;
  console.log(`done ${performance.now() - started} ${cpuMs(cpu)}`);
} else {
  let received = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await new Promise<void>((resolve) => {
    void client.declareConsumer({ stream: stream!, offset: Offset.first() }, () => {
      if (++received === count) resolve();
    });
  });
  console.log(`done ${performance.now() - started} ${cpuMs(cpu)}`);
}
await client.close().catch(() => {});

function cpuMs(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}
process.exit(0);
