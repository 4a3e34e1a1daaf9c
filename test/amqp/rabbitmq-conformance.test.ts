import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmqp, type AmqpTestBroker } from '../helpers/amqp.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { REFERENCE_CASES, runCase } from './rabbitmq-cases.ts';

// Durable queues on storage-fs, so the methods whose work waits on the disk really are asynchronous.
const dir = tempDir();
let broker: AmqpTestBroker;
beforeAll(async () => {
  broker = await startAmqp({ dataDir: dir.path });
});
afterAll(async () => {
  await broker.stop();
  dir.remove();
});

for (const [topic, cases] of Object.entries(REFERENCE_CASES)) {
  describe(`as RabbitMQ 3.10.8: ${topic}`, () => {
    for (const c of cases) it(c.name, async () => expect(await runCase(broker.port, c)).toBe(c.expected));
  });
}
