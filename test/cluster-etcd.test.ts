import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerError, buildConfigSchema, createBroker, layerFromFlags, put, resolveConfig, TOKENS, type CoordinationBackend } from '../core/index.ts';
import { clusterEtcd } from '../plugins/cluster-etcd/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';
import { EtcdServer } from './helpers/etcd.ts';
import { hasProgram } from './helpers/programs.ts';

const compose = (cluster: Record<string, unknown>) => createBroker({ plugins: [memoryStorage(), clusterEtcd()], config: { logLevel: 'silent', cluster } });

describe('a broker with the cluster-etcd plugin', () => {
  it('reads --cluster-etcd, --cluster-name, --cluster-lease-ttl-ms and --cluster-request-timeout-ms', () => {
    const schema = buildConfigSchema([clusterEtcd().config!]);
    const flags = ['--cluster-etcd', 'http://10.0.0.1:2379,http://10.0.0.2:2379', '--cluster-name', 'prod', '--cluster-lease-ttl-ms', '3000', '--cluster-request-timeout-ms=800'];
    expect(resolveConfig(schema, [layerFromFlags(flags, schema)]).cluster).toEqual({ etcd: 'http://10.0.0.1:2379,http://10.0.0.2:2379', name: 'prod', leaseTtlMs: 3000, requestTimeoutMs: 800 });
    expect(resolveConfig(schema, []).cluster).toEqual({ etcd: '', name: 'wharf', leaseTtlMs: 5000, requestTimeoutMs: 2000 });
    expect(() => resolveConfig(schema, [layerFromFlags(['--cluster-name', 'a/b'], schema)])).toThrow(/cluster.name/);
  });

  it('refuses to compose without etcd or with a bad endpoint, and to start when etcd does not answer', async () => {
    await expect(compose({})).rejects.toThrow(/cluster.etcd is not set/);
    await expect(compose({ etcd: '127.0.0.1:2379' })).rejects.toThrow(/not a URL like http:\/\/host:2379/);
    const broker = await compose({ etcd: 'http://127.0.0.1:1', requestTimeoutMs: 500 });
    const started = Date.now();
    const error = await broker.start().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(BrokerError.is(error, 'TIMEOUT'), String(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  describe.skipIf(!hasProgram('etcd', 'the cluster-etcd broker test'))('on a real etcd', () => {
    let etcd: EtcdServer;

    beforeAll(async () => {
      etcd = await EtcdServer.start();
    });

    afterAll(async () => {
      await etcd?.remove();
    });

    it('provides the Coordination role: connected at start, keys under /<cluster.name>/, closed at stop', async () => {
      const broker = await compose({ etcd: etcd.endpoint, name: 'plugin-test', leaseTtlMs: 3000 });
      await broker.start();
      const coordination = broker.container.get<CoordinationBackend>(TOKENS.Coordination);
      expect(coordination.leaseTtlMs).toBe(3000);
      expect(coordination.description).toBe(`etcd ${etcd.endpoint} under /plugin-test/`);
      const { revision } = await coordination.txn([], [put('brokers/1', Buffer.from('me'))]);
      expect((await coordination.get('brokers/1'))?.modRevision).toBe(revision);
      await broker.stop();
      await expect(coordination.get('brokers/1')).rejects.toThrow(/closed/);
    });
  });
});
