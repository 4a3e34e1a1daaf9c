/**
 * A broker on a user-written storage backend.
 * Run: npx tsx examples/custom-storage/main.ts
 */
import { createBroker, encodeRecordBatch, TOKENS, type TopicRegistry } from '../../core/index.ts';
import { MapSegmentStore } from './map-segment-store.ts';
import { mapStorage } from './plugin.ts';

const store = new MapSegmentStore();
const broker = await createBroker({ plugins: [mapStorage(store)], config: { logLevel: 'warn' } });
await broker.start();

const topics = broker.get<TopicRegistry>(TOKENS.TopicRegistry);
await topics.create('events', { partitions: 2 });
for (let i = 0; i < 10; i++) await topics.log('events', i % 2)!.append(encodeRecordBatch({ records: [{ value: Buffer.from(`event ${i}`) }] }));

console.log(`files in the map store: ${[...store.files.keys()].sort().join(', ')}`);
console.log(`events-0 holds offsets [0, ${topics.log('events', 0)!.logEndOffset})`);
await broker.stop();
