"""confluent-kafka-python scenarios against a running Samsa broker. Usage: scenarios.py BOOTSTRAP NAME"""
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewTopic

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
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'client.id': 'confluent-kafka-python', 'batch.size': 16384, 'linger.ms': 10, 'compression.type': 'lz4'})
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
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'client.id': 'confluent-kafka-python', 'acks': level, 'linger.ms': 5})
    errors = []
    for i in range(200):
        p.produce(topic, value=f'v{i}'.encode(), callback=lambda err, msg: err and errors.append(err))
    assert p.flush(30) == 0
    assert not errors, errors
    got = read_back(topic, 0, 200)
    assert [m.value() for m in got] == [f'v{i}'.encode() for i in range(200)]


def wait_topic(a, name, partitions=None, timeout_s=10):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        md = a.list_topics(timeout=10)
        t = md.topics.get(name)
        if t is not None and t.error is None and (partitions is None or len(t.partitions) == partitions):
            return t
        time.sleep(0.2)
    raise AssertionError(f'topic {name} not in metadata')


def metadata():
    a = AdminClient({'bootstrap.servers': BOOTSTRAP})
    md = a.list_topics(timeout=10)
    assert list(md.brokers) == [1], md.brokers
    b = md.brokers[1]
    assert (b.host, b.port) == tuple([BOOTSTRAP.split(':')[0], int(BOOTSTRAP.split(':')[1])]), b
    assert md.controller_id == 1, md.controller_id
    assert md.cluster_id, md.cluster_id
    # a producer's Metadata request auto-creates the topic
    name = 'py-meta-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP})
    p.list_topics(name, timeout=10)
    wait_topic(a, name)


def create_describe_delete():
    a = AdminClient({'bootstrap.servers': BOOTSTRAP})
    name = 'py-admin-' + uuid.uuid4().hex[:6]
    a.create_topics([NewTopic(name, num_partitions=3, replication_factor=1,
                              config={'retention.ms': '3600000'})])[name].result(10)
    t = wait_topic(a, name, 3)
    assert sorted(t.partitions) == [0, 1, 2]
    assert all(p.leader == 1 and p.replicas == [1] for p in t.partitions.values())
    # creating it again: TOPIC_ALREADY_EXISTS
    try:
        a.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(10)
        raise AssertionError('second create succeeded')
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS, e
    if hasattr(a, 'describe_topics'):
        from confluent_kafka import TopicCollection
        d = a.describe_topics(TopicCollection([name]))[name].result(10)
        assert len(d.partitions) == 3, d
    a.delete_topics([name])[name].result(10)
    deadline = time.time() + 10
    while name in a.list_topics(timeout=10).topics:
        assert time.time() < deadline, 'topic still listed after delete'
        time.sleep(0.2)


def compression(codec):
    topic = f'py-{codec}-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'compression.type': codec, 'linger.ms': 20})
    for i in range(5000):
        p.produce(topic, key=f'key-{i}'.encode(), value=(f'value {i} ' + 'payload-' * 10).encode(), partition=0)
    assert p.flush(30) == 0
    got = read_back(topic, 0, 5000)
    assert [(m.key(), m.value()) for m in got] == [(f'key-{i}'.encode(), (f'value {i} ' + 'payload-' * 10).encode()) for i in range(5000)]


def keyed():
    a = AdminClient({'bootstrap.servers': BOOTSTRAP})
    topic = 'py-keyed-' + uuid.uuid4().hex[:6]
    a.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])[topic].result(10)
    wait_topic(a, topic, 4)
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'linger.ms': 5})
    placed = {}

    def report(err, msg):
        assert err is None, err
        placed.setdefault(msg.key(), set()).add(msg.partition())

    for i in range(400):
        p.produce(topic, key=f'k{i % 20}'.encode(), value=str(i).encode(), callback=report)
    assert p.flush(30) == 0
    assert all(len(v) == 1 for v in placed.values()), placed
    assert len({next(iter(v)) for v in placed.values()}) > 1, 'all keys on one partition'
    for part in range(4):
        want = [k for k, v in placed.items() if part in v]
        got = read_back(topic, part, sum(20 for _ in want), timeout_s=10)
        assert {m.key() for m in got} == set(want), (part, want)


def group_commit_resume():
    topic = 'py-group-' + uuid.uuid4().hex[:6]
    group = 'py-group-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP})
    for i in range(100):
        p.produce(topic, value=f'a{i}'.encode())
    assert p.flush(30) == 0

    def consume(n):
        c = Consumer({'bootstrap.servers': BOOTSTRAP, 'group.id': group, 'auto.offset.reset': 'earliest',
                      'enable.auto.commit': False})
        c.subscribe([topic])
        out = []
        deadline = time.time() + 30
        while len(out) < n and time.time() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            assert not m.error(), m.error()
            out.append(m.value())
        c.commit(asynchronous=False)
        committed = c.committed([TopicPartition(topic, 0)], timeout=10)
        extra = c.poll(1.0)
        c.close()
        return out, committed[0].offset, extra

    got, committed, extra = consume(100)
    assert got == [f'a{i}'.encode() for i in range(100)], got[:5]
    assert committed == 100, committed
    assert extra is None, extra
    for i in range(50):
        p.produce(topic, value=f'b{i}'.encode())
    assert p.flush(30) == 0
    got, committed, _ = consume(50)
    assert got == [f'b{i}'.encode() for i in range(50)], got[:5]
    assert committed == 150, committed
    a = AdminClient({'bootstrap.servers': BOOTSTRAP})
    groups = a.list_consumer_groups().result(10)
    assert group in [g.group_id for g in groups.valid], groups.valid


def describe_configs():
    a = AdminClient({'bootstrap.servers': BOOTSTRAP})
    topic = 'py-configs-' + uuid.uuid4().hex[:6]
    a.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1,
                              config={'retention.ms': '7200000', 'cleanup.policy': 'compact'})])[topic].result(10)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    cfg = a.describe_configs([res])[res].result(10)
    assert cfg['retention.ms'].value == '7200000', cfg['retention.ms']
    assert cfg['cleanup.policy'].value == 'compact'
    assert cfg['retention.ms'].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value, cfg['retention.ms'].source
    assert 'max.message.bytes' in cfg and cfg['max.message.bytes'].is_default
    b = ConfigResource(ConfigResource.Type.BROKER, '1')
    bcfg = a.describe_configs([b])[b].result(10)
    assert 'log.retention.ms' in bcfg or 'num.partitions' in bcfg, list(bcfg)[:10]


def idempotent():
    topic = 'py-idem-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'enable.idempotence': True, 'linger.ms': 5})
    errors = []
    for i in range(2000):
        p.produce(topic, value=f'v{i}'.encode(), partition=0, callback=lambda err, msg: err and errors.append(err))
    assert p.flush(30) == 0
    assert not errors, errors[:3]
    got = read_back(topic, 0, 2000)
    assert [m.value() for m in got] == [f'v{i}'.encode() for i in range(2000)]


def headers_nulls():
    topic = 'py-headers-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP})
    p.produce(topic, key=b'k1', value=b'v1', partition=0, headers=[('h1', b'one'), ('h2', b''), ('h1', b'again')])
    p.produce(topic, key=None, value=b'null key', partition=0)
    p.produce(topic, key=b'tombstone', value=None, partition=0, headers=[('n', None)])
    p.produce(topic, key=None, value=None, partition=0)
    assert p.flush(30) == 0
    got = read_back(topic, 0, 4)
    assert [(m.key(), m.value()) for m in got] == [(b'k1', b'v1'), (None, b'null key'), (b'tombstone', None), (None, None)]
    assert got[0].headers() == [('h1', b'one'), ('h2', b''), ('h1', b'again')], got[0].headers()
    assert got[1].headers() is None, got[1].headers()
    assert got[2].headers() == [('n', None)], got[2].headers()


def large():
    topic = 'py-large-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'message.max.bytes': 2000000})
    big = bytes(range(256)) * 4093 + b'end'   # 1,047,811 bytes: under message.max.bytes 1,048,588
    p.produce(topic, key=b'big', value=big, partition=0)
    assert p.flush(30) == 0
    got = read_back(topic, 0, 1)
    assert got[0].value() == big
    errors = []
    p.produce(topic, value=b'x' * 1100000, partition=0, callback=lambda err, msg: errors.append(err))
    p.flush(30)
    assert errors and errors[0] is not None and errors[0].code() == KafkaError.MSG_SIZE_TOO_LARGE, errors


def from_timestamp():
    topic = 'py-ts-' + uuid.uuid4().hex[:6]
    p = Producer({'bootstrap.servers': BOOTSTRAP})
    base = int(time.time() * 1000) - 60000
    for i in range(10):
        p.produce(topic, value=f'm{i}'.encode(), partition=0, timestamp=base + i * 1000)
    assert p.flush(30) == 0
    c = Consumer({'bootstrap.servers': BOOTSTRAP, 'group.id': 'py-ts', 'enable.auto.commit': False})
    found = c.offsets_for_times([TopicPartition(topic, 0, base + 4500)], timeout=10)
    assert found[0].offset == 5, found
    after = c.offsets_for_times([TopicPartition(topic, 0, base + 20000)], timeout=10)
    assert after[0].offset in (-1, 10), after   # past the last record: end (Kafka returns -1, librdkafka may map it)
    c.assign(found)
    out = []
    deadline = time.time() + 20
    while len(out) < 5 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            out.append((m.value(), m.timestamp()[1]))
    c.close()
    assert out == [(f'm{i}'.encode(), base + i * 1000) for i in range(5, 10)], out


def admin_partitions_configs():
    """AdminClient admin calls: describe_cluster, create_partitions (and INVALID_PARTITIONS), describe_configs,
    incremental_alter_configs (SET/APPEND, live: the next produce obeys max.message.bytes), alter_configs,
    delete_records."""
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, NewPartitions
    a = AdminClient({'bootstrap.servers': BOOTSTRAP})
    c = a.describe_cluster(request_timeout=10).result(10)
    assert c.cluster_id, c
    assert c.controller is not None and c.controller.id == 1, c.controller
    assert [(n.id, n.host, n.port) for n in c.nodes] == [(1, BOOTSTRAP.split(':')[0], int(BOOTSTRAP.split(':')[1]))], c.nodes

    name = 'py-adm-' + uuid.uuid4().hex[:6]
    a.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])[name].result(10)
    wait_topic(a, name, 2)
    a.create_partitions([NewPartitions(name, 4)])[name].result(10)
    wait_topic(a, name, 4)
    try:
        a.create_partitions([NewPartitions(name, 3)])[name].result(10)
        raise AssertionError('shrinking succeeded')
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.INVALID_PARTITIONS, e

    res = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=[
        ConfigEntry('max.message.bytes', '300', incremental_operation=AlterConfigOpType.SET),
        ConfigEntry('cleanup.policy', 'compact', incremental_operation=AlterConfigOpType.APPEND),
    ])
    a.incremental_alter_configs([res])[res].result(10)
    d = ConfigResource(ConfigResource.Type.TOPIC, name)
    cfg = a.describe_configs([d])[d].result(10)
    assert cfg['max.message.bytes'].value == '300', cfg['max.message.bytes']
    assert cfg['max.message.bytes'].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert cfg['cleanup.policy'].value == 'delete,compact', cfg['cleanup.policy']

    # the change is live: a 1,000-byte record is now too large for the topic
    p = Producer({'bootstrap.servers': BOOTSTRAP, 'linger.ms': 0})
    results = []
    # keyed: cleanup.policy now includes compact, and a compacted topic refuses keyless records (INVALID_RECORD)
    p.produce(name, key=b'big', value=b'x' * 1000, partition=0, callback=lambda err, msg: results.append(err))
    p.produce(name, key=b'small', value=b'small', partition=1, callback=lambda err, msg: results.append(err))
    p.flush(30)
    codes = sorted((e.code() if e else 0) for e in results)
    assert codes == [0, KafkaError.MSG_SIZE_TOO_LARGE], results

    # legacy AlterConfigs replaces the whole set: max.message.bytes goes back to the default
    legacy = ConfigResource(ConfigResource.Type.TOPIC, name, set_config={'retention.ms': '3600000'})
    a.alter_configs([legacy])[legacy].result(10)
    cfg = a.describe_configs([d])[d].result(10)
    assert cfg['retention.ms'].value == '3600000' and cfg['max.message.bytes'].is_default, cfg['max.message.bytes']

    # invalid values: INVALID_CONFIG
    bad = ConfigResource(ConfigResource.Type.TOPIC, name, incremental_configs=[
        ConfigEntry('retention.ms', 'soon', incremental_operation=AlterConfigOpType.SET)])
    try:
        a.incremental_alter_configs([bad])[bad].result(10)
        raise AssertionError('bad value accepted')
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.INVALID_CONFIG, e

    # delete_records moves the low watermark
    for i in range(10):
        p.produce(name, value=f'v{i}'.encode(), partition=2)
    assert p.flush(30) == 0
    tp = TopicPartition(name, 2, 6)
    deleted = a.delete_records([tp])[tp].result(10)
    assert deleted.low_watermark == 6, deleted
    a.delete_topics([name])[name].result(10)


SCENARIOS = {
    'metadata': metadata,
    'create-describe-delete-topic': create_describe_delete,
    'compression-none': lambda: compression('none'),
    'compression-gzip': lambda: compression('gzip'),
    'compression-snappy': lambda: compression('snappy'),
    'compression-lz4': lambda: compression('lz4'),
    'compression-zstd': lambda: compression('zstd'),
    'keyed-partitioning': keyed,
    'group-commit-resume': group_commit_resume,
    'describe-configs': describe_configs,
    'idempotent-produce': idempotent,
    'headers-null-key-value': headers_nulls,
    'large-message': large,
    'consume-from-timestamp': from_timestamp,
    'delivery-callback': delivery_callback,
    'acks-0': lambda: acks('0'),
    'acks-1': lambda: acks('1'),
    'acks-all': lambda: acks('all'),
    'admin-partitions-configs': admin_partitions_configs,
    }

if __name__ == '__main__':
    SCENARIOS[sys.argv[2]]()
