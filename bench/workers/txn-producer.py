"""confluent-kafka (librdkafka) producer for bench/kafka-transactions.ts: <bootstrap> <topic> <mode> <records> [partition].
mode 'idempotent': enable.idempotence; 'transactional': the same plus a transactional id, committing every 1,000 records.
Prints 'seconds <elapsed>' from the first produce after a warm-up record until every record is acknowledged (and the last transaction committed)."""
import sys, time
from confluent_kafka import Producer

bootstrap, topic, mode, records = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
partition = int(sys.argv[5]) if len(sys.argv) > 5 else 0
PER_TXN = 1000
config = {'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'linger.ms': 0, 'batch.num.messages': 10000,
          'queue.buffering.max.messages': 2000000, 'queue.buffering.max.kbytes': 2097151}
transactional = mode == 'transactional'
if transactional:
    config['transactional.id'] = f'bench-{time.time()}'
p = Producer(config)
if transactional:
    p.init_transactions(30)
value = b'x' * 100
produce = p.produce
# Warm up (metadata, the coordinator, the first transaction) outside the timed part.
if transactional:
    p.begin_transaction()
produce(topic, value, partition=partition)
if transactional:
    p.commit_transaction(30)
p.flush(30)
started = time.perf_counter()
for start in range(0, records, PER_TXN):
    if transactional:
        p.begin_transaction()
    for _ in range(min(PER_TXN, records - start)):
        while True:
            try:
                produce(topic, value, partition=partition)
                break
            except BufferError:
                p.poll(0.01)
    if transactional:
        p.commit_transaction(30)
    else:
        p.poll(0)
p.flush(60)
print('seconds', time.perf_counter() - started, flush=True)
