"""kafka-python scenarios against a running Samsa broker. Usage: scenarios.py BOOTSTRAP NAME"""
import os
import subprocess
import sys
import time
import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import MessageSizeTooLargeError, TopicAlreadyExistsError

BOOTSTRAP = sys.argv[1]
COMMON = {'bootstrap_servers': BOOTSTRAP, 'client_id': 'kafka-python-conformance'}


def uid():
    return uuid.uuid4().hex[:6]


def admin():
    return KafkaAdminClient(**COMMON)


def read_back(topic, partition, count, timeout_s=30):
    c = KafkaConsumer(**COMMON, enable_auto_commit=False, auto_offset_reset='earliest')
    tp = TopicPartition(topic, partition)
    c.assign([tp])
    c.seek_to_beginning(tp)
    out = []
    deadline = time.time() + timeout_s
    while len(out) < count and time.time() < deadline:
        for recs in c.poll(timeout_ms=500).values():
            out.extend(recs)
    c.close()
    assert len(out) == count, f'read {len(out)} of {count}'
    return out


def stored_codecs(topic, partition=0):
    """The codecs of the batches on the broker's disk (conformance/tools/batch-codecs.ts)."""
    out = subprocess.run(['node', '--import', 'tsx', 'conformance/tools/batch-codecs.ts',
                          f"{os.environ['SAMSA_DATA']}/{topic}-{partition}"],
                         cwd=os.environ['REPO_ROOT'], capture_output=True, text=True, check=True).stdout
    return out.split()


def metadata():
    a = admin()
    cluster = a.describe_cluster()
    brokers = cluster['brokers']
    assert [b.get('node_id', b.get('broker_id')) for b in brokers] == [1], cluster
    assert f"{brokers[0]['host']}:{brokers[0]['port']}" == BOOTSTRAP, cluster
    assert cluster['controller_id'] == 1, cluster
    assert cluster['cluster_id'], cluster
    # a producer's Metadata request auto-creates the topic
    topic = 'kpy-meta-' + uid()
    p = KafkaProducer(**COMMON)
    assert p.partitions_for(topic) == {0}, p.partitions_for(topic)
    p.close()
    assert topic in a.list_topics()
    a.close()


def create_describe_delete():
    a = admin()
    topic = 'kpy-admin-' + uid()
    a.create_topics([NewTopic(topic, 3, 1, topic_configs={'retention.ms': '3600000'})])
    try:
        a.create_topics([NewTopic(topic, 3, 1)])
        raise AssertionError('second create succeeded')
    except TopicAlreadyExistsError:
        pass
    [d] = a.describe_topics([topic])
    assert d['error_code'] == 0, d
    assert sorted(p['partition_index'] for p in d['partitions']) == [0, 1, 2], d
    a.delete_topics([topic])
    deadline = time.time() + 10
    while topic in a.list_topics():
        assert time.time() < deadline, 'topic still listed after delete'
        time.sleep(0.2)
    a.close()


def compression(codec):
    topic = f'kpy-{codec}-' + uid()
    p = KafkaProducer(**COMMON, compression_type=None if codec == 'none' else codec, linger_ms=20)
    want = [(f'key-{i}'.encode(), (f'value {i} ' + 'payload-' * 10).encode()) for i in range(5000)]
    futures = [p.send(topic, key=k, value=v, partition=0) for k, v in want]
    p.flush(30)
    for f in futures:
        f.get(30)   # raises the delivery error, if any
    p.close()
    got = read_back(topic, 0, 5000)
    assert [(r.key, r.value) for r in got] == want
    codecs = stored_codecs(topic)
    assert codecs == [codec], f'stored codecs {codecs}, expected {codec}'


def keyed():
    a = admin()
    topic = 'kpy-keyed-' + uid()
    a.create_topics([NewTopic(topic, 4, 1)])
    a.close()
    p = KafkaProducer(**COMMON, linger_ms=5)
    futures = [(f'k{i % 20}', p.send(topic, key=f'k{i % 20}'.encode(), value=str(i).encode())) for i in range(400)]
    placed = {}
    for k, f in futures:
        placed.setdefault(k, set()).add(f.get(30).partition)
    p.close()
    assert all(len(v) == 1 for v in placed.values()), placed
    assert len({next(iter(v)) for v in placed.values()}) > 1, 'all keys on one partition'
    for part in range(4):
        keys = [k for k, v in placed.items() if part in v]
        got = read_back(topic, part, 20 * len(keys))
        assert {r.key.decode() for r in got} == set(keys), (part, keys)


def group_commit_resume():
    topic = 'kpy-group-' + uid()
    group = 'kpy-group-' + uid()
    p = KafkaProducer(**COMMON)
    for f in [p.send(topic, value=f'a{i}'.encode()) for i in range(100)]:
        f.get(30)

    def consume(n):
        c = KafkaConsumer(topic, **COMMON, group_id=group, auto_offset_reset='earliest', enable_auto_commit=False)
        out = []
        deadline = time.time() + 30
        while len(out) < n and time.time() < deadline:
            for recs in c.poll(timeout_ms=500).values():
                out.extend(r.value for r in recs)
        c.commit()
        committed = c.committed(TopicPartition(topic, 0))
        extra = [r for recs in c.poll(timeout_ms=1000).values() for r in recs]
        c.close()
        return out, committed, extra

    got, committed, extra = consume(100)
    assert got == [f'a{i}'.encode() for i in range(100)], got[:5]
    assert committed == 100 and not extra, (committed, extra)
    for f in [p.send(topic, value=f'b{i}'.encode()) for i in range(50)]:
        f.get(30)
    p.close()
    got, committed, _ = consume(50)
    assert got == [f'b{i}'.encode() for i in range(50)], got[:5]
    assert committed == 150, committed
    a = admin()
    offsets = a.list_group_offsets({group: None})[group]
    assert offsets[TopicPartition(topic, 0)].offset == 150, offsets
    groups = a.list_groups()
    assert any((g.get('group_id') if isinstance(g, dict) else g[0]) == group for g in groups), groups
    a.close()


def describe_configs():
    a = admin()
    topic = 'kpy-configs-' + uid()
    a.create_topics([NewTopic(topic, 1, 1, topic_configs={'retention.ms': '7200000', 'cleanup.policy': 'compact'})])
    res = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter='all')
    cfg = next(iter(res.values()))[topic]
    assert cfg['retention.ms']['value'] == '7200000', cfg['retention.ms']
    assert cfg['cleanup.policy']['value'] == 'compact', cfg['cleanup.policy']
    assert 'max.message.bytes' in cfg, sorted(cfg)
    a.close()


def idempotent():
    topic = 'kpy-idem-' + uid()
    p = KafkaProducer(**COMMON, enable_idempotence=True, acks='all', linger_ms=5)
    futures = [p.send(topic, value=f'v{i}'.encode(), partition=0) for i in range(2000)]
    for f in futures:
        f.get(30)
    p.close()
    got = read_back(topic, 0, 2000)
    assert [r.value for r in got] == [f'v{i}'.encode() for i in range(2000)]


def headers_nulls():
    topic = 'kpy-headers-' + uid()
    p = KafkaProducer(**COMMON)
    # kafka-python refuses a null header value and a record whose key and value are both null
    for f in [p.send(topic, key=b'k1', value=b'v1', partition=0, headers=[('h1', b'one'), ('h2', b''), ('h1', b'again')]),
              p.send(topic, key=None, value=b'null key', partition=0),
              p.send(topic, key=b'tombstone', value=None, partition=0, headers=[('n', b'')])]:
        f.get(30)
    p.close()
    got = read_back(topic, 0, 3)
    assert [(r.key, r.value) for r in got] == [(b'k1', b'v1'), (None, b'null key'), (b'tombstone', None)]
    assert list(got[0].headers) == [('h1', b'one'), ('h2', b''), ('h1', b'again')], got[0].headers
    assert list(got[1].headers) == [], got[1].headers
    assert list(got[2].headers) == [('n', b'')], got[2].headers


def large():
    topic = 'kpy-large-' + uid()
    p = KafkaProducer(**COMMON, max_request_size=2000000)
    big = bytes(range(256)) * 4093 + b'end'
    p.send(topic, key=b'big', value=big, partition=0).get(30)
    try:
        p.send(topic, value=b'x' * 1100000, partition=0).get(30)
        raise AssertionError('a 1,100,000-byte message was accepted')
    except MessageSizeTooLargeError:
        pass
    p.close()
    got = read_back(topic, 0, 1)
    assert got[0].value == big


def from_timestamp():
    topic = 'kpy-ts-' + uid()
    p = KafkaProducer(**COMMON)
    base = int(time.time() * 1000) - 60000
    for f in [p.send(topic, value=f'm{i}'.encode(), partition=0, timestamp_ms=base + i * 1000) for i in range(10)]:
        f.get(30)
    p.close()
    c = KafkaConsumer(**COMMON, enable_auto_commit=False)
    tp = TopicPartition(topic, 0)
    found = c.offsets_for_times({tp: base + 4500})[tp]
    assert found.offset == 5 and found.timestamp == base + 5000, found
    assert c.offsets_for_times({tp: base + 20000})[tp] is None
    c.assign([tp])
    c.seek(tp, found.offset)
    out = []
    deadline = time.time() + 20
    while len(out) < 5 and time.time() < deadline:
        for recs in c.poll(timeout_ms=500).values():
            out.extend((r.value, r.timestamp) for r in recs)
    c.close()
    assert out == [(f'm{i}'.encode(), base + i * 1000) for i in range(5, 10)], out


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
}

if __name__ == '__main__':
    SCENARIOS[sys.argv[2]]()
