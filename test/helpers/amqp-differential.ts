import amqp, { type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAmqp, type AmqpTestBroker } from './amqp.ts';
import { hasProgram } from './programs.ts';
import { startRabbitMq, type RabbitMq, type RabbitMqOptions } from './rabbitmq.ts';

/** One scenario run with amqplib against each broker: its answer, as text, must be `expected`. */
export interface DifferentialCase {
  name: string;
  /** `id` is a fresh name for the case's queue on each broker; answers print it as Q. */
  run(connect: () => Promise<ChannelModel>, id: string): Promise<string>;
  expected: string;
  /** RabbitMQ 3.10.8's answer, where Wharf deliberately answers otherwise. */
  rabbitmq?: string;
}

/** The same setting given to both brokers, where a case needs one. */
export interface DifferentialSettings {
  /** Wharf's `amqp` configuration section. */
  wharf?: Record<string, unknown>;
  rabbitmq?: RabbitMqOptions;
}

/**
 * Runs every case against Wharf and, where Debian's rabbitmq-server is installed (else one skip line),
 * against RabbitMQ 3.10.8 started beside it in the same run.
 */
export function describeDifferential(title: string, idPrefix: string, cases: readonly DifferentialCase[], settings: DifferentialSettings = {}): void {
  let wharf: AmqpTestBroker;
  const rabbitPresent = hasProgram('rabbitmq', `the RabbitMQ side of ${title}`);
  let rabbit: RabbitMq | undefined;

  beforeAll(async () => {
    [wharf, rabbit] = await Promise.all([startAmqp({ amqp: settings.wharf }), rabbitPresent ? startRabbitMq(settings.rabbitmq) : undefined]);
  }, 120_000);
  afterAll(async () => {
    await wharf?.stop();
    await rabbit?.stop();
  }, 30_000);

  const connectTo = (port: number) => () => amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port, username: 'guest', password: 'guest' });
  let counter = 0;
  const run = async (c: DifferentialCase, port: number) => {
    const id = `${idPrefix}-${++counter}-${process.pid}`;
    return (await c.run(connectTo(port), id)).replaceAll(id, 'Q');
  };

  describe(title, () => {
    for (const c of cases) {
      it(`Wharf: ${c.name}`, async () => expect(await run(c, wharf.port)).toBe(c.expected), 20_000);
      it.skipIf(!rabbitPresent)(`RabbitMQ 3.10.8: ${c.name}`, async () => expect(await run(c, rabbit!.port)).toBe(c.rabbitmq ?? c.expected), 20_000);
    }
  });
}
