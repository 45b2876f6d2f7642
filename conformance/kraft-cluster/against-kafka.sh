#!/usr/bin/env bash
# The kraft-cluster checks against a real 3-node Apache Kafka 4.4 KRaft cluster started from the same
# Maven Central jars the conformance suite uses (kafka.Kafka, one server.properties per node, combined
# broker,controller nodes with 3 static voters in controller.quorum.voters, each log dir formatted by
# kafka.tools.StorageTool). Every check must pass here: this is how the expectations of run.sh are
# checked to be Kafka's own behaviour rather than Samsa's. Not run in CI (three JVM brokers need about
# 1.5 GB and a minute to start); run it after changing checks.sh or parse.py.
#
#   bash conformance/kraft-cluster/against-kafka.sh            # the checks, all must pass
#   bash conformance/kraft-cluster/against-kafka.sh --record   # and rewrite reference/ with what Kafka printed
#
# Needs java and the Kafka 4.4.0 jars in ~/.cache/samsa-conformance/java/4.4.0/lib (conformance/java/run.sh
# fetches them). KRAFT_KEEP=1 keeps the cluster's directory (logs, data) for a look afterwards.
source "$(dirname "$0")/../lib.sh"
# Results of Kafka itself are not Samsa's: they stay out of .conformance/results.tsv and the report.
CONF_RESULTS=/dev/null
conformance_init kraft-cluster
# Against Kafka every scenario must pass, also those Samsa cannot do yet (not in expected.txt).
is_expected() { return 0; }
source "$(dirname "$0")/checks.sh"
RECORD=no
[ "${1:-}" = --record ] && RECORD=yes

[ -f "$KAFKA_LIB/.complete" ] || { echo "no Kafka $KAFKA_VERSION jars in $KAFKA_LIB: run conformance/java/run.sh once (it fetches them)"; exit 1; }
command -v java >/dev/null || { echo "java is missing (apt-get install openjdk-17-jdk-headless)"; exit 1; }

WORK="$(mktemp -d /tmp/kraft-kafka.XXXXXX)"
PIDS=()
stop_kafka() {
  local p i
  PIDS=()
  for i in 1 2 3; do [ -f "$WORK/node-$i.pid" ] && PIDS+=("$(cat "$WORK/node-$i.pid")"); done
  # all at once: a combined node's controlled shutdown needs the quorum, so stopping them one by one
  # would leave the last one waiting for a majority
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$p" 2>/dev/null
  done
  PIDS=()
  if [ "${KRAFT_KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap stop_kafka EXIT

NODE_IDS=1,2,3
declare -A PORT CPORT
for i in 1 2 3; do PORT[$i]="$(free_port)"; CPORT[$i]="$(free_port)"; done
VOTERS="1@127.0.0.1:${CPORT[1]},2@127.0.0.1:${CPORT[2]},3@127.0.0.1:${CPORT[3]}"
VOTER_ENDPOINTS="1=CONTROLLER://127.0.0.1:${CPORT[1]};2=CONTROLLER://127.0.0.1:${CPORT[2]};3=CONTROLLER://127.0.0.1:${CPORT[3]}"
BOOTSTRAP="127.0.0.1:${PORT[1]},127.0.0.1:${PORT[2]},127.0.0.1:${PORT[3]}"
NODE1_DIR="$WORK/node-1"
DATA_ROOT="$WORK"
# The example cluster id of Kafka's quickstart; any 22-character base64 UUID would do.
CLUSTER_ID=MkU3OEVBNTcwNTJENDM2Qg
for i in 1 2 3; do
  # Kafka's config/server.properties for a combined node, minus what the defaults already say
  cat >"$WORK/node-$i.properties" <<EOF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$VOTERS
listeners=PLAINTEXT://127.0.0.1:${PORT[$i]},CONTROLLER://127.0.0.1:${CPORT[$i]}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT[$i]}
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$WORK/node-$i
group.initial.rebalance.delay.ms=0
EOF
  # with static voters (controller.quorum.voters) the format takes neither --standalone nor --initial-controllers
  jvm kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$WORK/node-$i.properties" >"$WORK/format-$i.log" 2>&1 \
    || { cat "$WORK/format-$i.log"; exit 1; }
done
# start_node I / kill_node I: what leader-election-preferred uses to fail a node over and bring it back.
# A check runs in a subshell (lib.sh's check): the pid files let stop_kafka find a node it restarted.
start_node() {
  java -Xmx512m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.defaultLogLevel=info -cp "$KAFKA_LIB/*" \
    kafka.Kafka "$WORK/node-$1.properties" >>"$WORK/node-$1.log" 2>&1 &
  echo "$!" >"$WORK/node-$1.pid"
  disown "$!"
}
kill_node() {
  local pid; pid="$(cat "$WORK/node-$1.pid")"
  kill -9 "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}
for i in 1 2 3; do start_node "$i"; done
echo "Kafka $KAFKA_VERSION: 3 combined nodes, bootstrap $BOOTSTRAP, voters $VOTERS, logs in $WORK"
check cluster-start wait_brokers 3 180
if [ "$FAILED" -ne 0 ]; then
  for i in 1 2 3; do echo "node $i:"; grep -E ' (ERROR|WARN) ' "$WORK/node-$i.log" | tail -5; done
  summary kraft-cluster-against-kafka; exit 1
fi
if [ "$RECORD" = yes ]; then
  KRAFT_RECORD_DIR="$WORK/reference"; mkdir -p "$KRAFT_RECORD_DIR"; export KRAFT_RECORD_DIR
fi
run_kraft_checks
if [ "$RECORD" = yes ]; then
  if [ "$FAILED" -eq 0 ]; then
    REF="$(dirname "$0")/reference"
    rm -f "$REF"/*.txt "$REF"/cluster.env
    cp "$KRAFT_RECORD_DIR"/*.txt "$REF/"
    { echo "# The cluster reference/ was recorded from (against-kafka.sh --record): Kafka $KAFKA_VERSION, $(date -u +%Y-%m-%d)"
      echo "NODE_IDS=$NODE_IDS"
      echo "VOTER_ENDPOINTS='$VOTER_ENDPOINTS'"; } >"$REF/cluster.env"
    echo "wrote $(ls "$REF" | tr '\n' ' ')into $REF"
  else
    echo "not recording: a check failed against Kafka"
  fi
fi
summary kraft-cluster-against-kafka
