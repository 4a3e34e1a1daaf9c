"""confluent-kafka (librdkafka) producer for bench/kafka-transactions.ts: <bootstrap> <topic> <mode> <records> [partition].
mode 'idempotent': enable.idempotence; 'flushed': the same, waiting for every record to be acknowledged each 1,000
(the transactional pattern without the transaction); 'transactional': a transactional id, committing every 1,000.
Prints 'seconds <elapsed>' from the first produce after a warm-up record until every record is acknowledged (and the
last transaction committed); exits 1, printing nothing, if the partition does not end where every record (and, when
transactional, every commit marker) stored would put it."""
import sys, time
from confluent_kafka import Consumer, Producer, TopicPartition

bootstrap, topic, mode, records = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
partition = int(sys.argv[5]) if len(sys.argv) > 5 else 0
PER_TXN = 1000
config = {'bootstrap.servers': bootstrap, 'enable.idempotence': True, 'linger.ms': 0, 'batch.num.messages': 10000,
          'queue.buffering.max.messages': 2000000, 'queue.buffering.max.kbytes': 2097151}
transactional = mode == 'transactional'
if transactional:
    config['transactional.id'] = f'bench-{time.time()}-{partition}'
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
    elif mode == 'flushed':
        p.flush(30)
    else:
        p.poll(0)
remaining = p.flush(60)
elapsed = time.perf_counter() - started
# Checked after the timed part, so the producer's configuration (and cost) stays the plain one.
transactions = -(-records // PER_TXN) + 1
expected = records + 1 + (transactions if transactional else 0)
low, high = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'bench-check'}).get_watermark_offsets(TopicPartition(topic, partition), 30)
if remaining or high != expected:
    print(f'{topic} [{partition}]: ends at offset {high}, not {expected} ({remaining} records unacknowledged)', file=sys.stderr)
    sys.exit(1)
# One write: with PYTHONUNBUFFERED print() writes its pieces separately, and the producers' lines interleave.
sys.stdout.write(f'seconds {elapsed}\n')
sys.stdout.flush()
