/**
 * Start a broker inside your own process (a test, a dev server), use it, stop it.
 * Run: npx tsx examples/embedded.ts
 */
import { createBroker, decodeRecords, encodeRecordBatch, TOKENS, type TopicRegistry } from '../core/index.ts';
import { memoryStorage } from '../plugins/storage-memory/index.ts';

const broker = await createBroker({ plugins: [memoryStorage()], config: { logLevel: 'warn' } });
await broker.start();

const topics = broker.get<TopicRegistry>(TOKENS.TopicRegistry);
await topics.create('greetings', { partitions: 1 });
const log = topics.log('greetings', 0)!;
await log.append(encodeRecordBatch({ records: [{ key: Buffer.from('en'), value: Buffer.from('hello') }, { value: Buffer.from('bonjour') }] }));

const { records } = await log.read(0, 1 << 20);
for (const record of decodeRecords(records)) console.log(`offset ${record.offset}: ${record.value?.toString()}`);

await broker.stop();
console.log('stopped');
