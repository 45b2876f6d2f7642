#!/usr/bin/env bash
# Kafka 4.4's own tools against a 3-node Samsa cluster (issue 11): three combined nodes
# (process.roles=broker,controller) started as separate processes with Kafka's property names on free
# ports, then kafka-metadata-quorum, kafka-topics, kafka-dump-log --cluster-metadata-decoder and the
# console producer/consumer, run as `java -cp ... <tool class>` from the Maven Central jars
# conformance/java/run.sh fetches. The checks (checks.sh, parse.py) were written against a real Kafka
# 4.4 cluster first (against-kafka.sh, reference/). See README.md.
source "$(dirname "$0")/../lib.sh"
conformance_init kraft-cluster
source "$(dirname "$0")/checks.sh"

command -v java >/dev/null && command -v mvn >/dev/null || {
  echo "installing Java 17 and Maven (Debian packages)"
  (apt-get update -qq && apt-get install -y -qq openjdk-17-jdk-headless maven) >"$CONF_CACHE/java-install.log" 2>&1 \
    || install_failed kraft-cluster "$CONF_CACHE/java-install.log"
}
if [ ! -f "$KAFKA_LIB/.complete" ]; then
  # the same jars as the java client's folder (its java_setup writes the pom and runs mvn)
  echo "fetching the Kafka $KAFKA_VERSION jars (conformance/java/run.sh's setup)"
  (source <(sed -n '/^java_setup()/,/^}/p' "$CONF_ROOT/java/run.sh"); DIR="$CONF_ROOT/java"; java_setup "$KAFKA_VERSION") \
    >"$CONF_CACHE/kraft-cluster-install.log" 2>&1 || install_failed kraft-cluster "$CONF_CACHE/kraft-cluster-install.log"
fi
# The rules below were checked on Kafka's own output; if they no longer accept it, nothing they say about
# Samsa means anything.
bash "$KRAFT_DIR/test-parse.sh" >"$CONF_CACHE/kraft-cluster-test-parse.log" 2>&1 \
  || install_failed kraft-cluster "$CONF_CACHE/kraft-cluster-test-parse.log"

NODE_IDS=1,2,3
declare -A PORT CPORT NODE_PID
for i in 1 2 3; do PORT[$i]="$(free_port)"; CPORT[$i]="$(free_port)"; done
VOTERS="1@127.0.0.1:${CPORT[1]},2@127.0.0.1:${CPORT[2]},3@127.0.0.1:${CPORT[3]}"
VOTER_ENDPOINTS="1=CONTROLLER://127.0.0.1:${CPORT[1]};2=CONTROLLER://127.0.0.1:${CPORT[2]};3=CONTROLLER://127.0.0.1:${CPORT[3]}"
BOOTSTRAP="127.0.0.1:${PORT[1]},127.0.0.1:${PORT[2]},127.0.0.1:${PORT[3]}"
SAMSA_DATA="$(mktemp -d /tmp/samsa-kraft-cluster.XXXXXX)"
# One log for the three nodes (each line names its node): check() shows the protocol trace of a failed
# check from it.
SAMSA_LOG="$SAMSA_DATA.log"
NODE1_DIR="$SAMSA_DATA/node-1"
DATA_ROOT="$SAMSA_DATA"
export SAMSA_DATA SAMSA_LOG BOOTSTRAP
: >"$SAMSA_LOG"

# start_node I: node I with Kafka's property names only, as `npm run cluster` starts it (plus the trace,
# no HTTP listener nor registry, so parallel runs do not contend for 8080/8081)
start_node() {
  local i="$1"
  (cd "${SAMSA_BROKER_DIR:-$REPO_ROOT}" && exec node --import tsx src/cli/main.ts start \
      --override "node.id=$i" \
      --override process.roles=broker,controller \
      --override "controller.quorum.voters=$VOTERS" \
      --override "listeners=PLAINTEXT://127.0.0.1:${PORT[$i]},CONTROLLER://127.0.0.1:${CPORT[$i]}" \
      --override controller.listener.names=CONTROLLER \
      --override "log.dirs=$SAMSA_DATA/node-$i" \
      --override samsa.http.listeners= \
      --override samsa.schema.registry.enable=false \
      --override samsa.protocol.trace=true \
      --override group.initial.rebalance.delay.ms=0) >>"$SAMSA_LOG" 2>&1 &
  NODE_PID[$i]=$!
  # A check runs in a subshell (lib.sh's check): a node it restarts is known to stop_cluster by this file.
  echo "$!" >"$SAMSA_DATA.node-$i.pid"
  disown "$!"
}

# kill_node I: kill -9 (leader-election-preferred restarts it with start_node)
kill_node() {
  local pid; pid="$(cat "$SAMSA_DATA.node-$1.pid" 2>/dev/null)"
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

stop_cluster() {
  local i
  for i in 1 2 3; do NODE_PID[$i]="$(cat "$SAMSA_DATA.node-$i.pid" 2>/dev/null)"; rm -f "$SAMSA_DATA.node-$i.pid"; done
  # all at once, as Kafka's nodes: a node's controlled shutdown needs a quorum to answer it
  for i in 1 2 3; do [ -n "${NODE_PID[$i]:-}" ] && kill -TERM "${NODE_PID[$i]}" 2>/dev/null; done
  for i in 1 2 3; do
    [ -n "${NODE_PID[$i]:-}" ] || continue
    for _ in $(seq 1 150); do kill -0 "${NODE_PID[$i]}" 2>/dev/null || break; sleep 0.2; done
    kill -9 "${NODE_PID[$i]}" 2>/dev/null
    NODE_PID[$i]=""
  done
  [ "${KRAFT_KEEP:-0}" = 1 ] && { echo "kept $SAMSA_DATA and $SAMSA_LOG"; return; }
  rm -rf "$SAMSA_DATA" "$SAMSA_LOG"
}
trap stop_cluster EXIT

java -version 2>&1 | head -1
for i in 1 2 3; do start_node "$i"; done
echo "samsa: 3 nodes, bootstrap $BOOTSTRAP, voters $VOTERS, data $SAMSA_DATA"
# cluster-start: the three nodes elect a controller, register and are unfenced: Metadata lists 3 brokers
cluster_start() {
  local i
  wait_brokers 3 "${KRAFT_START_TIMEOUT:-120}" && return 0
  for i in 1 2 3; do kill -0 "${NODE_PID[$i]}" 2>/dev/null || echo "node $i exited"; done
  return 1
}
check cluster-start cluster_start
if [ "$FAILED" -eq 0 ]; then
  run_kraft_checks
else
  # each tool would only wait for a cluster that is not there
  not_run() { echo "not run: the cluster did not start"; return 1; }
  log="$SAMSA_LOG"; SAMSA_LOG=""
  for s in $KRAFT_SCENARIOS; do check "$s" not_run; done
  SAMSA_LOG="$log"
fi
summary kraft-cluster
