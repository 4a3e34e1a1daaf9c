import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaTestBroker } from '../helpers/kafka.ts';
import { hasProgram, runProgram, runPython as python } from '../helpers/programs.ts';

/** librdkafka (kcat, confluent-kafka) and kafka-python, installed by .ci/run from Debian's packages. */
let kafka: KafkaTestBroker;
beforeAll(async () => {
  kafka = await startKafka();
});
afterAll(() => kafka.stop());

const run = (command: string, args: string[], input?: string): Promise<string> => runProgram(command, args, { input });

describe('librdkafka and kafka-python against Wharf', () => {
  it.skipIf(!hasProgram('kcat', 'the kcat test'))('kcat (librdkafka 2.0.2) lists metadata, produces, consumes from the start, and consumes in a group', async () => {
    const broker = kafka.brokers[0]!;
    expect(await run('kcat', ['-b', broker, '-L'])).toContain('(controller)');
    const lines = Array.from({ length: 500 }, (_, i) => `line-${i}`);
    await run('kcat', ['-b', broker, '-P', '-t', 'kcat', '-X', 'enable.idempotence=true'], `${lines.join('\n')}\n`);
    expect((await run('kcat', ['-b', broker, '-C', '-t', 'kcat', '-o', 'beginning', '-e', '-q'])).trim().split('\n')).toEqual(lines);
    const grouped = await run('kcat', ['-b', broker, '-G', 'kcat-group', 'kcat', '-e', '-q', '-X', 'auto.offset.reset=earliest']);
    expect(grouped.trim().split('\n').sort()).toEqual([...lines].sort());
  });

  it.skipIf(!hasProgram('confluent-kafka', 'the confluent-kafka test'))('confluent-kafka (librdkafka) produces idempotently and consumes in a group with commits', async () => {
    const out = await python(`
from confluent_kafka import Producer, Consumer
import time
p = Producer({'bootstrap.servers': '${kafka.brokers[0]}', 'enable.idempotence': True})
for i in range(50): p.produce('confluent', key=b'k%d' % (i % 5), value=b'v%d' % i)
assert p.flush(10) == 0
c = Consumer({'bootstrap.servers': '${kafka.brokers[0]}', 'group.id': 'confluent-group', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
c.subscribe(['confluent'])
seen, deadline = [], time.time() + 20
while len(seen) < 50 and time.time() < deadline:
    m = c.poll(0.2)
    if m is not None and not m.error():
        seen.append(m.value().decode())
        c.commit(message=m, asynchronous=False)
c.close()
print(len(seen), len(set(seen)))
`);
    expect(out.trim()).toBe('50 50');
  });

  it.skipIf(!hasProgram('kafka-python', 'the kafka-python test'))('kafka-python 2.0.2 produces and consumes in a group with the old group API versions', async () => {
    const out = await python(`
from kafka import KafkaProducer, KafkaConsumer
p = KafkaProducer(bootstrap_servers='${kafka.brokers[0]}')
for i in range(20): p.send('python', key=b'k%d' % i, value=b'v%d' % i)
p.flush()
c = KafkaConsumer('python', bootstrap_servers='${kafka.brokers[0]}', group_id='python-group', auto_offset_reset='earliest', consumer_timeout_ms=4000)
values = sorted(m.value.decode() for m in c)
c.commit()
c.close()
print(len(values), values[0], values[-1])
`);
    expect(out.trim()).toBe('20 v0 v9');
  });
});
