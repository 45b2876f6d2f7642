#!/usr/bin/env bash
# Recaptures test/vectors/kafka/cluster-metadata-kafka-<v>/: a real KRaft metadata log written by Apache
# Kafka itself (one node, process.roles=broker,controller, formatted --standalone), for the byte-level
# tests of protocol/metadata/ (test/protocol/metadata-records-vs-kafka.test.ts decodes every record of it
# with our declarations and re-encodes it byte for byte), with Kafka's own kafka-dump-log.sh output for it
# (kafka-dump-log.txt), which `samsa dump-log --cluster-metadata-decoder` must reproduce line for line; and the
# bootstrap snapshot `kafka-storage format --standalone` wrote (00000000000000000000-0000000000.checkpoint,
# with kafka-dump-checkpoint.txt).
#
# What the broker is made to write, so the segment holds most record types: a topic with 2 partitions
# (TopicRecord, PartitionRecord), a topic config (ConfigRecord), an idempotent producer
# (ProducerIdsRecord), a deleted topic (RemoveTopicRecord), the controller's periodic NoOpRecord, the
# start-up FeatureLevelRecords, RegisterControllerRecord, RegisterBrokerRecord and the unfencing, and on
# SIGTERM the controlled shutdown (BrokerRegistrationChangeRecord). Control batches: LeaderChangeMessage,
# and with --standalone the KRaftVersionRecord and VotersRecord.
#
# Needs java and mvn (the jars come from Maven Central through the conformance suite's cache, as
# conformance/java/run.sh fetches them). Run: bash conformance/tools/capture-cluster-metadata.sh
set -euo pipefail
V="${KAFKA_VERSION:-4.4.0}"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CONF_CACHE="${SAMSA_CONFORMANCE_CACHE:-$HOME/.cache/samsa-conformance}"
LIB="$CONF_CACHE/java/$V/lib"
[ -f "$LIB/.complete" ] || { echo "no Kafka $V jars in $LIB: run conformance/java/run.sh once (it fetches them)"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
WORK="$(mktemp -d /tmp/samsa-capture-metadata.XXXXXX)"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
PORT="$(free_port)"; CPORT="$(free_port)"
cat >"$WORK/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$WORK/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
cat >"$WORK/log4j2.properties" <<EOF
status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
EOF
jvm() { timeout 120 java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$WORK/log4j2.properties" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$LIB/*" "$@"; }
# A fixed cluster id (the example of Kafka's quickstart), so a recapture differs only where Kafka's own
# randomness (incarnation, topic and directory ids, timestamps) does.
CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qg
jvm kafka.tools.StorageTool format --standalone -t "$CLUSTER_ID" -c "$WORK/server.properties" >"$WORK/format.log" 2>&1 || { cat "$WORK/format.log"; exit 1; }
# The bootstrap snapshot the format wrote (SnapshotHeader, KRaftVersion, KRaftVoters, the FeatureLevelRecords,
# SnapshotFooter), kept before the broker runs.
SNAPSHOT=00000000000000000000-0000000000.checkpoint
cp "$WORK/data/__cluster_metadata-0/$SNAPSHOT" "$WORK/"
java -Xmx512m -XX:+UseSerialGC -Dlog4j2.configurationFile="$WORK/log4j2.properties" -cp "$LIB/*" kafka.Kafka "$WORK/server.properties" >"$WORK/broker.log" 2>&1 &
PID=$!
BS="127.0.0.1:$PORT"
for i in $(seq 1 120); do
  jvm org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --list >/dev/null 2>&1 && break
  sleep 1
  [ "$i" = 120 ] && { tail -30 "$WORK/broker.log"; echo "Kafka did not answer"; exit 1; }
done
jvm org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic golden --partitions 2 --replication-factor 1
jvm org.apache.kafka.tools.ConfigCommand --bootstrap-server "$BS" --alter --entity-type topics --entity-name golden --add-config retention.ms=3600000
echo hello | jvm org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$BS" --topic golden --producer-property enable.idempotence=true
jvm org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --create --topic doomed --partitions 1 --replication-factor 1
jvm org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" --delete --topic doomed
# Controlled shutdown writes the last records; wait for the process to end so the segment is complete.
kill -TERM "$PID"; wait "$PID" || true; PID=""
OUT="$REPO_ROOT/test/vectors/kafka/cluster-metadata-kafka-$V/__cluster_metadata-0"
rm -rf "$(dirname "$OUT")"; mkdir -p "$OUT"
cp "$WORK/data/__cluster_metadata-0/00000000000000000000.log" "$OUT/"
cp "$WORK/$SNAPSHOT" "$OUT/" && chmod 644 "$OUT/$SNAPSHOT"
# Kafka's own kafka-dump-log.sh --cluster-metadata-decoder output for that segment (the path relative), the
# expected output of `samsa dump-log` (test/cli/dump-log-cluster-metadata.test.ts).
(cd "$(dirname "$OUT")" && jvm org.apache.kafka.tools.DumpLogSegments --cluster-metadata-decoder \
  --files __cluster_metadata-0/00000000000000000000.log) >"$(dirname "$OUT")/kafka-dump-log.txt"
(cd "$(dirname "$OUT")" && jvm org.apache.kafka.tools.DumpLogSegments --cluster-metadata-decoder \
  --files "__cluster_metadata-0/$SNAPSHOT") >"$(dirname "$OUT")/kafka-dump-checkpoint.txt"
ls -l "$OUT" "$(dirname "$OUT")"
