"""The replicated-cluster folder's scenarios (issue 12's acceptance items on three real processes), run by
run.sh through lib.sh's `check`. The cluster is cluster.py's; leaders, ISRs and coordinators are asked of it
with the clients' own requests (Metadata, FindCoordinator via DescribeGroups).

  harness.py DIR two-leader-kills NAME COUNT RATE -- PRODUCER_COMMAND...
      Creates a topic (3 partitions, replication factor 3, min.insync.replicas=2) and runs the producer
      (PRODUCER_COMMAND BOOTSTRAP TOPIC COUNT 3 RATE ACKFILE GATE: produce_python.py, produce-kafkajs.ts,
      ProduceNumbered.java). While it writes, the leader of partition 0 is killed with kill -9 twice: when a
      fifth of the records are acknowledged, and once the first node is back, started again at once, in
      every partition's ISR. The producer waits before record GATE (70%) until the harness is ready for the
      second kill (the ISR is whole again), so that however slow the machine the second kill falls while
      it writes: it comes once 2% more (and at least 55%) are acknowledged. Then every partition is read back:
      every acknowledged record exactly once, at the offset it was acknowledged with, and each partition's
      records in the order they were sent.
  harness.py DIR group-coordinator-kill COUNT RATE
      Writes COUNT records to a topic of 6 partitions (RF 3), then three group_member.py processes consume it
      in one group, committing after processing; when a quarter is processed, the group's coordinator
      (FindCoordinator) is killed with kill -9 and started again. Once commits succeed again, one member
      leaves and a fourth joins (three members still), so every member starts again from the offsets the
      moved coordinator loaded. When the group's committed offsets reach the end of every partition, the
      members stop. Checks: every record processed (no gap), and none
      processed after a commit covering it had succeeded (exactly once with respect to committed offsets).
  harness.py DIR topics-rf3 TOPIC...
      Each topic (created by a client that named no replication factor: PySpark's auto-created
      `meu-topico`) has replication factor 3 and all 3 replicas in sync, on three different nodes.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cluster  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def say(msg):
    print(f'[{time.strftime("%H:%M:%S")}] {msg}', flush=True)


class Acks:
    """Reads the producer's ACKFILE as it grows."""

    def __init__(self, path):
        self.path, self.pos, self.acked, self.errors, self.partial = path, 0, {}, [], ''

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.pos)
                data = f.read()
                self.pos = f.tell()
        except FileNotFoundError:
            return len(self.acked)
        lines = (self.partial + data).split('\n')
        self.partial = lines.pop()
        for line in lines:
            if line.startswith('ERR '):
                self.errors.append(line)
            elif line:
                n, p, o = (int(x) for x in line.split())
                if n in self.acked:
                    self.errors.append(f'record {n} acknowledged twice: {self.acked[n]} and {(p, o)}')
                self.acked[n] = (p, o)
        return len(self.acked)


def watermark_end(consumer, topic, p, timeout=30):
    """The partition's high watermark (ListOffsets to its leader), asked again on an error for `timeout`
    seconds: a leader named by one node's Metadata may not have published the image with the new topic yet
    and answers UNKNOWN_TOPIC_OR_PARTITION (as Kafka does then too), which librdkafka hands back as is."""
    from confluent_kafka import KafkaException, TopicPartition
    deadline = time.time() + timeout
    while True:
        try:
            return consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        except KafkaException:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def read_all(d, topic, nparts):
    """Every record of every partition, from the log start to the high watermark: {p: [(offset, value)]}."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({'bootstrap.servers': cluster.bootstrap(d), 'group.id': f'verify-{topic}', 'enable.auto.commit': False,
                  'enable.partition.eof': True})
    ends = {p: watermark_end(c, topic, p) for p in range(nparts)}
    c.assign([TopicPartition(topic, p, 0) for p in range(nparts)])
    got = {p: [] for p in range(nparts)}
    done = {p for p in range(nparts) if ends[p] == 0}
    deadline = time.time() + 120
    while len(done) < nparts and time.time() < deadline:
        for m in c.consume(num_messages=1000, timeout=1):
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    if m.offset() >= ends[m.partition()]:
                        done.add(m.partition())
                    continue
                raise RuntimeError(f'reading back: {m.error()}')
            got[m.partition()].append((m.offset(), int(m.value())))
            if m.offset() + 1 >= ends[m.partition()]:
                done.add(m.partition())
    c.close()
    if len(done) < nparts:
        raise RuntimeError(f'read back: partitions {sorted(set(range(nparts)) - done)} not read to their ends {ends} in 120 s')
    return got, ends


def kill_twice(d, topic, count, ackfile, acks, producer, problems, kills):
    """kill -9 the leader of partition 0 twice while the producer writes; see the module's doc."""
    try:
        for k in (1, 2):
            if k == 2:
                open(ackfile + '.go', 'w').close()
            threshold = count // 5 if k == 1 else max(count * 55 // 100, acks.poll() + count // 50)
            while acks.poll() < threshold and producer.poll() is None:
                time.sleep(0.05)
            if producer.poll() is not None:
                problems.append(f'the producer ended (exit {producer.returncode}, {acks.poll()} acknowledged) before kill {k}')
                break
            leader = cluster.partitions(d, topic)[0][0]
            at = acks.poll()
            t_kill = time.time()
            cluster.kill9(d, leader)
            say(f'kill {k}: node {leader}, the leader of partition 0, killed with kill -9 at {at} acknowledged records')
            cluster.restart(d, leader)
            say(f'kill {k}: node {leader} started again ({time.time() - t_kill:.1f} s after the kill)')
            # Kafka elects a new leader from the ISR when the node is fenced or registers again
            new_leader, deadline = -1, time.time() + 60
            while time.time() < deadline:
                try:
                    new_leader = cluster.partitions(d, topic)[0][0]
                    if new_leader not in (-1, leader):
                        break
                except Exception:  # noqa: BLE001
                    pass
                time.sleep(0.1)
            say(f'kill {k}: partition 0 led by node {new_leader} {time.time() - t_kill:.1f} s after the kill; {acks.poll()} acknowledged')
            isr = cluster.wait_full_isr(d, topic, timeout=90)
            say(f'kill {k}: node {leader} back in every ISR {time.time() - t_kill:.1f} s after the kill: {isr}; {acks.poll()} acknowledged')
            kills.append((leader, at))
            if at >= count:
                problems.append(f'kill {k} came after every record was acknowledged')
    except Exception as e:  # noqa: BLE001 (a node that does not come back, Metadata that never answers)
        problems.append(f'kill {len(kills) + 1}: {e!r}')


def verify_log(logs, acked, count, nparts, problems):
    """The two-leader-kills checks on what was read back. logs: {partition: [(offset, n)]}; acked: {n:
    (partition, offset)}. Appends to problems; returns the numbers of acknowledged records lost, duplicated
    and found at another offset. test_harness.py feeds it wrong logs."""
    seen = {}
    for p, recs in logs.items():
        prev = -1
        for o, n in recs:
            if not 0 <= n < count or n % nparts != p:
                problems.append(f'partition {p} offset {o}: value {n} was never sent to this partition')
            if n <= prev:
                problems.append(f'partition {p} offset {o}: record {n} after {prev} (out of order or duplicated)')
            prev = max(prev, n)
            seen.setdefault(n, []).append((p, o))
    at_offset = {(p, o): n for p, recs in logs.items() for o, n in recs}
    missing = duplicated = moved = 0
    for n, (p, o) in sorted(acked.items()):
        where = seen.get(n, [])
        if not where:
            missing += 1
            if missing <= 10:
                problems.append(f'acknowledged record {n} (partition {p} offset {o}) is not in the log')
        elif len(where) > 1:
            duplicated += 1
            if duplicated <= 10:
                problems.append(f'acknowledged record {n} is in the log {len(where)} times: {where}')
        elif at_offset.get((p, o)) != n:
            moved += 1
            if moved <= 10:
                problems.append(f'record {n} was acknowledged at partition {p} offset {o}, which holds {at_offset.get((p, o))}')
    return missing, duplicated, moved


def two_leader_kills(d, name, count, rate, command):
    topic = f'{name}-{random.randrange(1 << 30)}'
    nparts = 3
    work = tempfile.mkdtemp(prefix=f'{name}-')
    ackfile = os.path.join(work, 'acks')
    before = cluster.create_topic(d, topic, nparts, {'min.insync.replicas': '2'})
    say(f'topic {topic}: {before}')
    gate = count * 7 // 10
    # its output goes to a file: a client logging every failed reconnect must never block on a full pipe
    outfile = open(os.path.join(work, 'output'), 'w+')
    producer = subprocess.Popen(command + [cluster.bootstrap(d), topic, str(count), str(nparts), str(rate), ackfile, str(gate)],
                                stdout=outfile, stderr=subprocess.STDOUT, cwd=os.environ.get('REPO_ROOT'))
    acks = Acks(ackfile)
    problems = []
    kills = []
    try:
        kill_twice(d, topic, count, ackfile, acks, producer, problems, kills)
        try:
            producer.wait(timeout=360)
        except subprocess.TimeoutExpired:
            problems.append('the producer did not finish in 360 s')
    finally:
        open(ackfile + '.go', 'w').close()
        if producer.poll() is None:
            producer.kill()
            producer.wait()
    outfile.seek(0)
    print(outfile.read().strip()[-4000:])
    outfile.close()
    if producer.returncode != 0:
        problems.append(f'the producer exited {producer.returncode}')
    acks.poll()
    problems += acks.errors[:20]
    if len(acks.acked) != count:
        problems.append(f'{len(acks.acked)} of {count} records acknowledged')

    logs, ends = read_all(d, topic, nparts)
    say(f'read back {sum(len(v) for v in logs.values())} records, partition ends {ends}')
    missing, duplicated, moved = verify_log(logs, acks.acked, count, nparts, problems)
    if len(kills) != 2:
        problems.append(f'{len(kills)} leader kills carried out, not 2')
    say(f'{name}: {len(acks.acked)} acknowledged, {missing} lost, {duplicated} duplicated, {moved} at another offset; kills (node, acknowledged): {kills}')
    for p in problems[:40]:
        print('PROBLEM', p)
    shutil.rmtree(work, ignore_errors=True)
    return not problems


def check_group(member_lines, count, nparts, t_restart, problems):
    """The group scenario's checks on the members' logs (group_member.py's lines, one list per member; times
    in ns from one clock). t_restart: when the coordinator was started again (ns). Appends to problems;
    returns the processed values, how many were processed again (allowed: their commit had not
    succeeded), how many after a commit covering them had succeeded, and the commits after the restart.
    test_harness.py feeds it wrong logs."""
    # Events of all members in time order (one machine, one clock)
    events = []
    for i, lines in enumerate(member_lines):
        for line in lines:
            parts = line.split()
            if parts and parts[0] in ('P', 'C'):
                events.append((int(parts[1]), parts[0], i, [int(x) for x in parts[2:]]))
    events.sort(key=lambda e: (e[0], e[1] != 'C'))
    committed_upto = {q: 0 for q in range(nparts)}
    processed_values, reprocessed, violations = set(), 0, []
    commits_after_restart = 0
    for t, kind, i, f in events:
        if kind == 'C':
            q, off = f
            committed_upto[q] = max(committed_upto[q], off)
            commits_after_restart += t_restart is not None and t > t_restart
        else:
            q, o, n = f
            if n % nparts != q:
                violations.append(f'member-{i} processed value {n} from partition {q}')
            if o < committed_upto[q]:
                violations.append(f'member-{i} processed partition {q} offset {o} (value {n}) after offset {committed_upto[q]} was committed')
            if n in processed_values:
                reprocessed += 1
            processed_values.add(n)
    gap = sorted(set(range(count)) - processed_values)
    if gap:
        problems.append(f'{len(gap)} records never processed, e.g. {gap[:10]}')
    problems += violations[:20]
    if len(violations) > 20:
        problems.append(f'... {len(violations)} records processed after their offset was committed')
    if commits_after_restart == 0:
        problems.append('no commit succeeded after the coordinator was started again')
    return processed_values, reprocessed, len(violations), commits_after_restart


def group_coordinator_kill(d, count, rate):
    from confluent_kafka import Consumer, Producer, TopicPartition
    tag = random.randrange(1 << 30)
    topic, group = f'group-eos-{tag}', f'group-eos-{tag}'
    nparts = 6
    work = tempfile.mkdtemp(prefix='group-eos-')
    cluster.create_topic(d, topic, nparts, {'min.insync.replicas': '2'})
    p = Producer({'bootstrap.servers': cluster.bootstrap(d), 'acks': 'all', 'enable.idempotence': True, 'linger.ms': 5})
    failed = []
    for n in range(count):
        while True:
            try:
                p.produce(topic, value=str(n).encode(), partition=n % nparts,
                          on_delivery=lambda err, m: err is not None and failed.append(err))
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    if p.flush(60) or failed:
        print(f'could not write the records: {failed[:5]}')
        return False
    c = Consumer({'bootstrap.servers': cluster.bootstrap(d), 'group.id': f'ends-{group}', 'log_level': 2})
    ends = {q: watermark_end(c, topic, q) for q in range(nparts)}
    c.close()
    say(f'{count} records written to {topic} ({nparts} partitions, ends {ends})')
    stop = os.path.join(work, 'stop')
    logs, outs, members = [], [], []

    def start_member(i):
        logs.append(os.path.join(work, f'member-{i}.log'))
        outs.append(open(os.path.join(work, f'member-{i}.out'), 'w+'))
        members.append(subprocess.Popen([sys.executable, os.path.join(HERE, 'group_member.py'), cluster.bootstrap(d), topic, group,
                                         f'member-{i}', logs[i], stop, str(rate)], stdout=outs[i], stderr=subprocess.STDOUT))

    for i in range(3):
        start_member(i)
    problems = []
    t_restart = None
    leaving = 1  # the member replaced after the failover

    def commits_after(t_ns):
        for f in logs:
            with open(f) as fh:
                if any(line.startswith('C ') and int(line.split()[1]) > t_ns for line in fh):
                    return True
        return False

    def member_died():
        return any(m.poll() is not None for i, m in enumerate(members) if i != leaving or len(members) == 3)

    def processed():
        n, by = 0, []
        for f in logs:
            try:
                with open(f) as fh:
                    k = sum(1 for line in fh if line.startswith('P '))
            except FileNotFoundError:
                k = 0
            by.append(k)
            n += k
        return n, by

    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            n, by = processed()
            if n >= count // 4 and all(by):
                break
            if member_died():
                break
            time.sleep(0.1)
        n, by = processed()
        if n >= count:
            problems.append(f'every record was processed before the kill ({by})')
        if not all(by):
            problems.append(f'not every member processed records before the kill: {by}')
        coord = cluster.coordinator(d, group)
        t_kill = time.time()
        cluster.kill9(d, coord)
        say(f'node {coord}, the group\'s coordinator (FindCoordinator), killed with kill -9 at {n} records processed {by}')
        cluster.restart(d, coord)
        say(f'node {coord} started again ({time.time() - t_kill:.1f} s after the kill)')
        t_restart = time.time_ns()
        # Once the moved coordinator takes commits, one member leaves and a new one joins (still three): the
        # rebalance makes every member start from the committed offsets the new coordinator loaded from
        # __consumer_offsets, so a commit it lost would show as a record processed again after its commit.
        deadline = time.time() + 90
        while not commits_after(t_restart) and time.time() < deadline and not member_died():
            time.sleep(0.1)
        open(f'{stop}.member-{leaving}', 'w').close()
        start_member(3)
        t_swap = time.time_ns()
        n, by = processed()
        say(f'member-{leaving} leaves, member-3 joins ({(t_swap - t_restart) / 1e9:.1f} s after the restart, {n} records processed {by})')
        # the group's committed offsets reach the end of every partition
        c = Consumer({'bootstrap.servers': cluster.bootstrap(d), 'group.id': group, 'enable.auto.commit': False, 'log_level': 2})
        deadline, committed = time.time() + 150, {}
        while time.time() < deadline:
            try:
                committed = {tp.partition: tp.offset for tp in c.committed([TopicPartition(topic, q) for q in range(nparts)], timeout=5)}
                if committed == ends:
                    break
            except Exception as e:  # noqa: BLE001 (the coordinator is moving)
                committed = {'error': str(e)}
            if member_died():
                break
            time.sleep(0.5)
        c.close()
        try:
            new_coord = cluster.coordinator(d, group)
        except Exception as e:  # noqa: BLE001
            new_coord = f'unknown ({e})'
        say(f'committed offsets {committed}, partition ends {ends} ({time.time() - t_kill:.1f} s after the kill); coordinator now {new_coord}')
        if committed != ends:
            problems.append(f'the committed offsets {committed} did not reach the partition ends {ends}')
    finally:
        open(stop, 'w').close()
        for m, out in zip(members, outs):
            try:
                m.wait(timeout=60)
            except subprocess.TimeoutExpired:
                m.kill()
                m.wait()
                problems.append('a member did not stop in 60 s')
            out.seek(0)
            print(out.read().strip()[-2000:])
            out.close()
    for i, m in enumerate(members):
        if m.returncode != 0:
            problems.append(f'member-{i} exited {m.returncode}')
    n, by = processed()
    member_lines = []
    for i, f in enumerate(logs):
        with open(f) as fh:
            member_lines.append(fh.readlines())
        for line in member_lines[-1]:
            if line[:1] in ('E', 'X', 'L'):
                print(f'member-{i}: {line.strip()[:300]}')
    # The joiner must have been given partitions by the moved coordinator (an assignment it then starts
    # from that coordinator's committed offsets); whether records were left for it to process depends on
    # how fast the others drained the topic meanwhile (a clean-clone run saw the joiner process 0; its
    # member logs were not kept, so whether it had been assigned is not known).
    joiner_assigned = [line.strip() for line in (member_lines[3] if len(member_lines) > 3 else []) if line.startswith('A ') and line.strip() != 'A' and not line.rstrip().endswith('[]')]
    if not joiner_assigned:
        problems.append(f'the member that joined after the failover was never assigned a partition ({by}): no rebalance onto the moved coordinator\'s offsets')
    else:
        say(f'member-3 assignments: {"; ".join(joiner_assigned[:4])}; processed {by[3] if len(by) > 3 else 0}')
    processed_values, reprocessed, violations, commits_after_restart = check_group(member_lines, count, nparts, t_restart, problems)
    say(f'processed {len(processed_values)} distinct records of {count} ({reprocessed} processed again before their offset was committed), '
        f'{violations} after their offset was committed, {commits_after_restart} commits after the restart')
    for p in problems[:40]:
        print('PROBLEM', p)
    shutil.rmtree(work, ignore_errors=True)
    return not problems


def topics_rf3(d, topics):
    ok = True
    for t in topics:
        try:
            ps = cluster.wait_full_isr(d, t, timeout=30)
        except Exception as e:  # noqa: BLE001
            print(f'{t}: {e}')
            ok = False
            continue
        for p, (leader, replicas, isr) in sorted(ps.items()):
            print(f'{t} partition {p}: leader {leader}, replicas {replicas}, isr {isr}')
            if len(replicas) != 3 or len(set(replicas)) != 3 or sorted(isr) != sorted(replicas):
                print(f'PROBLEM {t} partition {p}: not 3 replicas all in sync')
                ok = False
    return ok


if __name__ == '__main__':
    d, scenario = sys.argv[1], sys.argv[2]
    if scenario == 'two-leader-kills':
        dash = sys.argv.index('--')
        name, count, rate = sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        ok = two_leader_kills(d, name, count, rate, sys.argv[dash + 1:])
    elif scenario == 'topics-rf3':
        ok = topics_rf3(d, sys.argv[3:])
    elif scenario == 'group-coordinator-kill':
        ok = group_coordinator_kill(d, int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(f'no scenario {scenario}')
    sys.exit(0 if ok else 1)
