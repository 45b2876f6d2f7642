# The checks of the kraft-cluster folder, shared by run.sh (against a 3-node Samsa cluster) and
# against-kafka.sh (the same checks against a 3-node Apache Kafka 4.4 cluster, to keep the expectations
# Kafka's, not Samsa's). Sourced after lib.sh. Needs: BOOTSTRAP (all three client listeners), NODE_IDS
# (1,2,3), DATA_ROOT (node I's log dir is DATA_ROOT/node-I), NODE1_DIR (node 1's log dir), VOTER_ENDPOINTS ("1=CONTROLLER://127.0.0.1:Q1;2=..."),
# and the functions kill_node I (kill -9) and start_node I (start it again on its data).
# KRAFT_RECORD_DIR: when set, each check's tool output is also written there (against-kafka.sh --record
# uses it to refresh reference/).
KAFKA_VERSION="${KRAFT_KAFKA_VERSION:-4.4.0}"
KRAFT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_LIB="$CONF_CACHE/java/$KAFKA_VERSION/lib"

jvm() {
  timeout 120 java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$KAFKA_LIB/*" "$@"
}

# What bin/kafka-*.sh runs in Kafka 4.x.
tool() {
  local name="$1" cls; shift
  case "$name" in
    metadata-quorum) cls=org.apache.kafka.tools.MetadataQuorumCommand ;;
    topics) cls=org.apache.kafka.tools.TopicCommand ;;
    dump-log) cls=org.apache.kafka.tools.DumpLogSegments ;;
    broker-api-versions) cls=org.apache.kafka.tools.BrokerApiVersionsCommand ;;
    console-producer) cls=org.apache.kafka.tools.ConsoleProducer ;;
    console-consumer) cls=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    leader-election) cls=org.apache.kafka.tools.LeaderElectionCommand ;;
    *) echo "no tool $name"; return 2 ;;
  esac
  jvm "$cls" "$@"
}

parse() { python3 "$KRAFT_DIR/parse.py" "$@"; }

# record NAME FILE: keeps a tool's output as reference/NAME.txt when recording
record() {
  [ -n "${KRAFT_RECORD_DIR:-}" ] && cp "$2" "$KRAFT_RECORD_DIR/$1.txt"
  return 0
}

# wait_brokers N SECONDS: until kafka-broker-api-versions lists N brokers (the ones Metadata returns:
# registered and unfenced)
wait_brokers() {
  local n="$1" deadline=$((SECONDS + $2)) out got=0
  while [ "$SECONDS" -lt "$deadline" ]; do
    out="$(tool broker-api-versions --bootstrap-server "$BOOTSTRAP" 2>/dev/null)"
    got="$(echo "$out" | grep -cE '^[0-9.]+:[0-9]+ \(id: [0-9]+ rack: ')"
    [ "$got" -eq "$n" ] && { echo "$out" | grep -E '^[0-9.]+:[0-9]+ \(id: '; return 0; }
    sleep 1
  done
  echo "Metadata lists $got brokers, not $n, after $2 s"
  echo "$out" | grep -E '^[0-9.]+:[0-9]+ \(id: '
  return 1
}

# create_topic T PARTITIONS: kafka-topics --create --replication-factor 3, then waits (30 s) until
# --describe shows every partition with a leader
create_topic() {
  local t="$1" n="$2" out deadline=$((SECONDS + 30))
  tool topics --bootstrap-server "$BOOTSTRAP" --create --topic "$t" --partitions "$n" --replication-factor 3 || return 1
  while [ "$SECONDS" -lt "$deadline" ]; do
    out="$(tool topics --bootstrap-server "$BOOTSTRAP" --describe --topic "$t" 2>&1)"
    [ "$(echo "$out" | grep -cE "Partition: [0-9]+	Leader: [0-9]+	")" -eq "$n" ] && return 0
    sleep 1
  done
  echo "--describe after 30 s: $out"
  return 1
}

# kafka-metadata-quorum describe --status: leader among the voters, epoch, high watermark, the voters
# with their CONTROLLER endpoints, no observers
quorum_status() {
  local w; w="$(mktemp)"
  tool metadata-quorum --bootstrap-server "$BOOTSTRAP" describe --status >"$w" 2>"$w.err" || { cat "$w" "$w.err"; rm -f "$w" "$w.err"; return 1; }
  cat "$w"; record quorum-status "$w"
  parse quorum-status "$w" "$NODE_IDS" "$VOTER_ENDPOINTS"; local rc=$?
  rm -f "$w" "$w.err"; return $rc
}

# kafka-metadata-quorum --bootstrap-controller (KIP-919: DescribeCluster, then DescribeQuorum, straight to
# the CONTROLLER listeners) describe --status: the same rules as through the brokers
quorum_status_controllers() {
  local w controllers; w="$(mktemp)"
  controllers="$(echo "$VOTER_ENDPOINTS" | tr ';' '\n' | sed 's|^[0-9]*=CONTROLLER://||' | paste -sd, -)"
  tool metadata-quorum --bootstrap-controller "$controllers" describe --status >"$w" 2>"$w.err" || { cat "$w" "$w.err"; rm -f "$w" "$w.err"; return 1; }
  cat "$w"; record quorum-status-bootstrap-controller "$w"
  parse quorum-status "$w" "$NODE_IDS" "$VOTER_ENDPOINTS"; local rc=$?
  rm -f "$w" "$w.err"; return $rc
}

# kafka-metadata-quorum describe --replication: one row per voter, a Leader and Followers with their
# LogEndOffset and Lag
quorum_replication() {
  local w; w="$(mktemp)"
  tool metadata-quorum --bootstrap-server "$BOOTSTRAP" describe --replication >"$w" 2>"$w.err" || { cat "$w" "$w.err"; rm -f "$w" "$w.err"; return 1; }
  cat "$w"; record quorum-replication "$w"
  parse quorum-replication "$w" "$NODE_IDS"; local rc=$?
  rm -f "$w" "$w.err"; return $rc
}

# kafka-topics --create --replication-factor 3 --partitions 3, --describe: Leader/Replicas/Isr of each
# partition, 3 replicas all in sync, leaders spread
topics_rf3() {
  local t="kraft-rf3-$RANDOM$RANDOM" w; w="$(mktemp)"
  create_topic "$t" 3 || { rm -f "$w"; return 1; }
  tool topics --bootstrap-server "$BOOTSTRAP" --describe --topic "$t" >"$w" 2>&1 || { cat "$w"; rm -f "$w"; return 1; }
  cat "$w"; sed "s/$t/kraft-rf3/g" "$w" >"$w.rec"; record topics-describe "$w.rec"
  parse topics-describe "$w" "$t" 3 "$NODE_IDS"; local rc=$?
  rm -f "$w" "$w.rec"; return $rc
}

# kafka-dump-log --cluster-metadata-decoder on node 1's metadata segment: Kafka's decoder reads it
# without an exception; the brokers' RegisterBrokerRecords, the new topic's TopicRecord and its
# PartitionRecords with the replicas kafka-topics --describe shows. Node 1 may be a follower: waits (30 s)
# until its segment has the topic.
dump_log() {
  local t="kraft-dump-$RANDOM$RANDOM" w id deadline=$((SECONDS + 30)) rc=1
  w="$(mktemp)"
  create_topic "$t" 3 || { rm -f "$w"; return 1; }
  tool topics --bootstrap-server "$BOOTSTRAP" --describe --topic "$t" >"$w.describe" 2>&1
  while :; do
    (cd "$NODE1_DIR" && tool dump-log --cluster-metadata-decoder --files __cluster_metadata-0/00000000000000000000.log) >"$w" 2>&1
    rc=$?
    [ "$rc" -eq 0 ] && grep -q "\"name\":\"$t\"" "$w" && break
    [ "$SECONDS" -ge "$deadline" ] && break
    sleep 1
  done
  id="$(grep -o "\"name\":\"$t\",\"topicId\":\"[^\"]*" "$w" | sed 's/.*"topicId":"//')"
  grep -v '^| ' "$w" | head -3; echo "..."
  grep -E "REGISTER_BROKER_RECORD|\"name\":\"$t\"${id:+|$id}" "$w" | cut -c1-300
  if [ "$rc" -ne 0 ]; then echo "kafka-dump-log exited $rc"; tail -20 "$w"; rm -f "$w" "$w.describe"; return 1; fi
  sed "s/$t/kraft-dump/g" "$w" >"$w.rec"; record dump-log "$w.rec"
  sed "s/$t/kraft-dump/g" "$w.describe" >"$w.rec"; record dump-log-topics-describe "$w.rec"
  parse dump-log "$w" "$t" 3 "$NODE_IDS" "$w.describe"; rc=$?
  rm -f "$w" "$w.describe" "$w.rec"; return $rc
}

# 100 records through the console producer with the given acks to a 3-partition topic of replication
# factor 3, read back by the console consumer (a consumer group on __consumer_offsets, replication
# factor 3 too): the same 100 values; then the three copies of each partition are identical.
produce_consume() {
  local acks="$1" t="kraft-acks$1-$RANDOM$RANDOM" w
  w="$(mktemp -d)"
  create_topic "$t" 3 || { rm -rf "$w"; return 1; }
  for i in $(seq 1 100); do echo "record-$i acks=$acks"; done >"$w/in.txt"
  tool console-producer --bootstrap-server "$BOOTSTRAP" --topic "$t" --command-property "acks=$acks" \
    --command-property delivery.timeout.ms=30000 --command-property request.timeout.ms=10000 <"$w/in.txt" \
    || { echo "console-producer failed"; rm -rf "$w"; return 1; }
  tool console-consumer --bootstrap-server "$BOOTSTRAP" --topic "$t" --from-beginning --max-messages 100 \
    --timeout-ms 30000 >"$w/out.txt" || { echo "console-consumer failed after $(wc -l <"$w/out.txt") records"; rm -rf "$w"; return 1; }
  sort "$w/in.txt" >"$w/in.sorted"; sort "$w/out.txt" >"$w/out.sorted"
  if ! cmp -s "$w/in.sorted" "$w/out.sorted"; then
    echo "read back $(wc -l <"$w/out.txt") records, not the 100 produced:"; diff "$w/in.sorted" "$w/out.sorted" | head -10
    rm -rf "$w"; return 1
  fi
  echo "100 records produced with acks=$acks and read back"
  rm -rf "$w"
  replicas_identical "$t" 3
}

# replicas_identical T PARTITIONS: every node's copy of each partition's first segment is byte for byte
# the leader's (followers append the leader's batches as they are). Polls 10 s: a consumer that read
# everything proves the high watermark, hence every ISR member, reached the end.
replicas_identical() {
  local t="$1" n="$2" p i deadline=$((SECONDS + 10)) seg differ
  while :; do
    differ=""
    for p in $(seq 0 $((n - 1))); do
      seg="$t-$p/00000000000000000000.log"
      for i in 2 3; do
        cmp -s "$DATA_ROOT/node-1/$seg" "$DATA_ROOT/node-$i/$seg" || differ="$differ $seg(node-1 vs node-$i)"
      done
    done
    [ -z "$differ" ] && break
    [ "$SECONDS" -ge "$deadline" ] && { echo "replicas differ after 10 s:$differ"; ls -l "$DATA_ROOT"/node-*/"$t"-*/00000000000000000000.log; return 1; }
    sleep 0.5
  done
  echo "the three replicas of each partition are identical: $(for p in $(seq 0 $((n - 1))); do stat -c %s "$DATA_ROOT/node-1/$t-$p/00000000000000000000.log"; done | paste -sd' ' -) bytes"
}

# describe_topic T FILE: kafka-topics --describe --topic T into FILE
describe_topic() { tool topics --bootstrap-server "$BOOTSTRAP" --describe --topic "$1" >"$2" 2>&1; }

# partition_field FILE P FIELD: the FIELD column (Leader, Replicas, Isr) of partition P in a --describe output
partition_field() {
  awk -F'\t' -v p="Partition: $2" -v f="$3: " '{ hit = 0; for (i = 1; i <= NF; i++) if ($i == p) hit = 1
    if (hit) for (i = 1; i <= NF; i++) if (index($i, f) == 1) print substr($i, length(f) + 1) }' "$1"
}

# kafka-leader-election --election-type preferred (org.apache.kafka.tools.LeaderElectionCommand) after a
# failover: a 3-partition topic of replication factor 3, each partition led by its first replica; kill -9
# of the node leading partition 0 moves it to another ISR member (60 s); the node restarts and rejoins the
# ISR (120 s), and partition 0 stays where it moved (automatic rebalancing is 300 s away). The tool, given
# the topic's three partitions (--path-to-json-file), elects partition 0 and reports the other two as
# already led by their preferred replica; --describe then shows every partition led by its first replica
# (the topics-create-describe-rf3 rules, polled 30 s), and the tool again for partition 0 has nothing to do.
leader_election_preferred() {
  local t="kraft-elect-$RANDOM$RANDOM" w victim leader isr deadline rc
  w="$(mktemp -d)"
  create_topic "$t" 3 || { rm -rf "$w"; return 1; }
  describe_topic "$t" "$w/before.txt"
  victim="$(partition_field "$w/before.txt" 0 Leader)"
  if ! [[ "$victim" =~ ^[0-9]+$ ]] || [ "$victim" != "$(partition_field "$w/before.txt" 0 Replicas | cut -d, -f1)" ]; then
    echo "$t-0 is not led by its preferred replica:"; cat "$w/before.txt"; rm -rf "$w"; return 1
  fi
  echo "kill -9 of node $victim, leader and preferred replica of $t-0"
  kill_node "$victim"
  deadline=$((SECONDS + 60))
  while :; do
    describe_topic "$t" "$w/moved.txt"
    leader="$(partition_field "$w/moved.txt" 0 Leader)"
    [[ "$leader" =~ ^[0-9]+$ ]] && [ "$leader" != "$victim" ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then echo "$t-0 still led by '$leader' 60 s after the kill:"; cat "$w/moved.txt"; start_node "$victim"; rm -rf "$w"; return 1; fi
    sleep 1
  done
  echo "$t-0 failed over to node $leader; node $victim starts again"
  start_node "$victim"
  deadline=$((SECONDS + 120))
  while :; do
    describe_topic "$t" "$w/moved.txt"
    isr="$(partition_field "$w/moved.txt" 0 Isr)"
    [ "$(echo "$isr" | tr ',' '\n' | grep -c .)" -eq 3 ] && break
    if [ "$SECONDS" -ge "$deadline" ]; then echo "node $victim not back in the ISR of $t-0 after 120 s:"; cat "$w/moved.txt"; rm -rf "$w"; return 1; fi
    sleep 1
  done
  cat "$w/moved.txt"; sed "s/$t/kraft-elect/g" "$w/moved.txt" >"$w/rec"; record leader-election-moved "$w/rec"
  parse partition-moved "$w/moved.txt" "$t" 0 "$NODE_IDS" || { rm -rf "$w"; return 1; }
  printf '{"partitions": [{"topic": "%s", "partition": 0}, {"topic": "%s", "partition": 1}, {"topic": "%s", "partition": 2}]}\n' "$t" "$t" "$t" >"$w/partitions.json"
  tool leader-election --bootstrap-server "$BOOTSTRAP" --election-type preferred --path-to-json-file "$w/partitions.json" >"$w/elect.txt" 2>&1
  rc=$?
  cat "$w/elect.txt"; sed "s/$t/kraft-elect/g" "$w/elect.txt" >"$w/rec"; record leader-election-json "$w/rec"
  [ "$rc" -eq 0 ] || { echo "kafka-leader-election exited $rc"; rm -rf "$w"; return 1; }
  parse leader-election "$w/elect.txt" "$t-0" "$t-1,$t-2" || { rm -rf "$w"; return 1; }
  deadline=$((SECONDS + 30))
  until describe_topic "$t" "$w/after.txt" && parse topics-describe "$w/after.txt" "$t" 3 "$NODE_IDS" >/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then cat "$w/after.txt"; parse topics-describe "$w/after.txt" "$t" 3 "$NODE_IDS"; rm -rf "$w"; return 1; fi
    sleep 1
  done
  cat "$w/after.txt"; sed "s/$t/kraft-elect/g" "$w/after.txt" >"$w/rec"; record leader-election-after "$w/rec"
  parse topics-describe "$w/after.txt" "$t" 3 "$NODE_IDS"
  tool leader-election --bootstrap-server "$BOOTSTRAP" --election-type preferred --topic "$t" --partition 0 >"$w/again.txt" 2>&1
  rc=$?
  cat "$w/again.txt"; sed "s/$t/kraft-elect/g" "$w/again.txt" >"$w/rec"; record leader-election-again "$w/rec"
  [ "$rc" -eq 0 ] || { echo "kafka-leader-election exited $rc"; rm -rf "$w"; return 1; }
  parse leader-election "$w/again.txt" "" "$t-0"; rc=$?
  rm -rf "$w"; return $rc
}

KRAFT_SCENARIOS="quorum-describe-status quorum-describe-status-bootstrap-controller quorum-describe-replication topics-create-describe-rf3 dump-log-cluster-metadata produce-consume-acks1 produce-consume-acks-all leader-election-preferred"

# The scenarios in order (KRAFT_SCENARIOS), each a `check` (lib.sh).
run_kraft_checks() {
  check quorum-describe-status quorum_status
  check quorum-describe-status-bootstrap-controller quorum_status_controllers
  check quorum-describe-replication quorum_replication
  check topics-create-describe-rf3 topics_rf3
  check dump-log-cluster-metadata dump_log
  check produce-consume-acks1 produce_consume 1
  check produce-consume-acks-all produce_consume all
  # last: it kills and restarts a node
  check leader-election-preferred leader_election_preferred
}
