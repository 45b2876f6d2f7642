"""One member of harness.py's consumer group (confluent-kafka-python, manual commit after processing).

Usage: group_member.py BOOTSTRAP TOPIC GROUP MEMBER LOGFILE STOPFILE RATE
Consumes TOPIC in GROUP until STOPFILE (or STOPFILE.MEMBER: this member only) exists, then leaves the group
(close), at most RATE records a second. "Processing" a record is
writing `P <time ns> <partition> <offset> <value>` to LOGFILE (flushed); after each batch the offsets of
what was processed are committed synchronously, and each partition whose commit succeeded is logged as
`C <time ns, after the commit returned> <partition> <committed offset>`; a failed commit as `E ...`.
Records of a partition this member no longer owns are not processed; on revocation (eager, range
assignor: Kafka's default for this client) what was processed is committed first, as Kafka's documentation
says a rebalance listener should.
"""
import os
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition

bootstrap, topic, group, member, logfile, stopfile, rate = sys.argv[1:8]
rate = float(rate)
log = open(logfile, 'w', buffering=1)
assigned = set()
pending = {}  # partition -> offset after the last processed record, not committed yet


def now():
    return time.time_ns()


def commit(parts):
    offsets = [TopicPartition(topic, p, pending[p]) for p in sorted(parts) if p in pending]
    if not offsets:
        return
    try:
        result = c.commit(offsets=offsets, asynchronous=False)
    except KafkaException as e:
        log.write(f'E {now()} commit {[(o.partition, o.offset) for o in offsets]}: {e}\n')
        return
    t = now()
    for tp in result:
        if tp.error is None:
            log.write(f'C {t} {tp.partition} {tp.offset}\n')
            if pending.get(tp.partition) == tp.offset:
                del pending[tp.partition]
        else:
            log.write(f'E {t} commit {tp.partition} {tp.offset}: {tp.error}\n')


def on_assign(consumer, parts):
    assigned.update(p.partition for p in parts)
    log.write(f'A {now()} {sorted(p.partition for p in parts)}\n')


def on_revoke(consumer, parts):
    revoked = {p.partition for p in parts}
    commit(revoked)
    for p in revoked:
        assigned.discard(p)
        pending.pop(p, None)
    log.write(f'R {now()} {sorted(revoked)}\n')


def on_lost(consumer, parts):
    # the member left the group (session expired): another member may own these already, commit nothing
    for p in parts:
        assigned.discard(p.partition)
        pending.pop(p.partition, None)
    log.write(f'L {now()} {sorted(p.partition for p in parts)}\n')


c = Consumer({
    'bootstrap.servers': bootstrap,
    'group.id': group,
    'client.id': member,
    'enable.auto.commit': False,
    'auto.offset.reset': 'earliest',
    # its "Connect ... refused" lines while the coordinator is down drown the member's own
    'log_level': 2,
})
c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_lost)
processed = 0
t0 = None
while not os.path.exists(stopfile) and not os.path.exists(f'{stopfile}.{member}'):
    msgs = c.consume(num_messages=100, timeout=0.5)
    for m in msgs:
        if m.error():
            log.write(f'X {now()} {m.error()}\n')
            continue
        if m.partition() not in assigned:
            continue
        log.write(f'P {now()} {m.partition()} {m.offset()} {m.value().decode()}\n')
        pending[m.partition()] = m.offset() + 1
        processed += 1
    commit(list(pending))
    if processed:
        t0 = t0 or time.time()
        ahead = t0 + processed / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
c.close()
log.close()
print(f'{member}: processed {processed}')
