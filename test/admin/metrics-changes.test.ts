import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeMark, encodeRecordBatch, LabelSet, ScrapeFamily, SeriesBlock, TOKENS, type OffsetStore, type TopicRegistry } from '../../core/index.ts';
import { ExpositionWriter } from '../../core/metrics/exposition.ts';
import { kafka } from '../../plugins/kafka/index.ts';
import { rabbit } from '../../plugins/rabbit/index.ts';
import { startAdmin, valueOf, type AdminTestBroker, type Sample } from '../helpers/admin.ts';

/**
 * A scrape reads again only the blocks whose state was touched since they were rendered: these check that
 * every change reaches the next scrape (a block served stale fails them), for the families' own
 * mechanism and for each kind of change of the broker's real state.
 */
describe('a block kept between scrapes', () => {
  const family = () => new ScrapeFamily({ name: 'wharf_kept', help: 'h', type: 'gauge', labelNames: ['partition'] }, () => undefined);
  const lines = (out: ExpositionWriter) => out.toBuffer().toString().split('\n').filter((l) => l.startsWith('wharf_kept'));
  const labels = [0, 1, 2].map((partition) => new LabelSet({ partition }));

  it('is sent without reading its values while its marks are untouched, and read again (value, label, removed series) once one is touched', () => {
    const scraped = family();
    const block = new SeriesBlock();
    const state = new ChangeMark();
    const other = new ChangeMark();
    let values = [5, 7, 9];
    let current = labels;
    let reads = 0;
    scraped.contribute((emit) => {
      if (emit.cached(block, state, other)) return;
      reads++;
      emit.block(block, Float64Array.from(values), current, values.length);
    });
    const scrape = () => {
      const out = new ExpositionWriter();
      scraped.writeTo(out);
      return lines(out);
    };
    expect(scrape()).toEqual(['wharf_kept{partition="0"} 5', 'wharf_kept{partition="1"} 7', 'wharf_kept{partition="2"} 9']);
    expect(scrape()).toHaveLength(3);
    expect(reads).toBe(1);

    values = [5, 8, 9];
    state.touch();
    expect(scrape()).toEqual(['wharf_kept{partition="0"} 5', 'wharf_kept{partition="1"} 8', 'wharf_kept{partition="2"} 9']);
    expect(reads).toBe(2);

    current = [labels[0]!, new LabelSet({ partition: 7 }), labels[2]!];
    other.touch();
    expect(scrape()).toEqual(['wharf_kept{partition="0"} 5', 'wharf_kept{partition="7"} 8', 'wharf_kept{partition="2"} 9']);

    values = [5, Number.NaN];
    state.touch();
    expect(scrape()).toEqual(['wharf_kept{partition="0"} 5']);
    expect(reads).toBe(4);
    expect(scrape()).toEqual(['wharf_kept{partition="0"} 5']);
    expect(reads).toBe(4);
  });

  it('is never current under a missing mark, nor when new', () => {
    const block = new SeriesBlock();
    expect(block.isCurrent()).toBe(false);
    block.keep(Float64Array.of(1), [labels[0]!], 1, Buffer.from('x 1\n'));
    expect(block.isCurrent(new ChangeMark())).toBe(false);
    const mark = new ChangeMark();
    block.keep(Float64Array.of(1), [labels[0]!], 1, Buffer.from('x 1\n'));
    expect(block.isCurrent(mark)).toBe(true);
    expect(block.isCurrent(mark, undefined)).toBe(false);
  });

  it('goes into the answer as its own buffer, which later scrapes never change', () => {
    const scraped = family();
    const block = new SeriesBlock();
    const mark = new ChangeMark();
    let value = 1;
    const many = Array.from({ length: 100 }, (_, partition) => new LabelSet({ partition }));
    scraped.contribute((emit) => {
      if (!emit.cached(block, mark)) emit.block(block, new Float64Array(100).fill(value), many, 100);
    });
    const out = new ExpositionWriter();
    scraped.writeTo(out);
    const first = out.chunks();
    expect(first).toContain(block.written);
    const firstText = Buffer.concat(first).toString();
    out.reset();
    value = 2;
    mark.touch();
    scraped.writeTo(out);
    expect(Buffer.concat(out.chunks()).toString()).toContain('wharf_kept{partition="99"} 2');
    expect(Buffer.concat(first).toString()).toBe(firstText);
    expect(firstText).toContain('wharf_kept{partition="99"} 1');
  });
});

describe('every change of the broker state shows in the next scrape', () => {
  let broker: AdminTestBroker;
  let topics: TopicRegistry;
  let offsets: OffsetStore;

  beforeAll(async () => {
    broker = await startAdmin([kafka(), rabbit()]);
    topics = broker.broker.get<TopicRegistry>(TOKENS.TopicRegistry);
    offsets = broker.broker.get<OffsetStore>(TOKENS.OffsetStore);
  });

  afterAll(async () => {
    await broker?.stop();
  });

  const records = (n: number) => encodeRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ value: Buffer.from(`record ${i}`) })) });
  const of = (samples: Sample[], name: string, partition: number) => samples.filter((s) => s.name === name && s.labels.topic === 'kept' && s.labels.partition === String(partition));
  const one = (samples: Sample[], name: string, partition: number) => {
    const found = of(samples, name, partition);
    expect(found, `${name} of partition ${partition}`).toHaveLength(1);
    return found[0]!.value;
  };
  const lag = (samples: Sample[], partition: number) => samples.filter((s) => s.name === 'wharf_consumer_group_lag' && s.labels.group === 'kept-group' && s.labels.topic === 'kept' && s.labels.partition === String(partition));

  it('answers the chunks with their length, as one body; HEAD with the headers only', async () => {
    const get = await fetch(`${broker.base}/metrics`);
    const body = Buffer.from(await get.arrayBuffer());
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toContain('text/plain');
    expect(Number(get.headers.get('content-length'))).toBe(body.length);
    expect(body.toString()).toContain('# TYPE wharf_partition_high_watermark gauge');
    const head = await fetch(`${broker.base}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    // The connection is still good for the next request.
    expect((await fetch(`${broker.base}/health/live`)).status).toBe(200);
  });

  it("a topic's logs: appends, commits, rolls, deleted records, truncation, new partitions, deletion", async () => {
    await topics.create('kept', { partitions: 2 });
    let s = await broker.scrape();
    expect(one(s, 'wharf_partition_high_watermark', 0)).toBe(0);
    expect(one(s, 'wharf_storage_bytes', 0)).toBe(0);
    await broker.scrape();

    const p0 = topics.log('kept', 0)!;
    await p0.append(records(3));
    s = await broker.scrape();
    expect(one(s, 'wharf_partition_high_watermark', 0)).toBe(3);
    expect(one(s, 'wharf_storage_bytes', 0)).toBe(p0.size);
    expect(one(s, 'wharf_partition_high_watermark', 1)).toBe(0);

    await offsets.commit('kept-group', [{ topic: 'kept', partition: 0, offset: 1 }]);
    s = await broker.scrape();
    expect(lag(s, 0).map((l) => l.value)).toEqual([2]);

    // The topic moved, the group did not.
    await p0.append(records(2));
    s = await broker.scrape();
    expect(lag(s, 0).map((l) => l.value)).toEqual([4]);
    expect(one(s, 'wharf_partition_high_watermark', 0)).toBe(5);

    // The group moved, the topic did not.
    await offsets.commit('kept-group', [{ topic: 'kept', partition: 0, offset: 5 }]);
    s = await broker.scrape();
    expect(lag(s, 0).map((l) => l.value)).toEqual([0]);

    await p0.roll();
    s = await broker.scrape();
    expect(one(s, 'wharf_storage_segments', 0)).toBe(2);

    // A log start moved inside the first segment: no segment deleted, nothing else changed.
    await p0.deleteBefore(4, { durable: true });
    s = await broker.scrape();
    expect(one(s, 'wharf_partition_log_start_offset', 0)).toBe(4);
    expect(one(s, 'wharf_storage_segments', 0)).toBe(2);

    await p0.deleteBefore(5);
    s = await broker.scrape();
    expect(one(s, 'wharf_partition_log_start_offset', 0)).toBe(5);
    expect(one(s, 'wharf_storage_segments', 0)).toBe(1);
    expect(one(s, 'wharf_storage_bytes', 0)).toBe(0);

    // A follower's way: the append first, the high watermark later.
    const replica = topics.replicaLog('kept', 1)!;
    await replica.appendReplicated(records(3));
    s = await broker.scrape();
    expect(one(s, 'wharf_partition_high_watermark', 1)).toBe(0);
    expect(one(s, 'wharf_storage_bytes', 1)).toBe(replica.size);
    replica.advanceHighWatermark(3);
    s = await broker.scrape();
    expect(one(s, 'wharf_partition_high_watermark', 1)).toBe(3);
    await replica.truncateTo(0);
    s = await broker.scrape();
    expect(one(s, 'wharf_partition_high_watermark', 1)).toBe(0);
    expect(one(s, 'wharf_storage_bytes', 1)).toBe(0);

    await topics.addPartitions('kept', 3);
    s = await broker.scrape();
    expect(one(s, 'wharf_partition_high_watermark', 2)).toBe(0);

    await offsets.commit('kept-group', [{ topic: 'kept', partition: 1, offset: 0 }]);
    s = await broker.scrape();
    expect(lag(s, 1).map((l) => l.value)).toEqual([0]);
    await offsets.deleteOffsets('kept-group', [{ topic: 'kept', partition: 0 }]);
    s = await broker.scrape();
    expect(lag(s, 0)).toEqual([]);
    expect(lag(s, 1).map((l) => l.value)).toEqual([0]);

    await offsets.commit('kept-group', [{ topic: 'kept', partition: 2, offset: 0 }]);
    await topics.log('kept', 2)!.append(records(4));
    s = await broker.scrape();
    expect(lag(s, 2).map((l) => l.value)).toEqual([4]);

    await topics.delete('kept');
    s = await broker.scrape();
    for (const name of ['wharf_partition_high_watermark', 'wharf_storage_bytes', 'wharf_storage_segments']) expect(of(s, name, 0)).toEqual([]);
  });

  it('AMQP queues (amqplib): a depth change, a queue deleted from the middle of a block, a queue declared', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port('amqp')}`);
    try {
      const channel = await connection.createChannel();
      const names = Array.from({ length: 70 }, (_, i) => `kept-${String(i).padStart(2, '0')}`);
      for (const name of names) await channel.assertQueue(name);
      const ready = (samples: Sample[], queue: string) => samples.filter((s) => s.name === 'rabbitmq_queue_messages_ready' && s.labels.queue === queue).map((s) => s.value);
      let s = await broker.scrape();
      expect(ready(s, 'kept-69')).toEqual([0]);
      await broker.scrape();

      channel.sendToQueue('kept-69', Buffer.from('one'));
      channel.sendToQueue('kept-10', Buffer.from('two'));
      await channel.checkQueue('kept-69');
      s = await broker.scrape();
      expect(ready(s, 'kept-69')).toEqual([1]);
      expect(ready(s, 'kept-10')).toEqual([1]);

      // Every queue after it moves up a place in the blocks.
      await channel.deleteQueue('kept-03');
      s = await broker.scrape();
      expect(ready(s, 'kept-03')).toEqual([]);
      expect(valueOf(s, 'wharf_queue_messages_ready', { queue: 'kept-03' })).toBe(0);
      expect(ready(s, 'kept-10')).toEqual([1]);
      expect(ready(s, 'kept-69')).toEqual([1]);
      expect(ready(s, 'kept-04')).toEqual([0]);
      expect(s.filter((x) => x.name === 'rabbitmq_queue_messages_ready' && x.labels.queue!.startsWith('kept-'))).toHaveLength(69);

      await channel.get('kept-69', { noAck: true });
      await channel.assertQueue('kept-70');
      s = await broker.scrape();
      expect(ready(s, 'kept-69')).toEqual([0]);
      expect(valueOf(s, 'wharf_messages_out_total', { queue: 'kept-69' })).toBe(1);
      expect(ready(s, 'kept-70')).toEqual([0]);
      for (const name of [...names, 'kept-70']) if (name !== 'kept-03') await channel.deleteQueue(name);
      s = await broker.scrape();
      expect(s.filter((x) => x.labels.queue?.startsWith('kept-'))).toEqual([]);
    } finally {
      await connection.close();
    }
  });
});
