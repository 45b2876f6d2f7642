"""Reads the output of Kafka's own tools run against a 3-node KRaft cluster and checks what a Kafka cluster
shows there. The rules were written from what Apache Kafka 4.4 printed for a real 3-node cluster
(reference/, recorded by against-kafka.sh), so they hold for Kafka itself; run.sh applies them to Samsa.
test-parse.sh runs every rule against those reference files (must pass) and against altered copies of
them (must fail).

Usage: parse.py RULE FILE [ARGS...]; exit 0 and a one-line summary when the output is what a Kafka
cluster prints, exit 1 with the reason otherwise.

  quorum-status FILE VOTERS [ENDPOINTS]   kafka-metadata-quorum describe --status
      VOTERS: 1,2,3; ENDPOINTS (optional): 1=CONTROLLER://127.0.0.1:9093;2=...
  quorum-replication FILE VOTERS          kafka-metadata-quorum describe --replication
  topics-describe FILE TOPIC PARTITIONS BROKERS
                                          kafka-topics --describe --topic TOPIC (replication factor =
                                          number of BROKERS)
  dump-log FILE TOPIC PARTITIONS BROKERS [TOPICS_DESCRIBE_FILE]
                                          kafka-dump-log --cluster-metadata-decoder on a metadata segment;
                                          with TOPICS_DESCRIBE_FILE the PartitionRecords' replicas must be
                                          the ones kafka-topics --describe showed
  partition-moved FILE TOPIC PARTITION BROKERS
                                          kafka-topics --describe after the partition's preferred replica
                                          failed over and came back: every replica in the ISR, a leader
                                          that is not the first replica
  leader-election FILE ELECTED NOT_NEEDED kafka-leader-election --election-type preferred: exactly the
                                          partitions ELECTED (topic-partition,...; may be empty) reported
                                          elected, NOT_NEEDED already led by their preferred replica, no
                                          error
"""
import json
import re
import sys


class Mismatch(Exception):
    pass


def ids(text):
    return [int(x) for x in text.split(',') if x.strip() != '']


def fields(text):
    """'Key:   value' lines of describe --status into a dict."""
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([A-Za-z]+):\s+(.*?)\s*$', line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def integer(value, name):
    if value is None or not re.fullmatch(r'-?\d+', value):
        raise Mismatch(f'{name} is not a number: {value!r}')
    return int(value)


def quorum_status(text, voters, endpoints=None):
    f = fields(text)
    for key in ('ClusterId', 'LeaderId', 'LeaderEpoch', 'HighWatermark', 'MaxFollowerLag', 'MaxFollowerLagTimeMs',
                'CurrentVoters', 'CurrentObservers'):
        if key not in f:
            raise Mismatch(f'no {key}: line')
    leader = integer(f['LeaderId'], 'LeaderId')
    if leader not in voters:
        raise Mismatch(f'LeaderId {leader} is not one of the voters {voters}')
    epoch = integer(f['LeaderEpoch'], 'LeaderEpoch')
    if epoch < 1:
        raise Mismatch(f'LeaderEpoch {epoch}: a leader is elected in epoch 1 or later')
    hw = integer(f['HighWatermark'], 'HighWatermark')
    if hw < 1:
        raise Mismatch(f'HighWatermark {hw}: a cluster with registered brokers has committed records')
    lag = integer(f['MaxFollowerLag'], 'MaxFollowerLag')
    if lag < 0:
        raise Mismatch(f'MaxFollowerLag {lag} < 0')
    integer(f['MaxFollowerLagTimeMs'], 'MaxFollowerLagTimeMs')
    # Kafka 4.x prints the voters as JSON: [{"id": 1, "endpoints": ["CONTROLLER://host:port"]}, ...]
    # ("directoryId" too when the quorum is dynamic, KIP-853)
    try:
        current = json.loads(f['CurrentVoters'])
    except json.JSONDecodeError as e:
        raise Mismatch(f'CurrentVoters is not JSON ({e}): {f["CurrentVoters"]}')
    got = sorted(v.get('id') for v in current)
    if got != sorted(voters):
        raise Mismatch(f'CurrentVoters ids {got}, expected {sorted(voters)}')
    if endpoints:
        for v in current:
            want = endpoints.get(v['id'])
            if want is not None and v.get('endpoints') != [want]:
                raise Mismatch(f'voter {v["id"]} endpoints {v.get("endpoints")}, expected [{want}]')
    observers = json.loads(f['CurrentObservers']) if f['CurrentObservers'].startswith('[') else None
    if observers != []:
        raise Mismatch(f'CurrentObservers {f["CurrentObservers"]}: every node is a voter, none observes')
    return f'leader {leader}, epoch {epoch}, high watermark {hw}, voters {got}'


def table(text):
    """The tab-separated table of describe --replication: header and rows, cells stripped."""
    lines = [line for line in text.splitlines() if '\t' in line]
    if not lines:
        raise Mismatch('no table')
    head = [c.strip() for c in lines[0].split('\t')]
    rows = []
    for line in lines[1:]:
        cells = [c.strip() for c in line.split('\t')]
        rows.append(dict(zip(head, cells)))
    return head, rows


def quorum_replication(text, voters):
    head, rows = table(text)
    want = ['NodeId', 'DirectoryId', 'LogEndOffset', 'Lag', 'LastFetchTimestamp', 'LastCaughtUpTimestamp', 'Status']
    if [h for h in head if h] != want:
        raise Mismatch(f'columns {head}, expected {want}')
    nodes = sorted(integer(r['NodeId'], 'NodeId') for r in rows)
    if nodes != sorted(voters):
        raise Mismatch(f'rows for nodes {nodes}, expected the voters {sorted(voters)}')
    statuses = sorted(r['Status'] for r in rows)
    if statuses != ['Follower'] * (len(voters) - 1) + ['Leader']:
        raise Mismatch(f'Status column {statuses}, expected one Leader and {len(voters) - 1} Followers')
    leader = next(r for r in rows if r['Status'] == 'Leader')
    leo = integer(leader['LogEndOffset'], 'leader LogEndOffset')
    if leo < 1:
        raise Mismatch(f'leader LogEndOffset {leo}')
    if integer(leader['Lag'], 'leader Lag') != 0:
        raise Mismatch(f'leader Lag {leader["Lag"]}, expected 0')
    for r in rows:
        end = integer(r['LogEndOffset'], f'node {r["NodeId"]} LogEndOffset')
        lag = integer(r['Lag'], f'node {r["NodeId"]} Lag')
        if lag < 0 or end < 0:
            raise Mismatch(f'node {r["NodeId"]}: LogEndOffset {end}, Lag {lag}')
        # Kafka's leader reports the current time for itself in both columns, and a follower has fetched
        # (and caught up) long before the cluster has its brokers registered: -1 (unknown) is not Kafka's
        for col in ('LastFetchTimestamp', 'LastCaughtUpTimestamp'):
            if integer(r[col], f'node {r["NodeId"]} {col}') <= 0:
                raise Mismatch(f'node {r["NodeId"]} ({r["Status"]}) {col} {r[col]}, expected a time')
    return f'leader {leader["NodeId"]} at log end offset {leo}, ' + ', '.join(
        f'node {r["NodeId"]} {r["Status"]} lag {r["Lag"]}' for r in rows)


def topic_partitions(text, topic):
    """Partition lines of kafka-topics --describe: {partition: {Leader, Replicas, Isr}}."""
    parts = {}
    for line in text.splitlines():
        cells = dict(re.findall(r'(\w+): ([^\t]*)', line))
        if cells.get('Topic') == topic and 'Partition' in cells:
            parts[int(cells['Partition'])] = cells
    return parts


def topics_describe(text, topic, partitions, brokers):
    rf = len(brokers)
    head = [line for line in text.splitlines() if line.startswith(f'Topic: {topic}\t')]
    if len(head) != 1:
        raise Mismatch(f'no "Topic: {topic}" summary line')
    summary = dict(re.findall(r'(\w+): ([^\t]*)', head[0]))
    if summary.get('PartitionCount') != str(partitions) or summary.get('ReplicationFactor') != str(rf):
        raise Mismatch(f'summary {head[0]!r}: expected PartitionCount: {partitions}, ReplicationFactor: {rf}')
    parts = topic_partitions(text, topic)
    if sorted(parts) != list(range(partitions)):
        raise Mismatch(f'partition lines {sorted(parts)}, expected 0..{partitions - 1}')
    leaders = []
    for p in range(partitions):
        c = parts[p]
        for key in ('Leader', 'Replicas', 'Isr'):
            if key not in c:
                raise Mismatch(f'partition {p}: no {key}')
        replicas, isr, leader = ids(c['Replicas']), ids(c['Isr']), integer(c['Leader'], 'Leader')
        if sorted(replicas) != sorted(brokers):
            raise Mismatch(f'partition {p}: Replicas {replicas}, expected one on each of {brokers}')
        if sorted(isr) != sorted(brokers):
            raise Mismatch(f'partition {p}: Isr {isr}, expected all {rf} replicas in sync')
        # a new topic's leader is its preferred replica, the first one
        if leader != replicas[0]:
            raise Mismatch(f'partition {p}: Leader {leader}, expected the preferred replica {replicas[0]}')
        leaders.append(leader)
    # KRaft's StripedReplicaPlacer spreads leaders round-robin over the brokers
    if len(set(leaders)) != min(partitions, rf):
        raise Mismatch(f'leaders {leaders}: not spread over the brokers')
    return f'{topic}: ' + '; '.join(
        f'p{p} leader {parts[p]["Leader"]} replicas {parts[p]["Replicas"]} isr {parts[p]["Isr"]}' for p in range(partitions))


def dump_log(text, topic, partitions, brokers, describe_text=None):
    if re.search(r'Exception|Error:|isvalid: false', text):
        bad = [line for line in text.splitlines() if re.search(r'Exception|Error:|isvalid: false', line)]
        raise Mismatch(f'the decoder reports: {bad[:3]}')
    if not re.search(r'^Dumping .*00000000000000000000\.log$', text, re.M):
        raise Mismatch('no "Dumping ...00000000000000000000.log" line')
    if not re.search(r'^baseOffset: 0 lastOffset: ', text, re.M):
        raise Mismatch('no batch at baseOffset 0')
    records = []
    for line in text.splitlines():
        m = re.match(r'^\| offset: (\d+) .* payload: (\{.*\})$', line)
        if m:
            try:
                records.append((int(m.group(1)), json.loads(m.group(2))))
            except json.JSONDecodeError as e:
                raise Mismatch(f'payload at offset {m.group(1)} is not JSON: {e}')
    if not records:
        raise Mismatch('no decoded records ("| offset: N ... payload: {...}")')
    offsets = [o for o, _ in records]
    if offsets != sorted(offsets):
        raise Mismatch('record offsets out of order')
    registered = sorted({r['data']['brokerId'] for _, r in records if r.get('type') == 'REGISTER_BROKER_RECORD'})
    if registered != sorted(brokers):
        raise Mismatch(f'REGISTER_BROKER_RECORD for brokers {registered}, expected {sorted(brokers)}')
    topic_records = [r for _, r in records if r.get('type') == 'TOPIC_RECORD' and r['data'].get('name') == topic]
    if len(topic_records) != 1:
        raise Mismatch(f'{len(topic_records)} TOPIC_RECORDs named {topic}, expected 1')
    topic_id = topic_records[0]['data']['topicId']
    parts = {r['data']['partitionId']: r['data'] for _, r in records
             if r.get('type') == 'PARTITION_RECORD' and r['data'].get('topicId') == topic_id}
    if sorted(parts) != list(range(partitions)):
        raise Mismatch(f'PARTITION_RECORDs of {topic} ({topic_id}) for partitions {sorted(parts)}, expected 0..{partitions - 1}')
    for p, d in parts.items():
        if sorted(d['replicas']) != sorted(brokers) or d['leader'] not in d['replicas']:
            raise Mismatch(f'PARTITION_RECORD {p}: replicas {d["replicas"]}, leader {d["leader"]}')
    if describe_text is not None:
        described = topic_partitions(describe_text, topic)
        for p, d in parts.items():
            if p not in described or ids(described[p]['Replicas']) != d['replicas']:
                raise Mismatch(f'partition {p}: PARTITION_RECORD replicas {d["replicas"]}, kafka-topics --describe '
                               f'showed {described.get(p, {}).get("Replicas")}')
    types = sorted({r.get('type') for _, r in records})
    return f'{len(records)} records, brokers {registered} registered, {topic} = {topic_id} with {partitions} PARTITION_RECORDs; types {types}'


def partition_moved(text, topic, partition, brokers):
    parts = topic_partitions(text, topic)
    if partition not in parts:
        raise Mismatch(f'no line for partition {partition} of {topic}')
    c = parts[partition]
    replicas, isr = ids(c['Replicas']), ids(c['Isr'])
    if not re.fullmatch(r'\d+', c['Leader']):
        raise Mismatch(f'partition {partition}: no leader ({c["Leader"]})')
    leader = int(c['Leader'])
    if sorted(isr) != sorted(brokers) or sorted(replicas) != sorted(brokers):
        raise Mismatch(f'partition {partition}: Replicas {replicas}, Isr {isr}: expected every replica back in sync')
    if leader == replicas[0]:
        raise Mismatch(f'partition {partition}: led by its preferred replica {leader} already')
    return f'{topic}-{partition}: leader {leader}, preferred replica {replicas[0]}, isr {isr}'


def partition_names(text):
    return sorted(x for x in text.split(',') if x.strip() != '')


def leader_election(text, elected, not_needed):
    """LeaderElectionCommand prints one line per outcome, partitions joined by ', ' (a set: any order)."""
    errors = [line for line in text.splitlines() if re.search(r'Error completing leader election|Exception|Timeout waiting', line)]
    if errors:
        raise Mismatch(f'the tool reports: {errors[:3]}')
    found = {'elected': [], 'not-needed': []}
    for line in text.splitlines():
        m = re.match(r'^Successfully completed leader election \(PREFERRED\) for partitions (.+)$', line)
        if m:
            found['elected'] += m.group(1).split(', ')
        m = re.match(r'^Valid replica already elected for partitions (.+)$', line)
        if m:
            found['not-needed'] += m.group(1).split(', ')
    if sorted(found['elected']) != partition_names(elected):
        raise Mismatch(f'elected {sorted(found["elected"])}, expected {partition_names(elected)}')
    if sorted(found['not-needed']) != partition_names(not_needed):
        raise Mismatch(f'already elected {sorted(found["not-needed"])}, expected {partition_names(not_needed)}')
    return f'elected {sorted(found["elected"])}, already elected {sorted(found["not-needed"])}'


def main(argv):
    rule, path, *args = argv
    with open(path) as f:
        text = f.read()
    if rule == 'quorum-status':
        endpoints = None
        if len(args) > 1 and args[1]:
            endpoints = {int(k): v for k, v in (e.split('=', 1) for e in args[1].split(';'))}
        return quorum_status(text, ids(args[0]), endpoints)
    if rule == 'quorum-replication':
        return quorum_replication(text, ids(args[0]))
    if rule == 'topics-describe':
        return topics_describe(text, args[0], int(args[1]), ids(args[2]))
    if rule == 'dump-log':
        describe = None
        if len(args) > 3:
            with open(args[3]) as f:
                describe = f.read()
        return dump_log(text, args[0], int(args[1]), ids(args[2]), describe)
    if rule == 'partition-moved':
        return partition_moved(text, args[0], int(args[1]), ids(args[2]))
    if rule == 'leader-election':
        return leader_election(text, args[0], args[1] if len(args) > 1 else '')
    raise SystemExit(f'unknown rule {rule}')


if __name__ == '__main__':
    try:
        print(main(sys.argv[1:]))
    except Mismatch as e:
        print(f'{sys.argv[1]}: {e}')
        sys.exit(1)
    except (KeyError, ValueError, TypeError) as e:
        print(f'{sys.argv[1]}: unexpected output ({type(e).__name__}: {e})')
        sys.exit(1)
