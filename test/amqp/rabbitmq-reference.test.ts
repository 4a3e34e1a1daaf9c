import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasProgram } from '../helpers/programs.ts';
import { startRabbitMq, type RabbitMq } from '../helpers/rabbitmq.ts';
import { REFERENCE_CASES, runCase } from './rabbitmq-cases.ts';

// The expectations rabbitmq-conformance.test.ts holds Wharf to, checked against the real broker.
const present = hasProgram('rabbitmq', 'the RabbitMQ reference cases');
let rabbit: RabbitMq | undefined;
beforeAll(async () => {
  if (present) rabbit = await startRabbitMq();
}, 120_000);
afterAll(() => rabbit?.stop(), 30_000);

describe.skipIf(!present)('RabbitMQ 3.10.8 itself', () => {
  for (const [topic, cases] of Object.entries(REFERENCE_CASES)) {
    describe(topic, () => {
      for (const c of cases) it(c.name, async () => expect(await runCase(rabbit!.port, c)).toBe(c.expected));
    });
  }
});
