"""confluent-kafka-python's idempotent producer (acks=all, enable.idempotence=true) writing numbered records
for harness.py's two-leader-kills scenario.

Usage: produce_python.py BOOTSTRAP TOPIC COUNT PARTITIONS RATE ACKFILE GATE
Record n (0 <= n < COUNT) has the value str(n) and goes to partition n % PARTITIONS; at most RATE records a
second are handed to the client, so that the harness's kills fall while records are in flight. Record GATE
is only handed over once the file ACKFILE.go exists (the harness opens it when it is ready for its second
kill, so that the producer cannot be done before it on a slow machine). Each acknowledgement is a line
`n partition offset` in ACKFILE; a delivery error a line `ERR n error`. Exits 0 when every record was
acknowledged.
"""
import os
import sys
import time

from confluent_kafka import KafkaException, Producer

bootstrap, topic, count, parts, rate, ackfile, gate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6], int(sys.argv[7])
out = open(ackfile, 'w', buffering=1)
acked = 0
failed = 0


def delivered(err, msg):
    global acked, failed
    n = int(msg.value())
    if err is not None:
        failed += 1
        out.write(f'ERR {n} {err}\n')
    else:
        acked += 1
        out.write(f'{n} {msg.partition()} {msg.offset()}\n')


p = Producer({
    'bootstrap.servers': bootstrap,
    'acks': 'all',
    'enable.idempotence': True,
    'linger.ms': 5,
    # librdkafka's default (300 s): a record is only given up after a failover far longer than Kafka's
    'message.timeout.ms': 300000,
})
t0 = pace0 = time.time()
for n in range(count):
    if n == gate:
        while not os.path.exists(ackfile + '.go'):
            p.poll(0.05)
        pace0 = time.time() - n / rate  # the same pace after the gate, not a burst
    if n % 100 == 0:
        ahead = pace0 + n / rate - time.time()
        if ahead > 0:
            p.poll(ahead)
    while True:
        try:
            p.produce(topic, value=str(n).encode(), partition=n % parts, on_delivery=delivered)
            break
        except BufferError:
            p.poll(0.1)
    p.poll(0)
remaining = p.flush(360)
out.close()
print(f'produced {count} in {time.time() - t0:.1f} s: acknowledged {acked}, failed {failed}, undelivered {remaining}')
sys.exit(0 if acked == count else 1)
