#!/usr/bin/env python3
"""The fault suite's confluent-kafka-python (librdkafka) clients; see faults/workload.ts.

usage: workload.py ROLE BOOTSTRAP TOPIC PARTITIONS CLIENT [DEADLINE_SECONDS | ACKS]

ROLE produce: an idempotent producer (acks=all) writing unique values CLIENT:N round-robin over the
              partitions until SIGTERM, then flushing what is in flight. ACKS 1 (default -1): a plain
              acks=1 producer instead (idempotence needs acks=all), for the weakened workload.
ROLE assign:  an assign-style reader of every partition from the beginning (no group management), until SIGTERM.
ROLE final:   reads every partition from its log start to its high watermark, then exits; a partition it
              could not finish before DEADLINE_SECONDS (default 120) gets no final-end line.

Each operation is one JSON line on stdout, in faults/history.ts's Op shape, timestamped in ms.
"""
import json
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING

role, bootstrap, topic, partitions, client = sys.argv[1:6]
partitions = int(partitions)
running = True


def now():
    return int(time.time() * 1000)


def emit(op):
    sys.stdout.write(json.dumps(op) + "\n")
    sys.stdout.flush()


def on_term(_sig, _frame):
    global running
    running = False


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


def error_cb(err):
    emit({"type": "error", "t": now(), "client": client, "error": str(err)[:300]})


def produce():
    acks = int(sys.argv[6]) if len(sys.argv) > 6 else -1
    idempotent = acks == -1
    conf = {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": idempotent,
        "acks": "all" if idempotent else "1",
        "linger.ms": 5,
        "message.timeout.ms": 60000,
        "request.timeout.ms": 10000,
        "error_cb": error_cb,
        "log_level": 3,
    }
    producer = Producer(conf)
    seq = 0

    def delivered(value):
        def cb(err, msg):
            if err is not None:
                emit({"type": "send-error", "t": now(), "client": client, "value": value, "error": str(err)[:300]})
            else:
                emit({"type": "ack", "t": now(), "client": client, "partition": msg.partition(), "offset": msg.offset(), "value": value})
        return cb

    while running:
        value = "%s:%d" % (client, seq)
        seq += 1
        partition = seq % partitions
        emit({"type": "send", "t": now(), "client": client, "workload": "python-idempotent" if idempotent else "python-acks1", "idempotent": idempotent, "partition": partition, "value": value})
        try:
            producer.produce(topic, value=value.encode(), partition=partition, on_delivery=delivered(value))
        except (BufferError, KafkaException) as e:
            emit({"type": "send-error", "t": now(), "client": client, "value": value, "error": str(e)[:300]})
            if isinstance(e, KafkaException) and e.args and e.args[0].fatal():
                # A fatal idempotence error: the producer cannot continue; a new one gets a new producer id.
                producer.flush(10)
                producer = Producer(conf)
        # Keep at most a few records in flight so sends and acks stay close in time.
        while running and len(producer) > 20:
            producer.poll(0.05)
        producer.poll(0.01)
    producer.flush(30)


def reader_conf(group):
    return {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": True,
        "error_cb": error_cb,
        "log_level": 3,
    }


def assign():
    consumer = Consumer(reader_conf("faults-assign-" + client))
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
    while running:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                emit({"type": "error", "t": now(), "client": client, "error": str(msg.error())[:300]})
            continue
        emit({"type": "read", "t": now(), "client": client, "mode": "assign", "partition": msg.partition(), "offset": msg.offset(), "value": msg.value().decode()})
    consumer.close()


def final():
    deadline = time.time() + (float(sys.argv[6]) if len(sys.argv) > 6 else 120.0)
    consumer = Consumer(reader_conf("faults-final-" + client))
    for p in range(partitions):
        tp = TopicPartition(topic, p)
        low = high = None
        while time.time() < deadline:
            try:
                low, high = consumer.get_watermark_offsets(tp, timeout=5)
                break
            except KafkaException as e:
                emit({"type": "error", "t": now(), "client": client, "error": "watermarks %d: %s" % (p, str(e)[:200])})
                time.sleep(0.5)
        if high is None:
            continue
        if high <= low:
            emit({"type": "final-end", "t": now(), "partition": p, "logStart": low, "end": high})
            continue
        consumer.assign([TopicPartition(topic, p, low)])
        last = low - 1
        while time.time() < deadline and last < high - 1:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    emit({"type": "error", "t": now(), "client": client, "error": str(msg.error())[:300]})
                continue
            last = msg.offset()
            emit({"type": "read", "t": now(), "client": client, "mode": "final", "partition": p, "offset": last, "value": msg.value().decode()})
        if last >= high - 1:
            emit({"type": "final-end", "t": now(), "partition": p, "logStart": low, "end": high})
        consumer.unassign()
    consumer.close()


{"produce": produce, "assign": assign, "final": final}[role]()
