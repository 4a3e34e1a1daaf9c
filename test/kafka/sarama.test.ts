import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { hasProgram, runProgram } from '../helpers/programs.ts';

const present = hasProgram('sarama', 'the Sarama tests');
const SOURCE = fileURLToPath(new URL('../fixtures/sarama-probe/main.go', import.meta.url));

/**
 * Builds test/fixtures/sarama-probe once per version of its source: a cold build takes over 20 s, so the
 * binary (and Go's build cache) stay under the temp dir, keyed by the source's hash.
 */
async function buildProbe(): Promise<string> {
  const source = fs.readFileSync(SOURCE);
  const dir = path.join(os.tmpdir(), 'wharf-sarama-probe');
  const binary = path.join(dir, `probe-${createHash('sha256').update(source).digest('hex').slice(0, 16)}`);
  if (fs.existsSync(binary)) return binary;
  fs.mkdirSync(dir, { recursive: true });
  const work = fs.mkdtempSync(path.join(dir, 'build-'));
  try {
    fs.writeFileSync(path.join(work, 'main.go'), source);
    const env = { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: path.join(dir, 'go-cache'), GOFLAGS: '' };
    await runProgram('go', ['build', '-o', path.join(work, 'probe'), 'main.go'], { cwd: work, env, timeoutMs: 240_000 });
    fs.renameSync(path.join(work, 'probe'), binary);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

let kafka: KafkaTestBroker;
let probe: string;
const sarama = async (...args: string[]): Promise<string> => (await runProgram(probe, [args[0]!, kafka.brokers[0]!, ...args.slice(1)], { timeoutMs: 30_000 })).trim();

beforeAll(async () => {
  if (!present) return;
  [probe, kafka] = await Promise.all([buildProbe(), startKafka({ topics: { retentionCheckIntervalMs: 100 } })]);
}, 300_000);
afterAll(() => kafka?.stop());

describe.skipIf(!present)('Sarama 1.22 (Debian golang-github-shopify-sarama-dev) against Wharf', () => {
  const first = Date.now() - 60_000;

  it('finds the first record at or after a time in batches whose maxTimestamp Sarama leaves at -1, uncompressed and in each codec', async () => {
    await Promise.all(
      ['none', 'gzip', 'snappy', 'lz4'].map(async (codec) => {
        const topic = `sarama-times-${codec}`;
        expect(await sarama('produce', topic, codec, String(first), '100', '5')).toBe('offset 0');
        expect(await sarama('offset', topic, String(first + 150))).toBe('offset 2');
        expect(await sarama('offset', topic, String(first + 400))).toBe('offset 4');
        expect(await sarama('offset', topic, String(first))).toBe('offset 0');
        expect(await sarama('offset', topic, String(first + 401))).toBe('offset -1');
      }),
    );
  });

  it('expires Sarama batches by their records\' timestamps under retention.ms', async () => {
    const admin = kafka.client().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'sarama-retention', configEntries: [{ name: 'retention.ms', value: '30000' }] }] });
    expect(await sarama('produce', 'sarama-retention', 'none', String(first), '100', '5')).toBe('offset 0');
    await eventually(async () => (await admin.fetchTopicOffsets('sarama-retention'))[0]!.low === '5', 10_000, 'the expired segment to go');
    await admin.disconnect();
  });

  it('gets UNSUPPORTED_COMPRESSION_TYPE for zstd, which Sarama 1.22 sends in Produce v3', async () => {
    expect(await sarama('produce', 'sarama-zstd', 'zstd', String(first), '100', '3')).toBe('error 76');
  });
});
