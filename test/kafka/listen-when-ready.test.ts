import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeys, encodeRequest } from '../../plugins/kafka/codec/index.ts';
import { startBrokerProcess, type BrokerProcess } from '../helpers/spawn.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

type Outcome = 'refused' | 'answered' | 'closed';

/** Connects, sends ApiVersions, and reports whether an answer came before the connection closed. */
function probe(port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let connected = false;
    socket.once('connect', () => {
      connected = true;
      for (const chunk of encodeRequest(ApiKeys.ApiVersions, 0, 1, 'early', { clientSoftwareName: '', clientSoftwareVersion: '' })) socket.write(chunk);
    });
    socket.once('data', () => {
      socket.destroy();
      resolve('answered');
    });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve(connected ? 'closed' : 'refused'));
  });
}

describe('the Kafka listener while the broker starts', () => {
  it('answers every connection it accepts, even those that arrive before the broker is ready', async () => {
    const dir = tempDir();
    cleanups.push(() => dir.remove());
    const port = await freePort();
    const outcomes: Outcome[] = [];
    let ready = false;
    const probers = Array.from({ length: 8 }, async () => {
      while (!ready || !outcomes.includes('answered')) {
        const outcome = await probe(port);
        outcomes.push(outcome);
        if (outcome === 'refused') await new Promise((resolve) => setImmediate(resolve));
      }
    });
    const starting = startBrokerProcess(['--storage', 'fs', '--data-dir', dir.path, '--kafka-port', String(port)]);
    const broker: BrokerProcess = await starting.finally(() => (ready = true));
    cleanups.push(() => broker.stop());
    await Promise.all(probers);
    expect(outcomes).toContain('answered');
    expect(outcomes.filter((o) => o === 'closed')).toEqual([]);
    expect(broker.log()).not.toMatch(/dispatch is not a function/);
  });
});
