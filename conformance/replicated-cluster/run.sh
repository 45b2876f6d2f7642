#!/usr/bin/env bash
# Issue 12's acceptance items on a 3-node Samsa cluster of real processes (combined nodes, Kafka's property
# names only, as `npm run cluster` starts them): confluent-kafka-python, kafkajs and the Java client each
# write 100,000 numbered records with an idempotent acks=all producer to a topic with replication factor 3
# and min.insync.replicas=2 while the partition leader is killed with kill -9 twice; a consumer group of
# three members keeps consuming exactly once (committed offsets) while its coordinator is killed; PySpark's
# seed examples run against the cluster with replication factor 3. harness.py does the scenarios,
# cluster.py the nodes. See README.md.
source "$(dirname "$0")/../lib.sh"
conformance_init replicated-cluster
DIR="$(cd "$(dirname "$0")" && pwd)"
KAFKA_VERSION=4.4.0
PYSPARK_VERSION=3.5.7
KAFKA_LIB="$CONF_CACHE/java/$KAFKA_VERSION/lib"
CLASSES="$CONF_CACHE/replicated-cluster/classes"
INSTALL_LOG="$CONF_CACHE/replicated-cluster-install.log"
: >"$INSTALL_LOG"

# What the other folders install, from their own scripts and into their caches, so nothing is fetched twice:
# Java 17 and Maven, Kafka's jars (../java's java_setup), confluent-kafka (as ../confluent-kafka-python),
# kafkajs (the repo's devDependency), PySpark and its Kafka jars (../pyspark's pyspark_setup).
command -v java >/dev/null && command -v mvn >/dev/null || {
  echo "installing Java 17 and Maven (Debian packages)"
  (apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless maven) >>"$INSTALL_LOG" 2>&1 \
    || install_failed replicated-cluster "$INSTALL_LOG"
}
if [ ! -f "$KAFKA_LIB/.complete" ]; then
  echo "fetching the Kafka $KAFKA_VERSION jars (conformance/java/run.sh's setup)"
  (source <(sed -n '/^java_setup()/,/^}/p' "$CONF_ROOT/java/run.sh"); DIR="$CONF_ROOT/java"; java_setup "$KAFKA_VERSION") \
    >>"$INSTALL_LOG" 2>&1 || install_failed replicated-cluster "$INSTALL_LOG"
fi
if [ ! -f "$CLASSES/ProduceNumbered.class" ] || [ "$DIR/ProduceNumbered.java" -nt "$CLASSES/ProduceNumbered.class" ]; then
  mkdir -p "$CLASSES"
  javac -nowarn -d "$CLASSES" -cp "$KAFKA_LIB/*" "$DIR/ProduceNumbered.java" >>"$INSTALL_LOG" 2>&1 \
    || install_failed replicated-cluster "$INSTALL_LOG"
fi
if ! python3 -c 'import confluent_kafka' 2>/dev/null; then
  echo "installing confluent-kafka from PyPI"
  python3 -m pip install -q confluent-kafka >>"$INSTALL_LOG" 2>&1 || install_failed replicated-cluster "$INSTALL_LOG"
fi
if [ ! -d "$REPO_ROOT/node_modules/kafkajs" ]; then
  echo "installing the repo's npm dependencies (npm ci)"
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund) >>"$INSTALL_LOG" 2>&1 || install_failed replicated-cluster "$INSTALL_LOG"
fi
t0=$SECONDS
(source <(sed -n '/^pyspark_setup()/,/^}/p' "$CONF_ROOT/pyspark/run.sh"); pyspark_setup "$PYSPARK_VERSION") \
  || install_failed replicated-cluster "$CONF_CACHE/pyspark-install-$PYSPARK_VERSION.log"
echo "pyspark $PYSPARK_VERSION ready ($((SECONDS - t0)) s)"
python3 -c 'import confluent_kafka as c; v = c.version(); print("confluent-kafka", v[0] if isinstance(v, tuple) else v, "librdkafka", c.libversion()[0])'
echo "kafkajs $(node -p "require('$REPO_ROOT/node_modules/kafkajs/package.json').version"), kafka-clients $KAFKA_VERSION, $(java -version 2>&1 | head -1)"

# The checks below must be able to fail: test_harness.py feeds them wrong results first.
python3 "$DIR/test_harness.py" >"$CONF_CACHE/replicated-cluster-test-harness.log" 2>&1 \
  || install_failed replicated-cluster "$CONF_CACHE/replicated-cluster-test-harness.log"

SAMSA_DATA="$(mktemp -d /tmp/samsa-replicated-cluster.XXXXXX)"
# One log for the three nodes: check() shows the protocol trace of a failed check from it.
SAMSA_LOG="$SAMSA_DATA.log"
export SAMSA_DATA SAMSA_LOG REPO_ROOT
: >"$SAMSA_LOG"
stop_cluster() {
  python3 "$DIR/cluster.py" stop "$SAMSA_DATA"
  [ "${REPLICATED_KEEP:-0}" = 1 ] && { echo "kept $SAMSA_DATA and $SAMSA_LOG"; return; }
  rm -rf "$SAMSA_DATA" "$SAMSA_LOG"
}
trap stop_cluster EXIT

check cluster-start python3 "$DIR/cluster.py" start "$SAMSA_DATA" "$SAMSA_LOG"
if [ "$FAILED" -ne 0 ]; then
  not_run() { echo "not run: the cluster did not start"; return 1; }
  log="$SAMSA_LOG"; SAMSA_LOG=""
  for s in python-100k-two-leader-kills kafkajs-100k-two-leader-kills java-100k-two-leader-kills \
      group-exactly-once-coordinator-kill pyspark-seed-examples-rf3; do check "$s" not_run; done
  SAMSA_LOG="$log"
  summary replicated-cluster
  exit
fi
BOOTSTRAP="$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['bootstrap'])" "$SAMSA_DATA/cluster.json")"
echo "bootstrap $BOOTSTRAP"

# Records, and records a second handed to the producer: the kills fall while records are in flight.
COUNT="${REPLICATED_RECORDS:-100000}"
RATE="${REPLICATED_RATE:-5000}"
harness() { timeout 420 python3 "$DIR/harness.py" "$SAMSA_DATA" "$@"; }
check python-100k-two-leader-kills harness two-leader-kills python-100k "$COUNT" "$RATE" -- \
  python3 "$DIR/produce_python.py"
check kafkajs-100k-two-leader-kills harness two-leader-kills kafkajs-100k "$COUNT" "$RATE" -- \
  node --import tsx "$DIR/produce-kafkajs.ts"
check java-100k-two-leader-kills harness two-leader-kills java-100k "$COUNT" "$RATE" -- \
  java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp "$CLASSES:$KAFKA_LIB/*" ProduceNumbered
check group-exactly-once-coordinator-kill harness group-coordinator-kill 30000 600

# PySpark's seed examples (../pyspark/scenarios.py: the batch write to meu-topico read back, the streaming
# read) in one Spark session, then the topics Spark created (no replication factor named: the cluster's
# default.replication.factor) have 3 replicas in sync.
pyspark_rf3() {
  local jars
  jars="$(ls "$CONF_CACHE/pyspark-$PYSPARK_VERSION-jars"/*.jar | paste -sd, -)"
  timeout 300 "$CONF_CACHE/pyspark-$PYSPARK_VERSION/bin/python" "$CONF_ROOT/pyspark/scenarios.py" "$BOOTSTRAP" \
    batch-write-read,structured-streaming "$jars" || return 1
  harness topics-rf3 meu-topico meu-topico-stream
}
check pyspark-seed-examples-rf3 pyspark_rf3
summary replicated-cluster
