import { ContainerModule, inject, injectable } from 'inversify';
import { describe, expect, it } from 'vitest';
import { memoryStorage } from '../plugins/storage-memory/index.ts';
import { createBroker } from '../core/broker.ts';
import { field } from '../core/config.ts';
import { BrokerError } from '../core/errors.ts';
import { definePlugin, type BrokerPlugin } from '../core/plugin.ts';
import type { Replicator } from '../core/replication/replicator.ts';
import { SingleNodeReplicator } from '../core/replication/single-node-replicator.ts';
import { TOKENS } from '../core/tokens.ts';
import type { TopicRegistry } from '../core/topics/topic-registry.ts';

const GREETER = Symbol.for('wharf.test.Greeter');

@injectable()
class Greeter {
  constructor(@inject(TOKENS.TopicRegistry) readonly topics: TopicRegistry) {}
}

function recorder(name: string, log: string[], extra: Partial<BrokerPlugin> = {}): BrokerPlugin {
  return { name, start: () => void log.push(`start ${name}`), stop: () => void log.push(`stop ${name}`), ...extra };
}

async function rejection(promise: Promise<unknown>): Promise<BrokerError> {
  try {
    await promise;
  } catch (err) {
    if (BrokerError.is(err)) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('createBroker', () => {
  it('starts providers before requirers, stops in reverse, and gives plugins their section and logger', async () => {
    const log: string[] = [];
    const consumer = definePlugin({
      name: 'consumer',
      requires: [GREETER],
      config: { name: 'consumer', fields: { greeting: field.string('hi', 'greeting') } },
      start: ({ container, section }) => {
        log.push(`start consumer ${section.greeting}`);
        expect(container.get<Greeter>(GREETER).topics).toBe(container.get(TOKENS.TopicRegistry));
      },
      stop: () => void log.push('stop consumer'),
    });
    const provider = recorder('provider', log, {
      provides: [GREETER],
      requires: [TOKENS.TopicRegistry],
      module: () => new ContainerModule(({ bind }) => void bind(GREETER).to(Greeter)),
    });
    const broker = await createBroker({
      plugins: [consumer, provider, memoryStorage()],
      config: { logLevel: 'silent', consumer: { greeting: 'hello' } },
    });
    expect(broker.pluginNames).toEqual(['storage-memory', 'core', 'provider', 'consumer']);
    await broker.start();
    expect(broker.running).toBe(true);
    await broker.stop();
    await broker.stop();
    expect(log).toEqual(['start provider', 'start consumer hello', 'stop consumer', 'stop provider']);
  });

  it('fails fast on a missing requirement, a second provider, duplicate names and an unknown section key', async () => {
    expect((await rejection(createBroker({ plugins: [], config: { logLevel: 'silent' } }))).code).toBe('PLUGIN_MISSING_REQUIREMENT');
    const needy = recorder('needy', [], { requires: [GREETER] });
    const missing = await rejection(createBroker({ plugins: [memoryStorage(), needy], config: { logLevel: 'silent' } }));
    expect(missing.code).toBe('PLUGIN_MISSING_REQUIREMENT');
    expect(missing.message).toMatch(/needy requires wharf\.test\.Greeter/);
    const a = recorder('a', [], { provides: [GREETER] });
    const b = recorder('b', [], { provides: [GREETER] });
    expect((await rejection(createBroker({ plugins: [memoryStorage(), a, b] }))).code).toBe('PLUGIN_DUPLICATE_PROVIDER');
    expect((await rejection(createBroker({ plugins: [memoryStorage(), memoryStorage()] }))).code).toBe('PLUGIN_DUPLICATE');
    expect((await rejection(createBroker({ plugins: [memoryStorage()], config: { kafka: { port: 1 } } }))).code).toBe('CONFIG_UNKNOWN_KEY');
  });

  it('lets a plugin replace a core default role', async () => {
    class CountingReplicator extends SingleNodeReplicator {
      commits = 0;
      override commit(...args: Parameters<Replicator['commit']>) {
        this.commits++;
        return super.commit(...args);
      }
    }
    const replicator = new CountingReplicator();
    const custom = definePlugin({
      name: 'custom-replicator',
      provides: [TOKENS.Replicator],
      replaces: [TOKENS.Replicator],
      module: () => new ContainerModule(({ bind }) => void bind(TOKENS.Replicator).toConstantValue(replicator)),
    });
    const broker = await createBroker({ plugins: [memoryStorage(), custom], config: { logLevel: 'silent' } });
    await broker.start();
    const topics = broker.get<TopicRegistry>(TOKENS.TopicRegistry);
    expect(replicator.commits).toBeGreaterThanOrEqual(0);
    const before = replicator.commits;
    await topics.create('t');
    expect(replicator.commits).toBeGreaterThan(before);
    await broker.stop();
    const clash = recorder('clash', [], { provides: [TOKENS.Replicator] });
    expect((await rejection(createBroker({ plugins: [memoryStorage(), clash] }))).code).toBe('PLUGIN_DUPLICATE_PROVIDER');
  });

  it('stops the plugins it started when a later one fails to start', async () => {
    const log: string[] = [];
    const ok = recorder('ok', log, { requires: [TOKENS.TopicRegistry] });
    const bad = recorder('bad', log, { requires: [TOKENS.TopicRegistry], start: () => Promise.reject(new Error('boom')) });
    const broker = await createBroker({ plugins: [memoryStorage(), ok, bad], config: { logLevel: 'silent' } });
    await expect(broker.start()).rejects.toThrow('boom');
    expect(log).toEqual(['start ok', 'stop ok']);
  });
});
