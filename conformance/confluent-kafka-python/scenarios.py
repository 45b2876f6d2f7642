"""confluent-kafka-python scenarios against a running Samsa broker. Usage: scenarios.py BOOTSTRAP NAME"""
import sys
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

BOOTSTRAP = sys.argv[1]


def read_back(topic, partition, count, timeout_s=30):
    c = Consumer({
        'bootstrap.servers': BOOTSTRAP, 'client.id': 'confluent-kafka-python',
        'group.id': 'conformance-' + uuid.uuid4().hex[:8],
        'enable.auto.commit': False,
        'auto.offset.reset': 'earliest',
    })
    c.assign([TopicPartition(topic, partition, 0)])
    out = []
    import time
    deadline = time.time() + timeout_s
    while len(out) < count and time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            raise RuntimeError(m.error())
        out.append(m)
    c.close()
    return out


def delivery_callback():
    """The usual example: batch.size 16384, linger.ms 10, lz4, a delivery report per message, flush()."""
    topic = 'py-delivery-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'client.id': 'confluent-kafka-python', 'client.id': 'confluent-kafka-python', 'batch.size': 16384, 'linger.ms': 10, 'compression.type': 'lz4'})
    delivered = []

    def report(err, msg):
        if err is not None:
            raise RuntimeError(f'delivery failed: {err}')
        print(f'delivered to {msg.topic()} [{msg.partition()}] at offset {msg.offset()}')
        delivered.append((msg.partition(), msg.offset(), msg.key(), msg.value()))

    for i in range(1000):
        p.produce(topic, key=f'k{i}'.encode(), value=f'mensagem {i}'.encode(), callback=report)
        p.poll(0)
    remaining = p.flush(30)
    assert remaining == 0, f'{remaining} messages not delivered'
    assert len(delivered) == 1000, len(delivered)
    offsets = sorted(o for (_, o, _, _) in delivered)
    assert offsets == list(range(1000)), offsets[:10]
    got = read_back(topic, 0, 1000)
    assert [(m.key(), m.value()) for m in got] == [(f'k{i}'.encode(), f'mensagem {i}'.encode()) for i in range(1000)]


def acks(level):
    topic = f'py-acks-{level}-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'client.id': 'confluent-kafka-python', 'client.id': 'confluent-kafka-python', 'acks': level, 'linger.ms': 5})
    errors = []
    for i in range(200):
        p.produce(topic, value=f'v{i}'.encode(), callback=lambda err, msg: err and errors.append(err))
    assert p.flush(30) == 0
    assert not errors, errors
    got = read_back(topic, 0, 200)
    assert [m.value() for m in got] == [f'v{i}'.encode() for i in range(200)]


def admin():
    a = AdminClient({'bootstrap.servers': BOOTSTRAP, 'client.id': 'confluent-kafka-python'})
    name = 'py-admin-' + uuid.uuid4().hex[:6]
    fs = a.create_topics([NewTopic(name, num_partitions=3, replication_factor=1)])
    fs[name].result(10)
    md = a.list_topics(timeout=10)
    assert name in md.topics and len(md.topics[name].partitions) == 3
    a.delete_topics([name])[name].result(10)


SCENARIOS = {
    'delivery-callback': delivery_callback,
    'acks-0': lambda: acks('0'),
    'acks-1': lambda: acks('1'),
    'acks-all': lambda: acks('all'),
    'admin-create-delete': admin,
}

if __name__ == '__main__':
    SCENARIOS[sys.argv[2]]()
