#!/usr/bin/env bash
# The Java client's default idempotent producer (kafka-clients 3.9.x: enable.idempotence=true, acks=all,
# retries) sends numbered records to a 3-partition topic while the broker is restarted under it three times,
# cleanly (SIGTERM) in one scenario and by a crash (SIGKILL) in the other; a consumer (assign + seek, no
# group) then checks that every number is there exactly once and in order per partition. See README.md; known gaps in FINDINGS.md.
source "$(dirname "$0")/../lib.sh"
conformance_init java-idempotence
HERE="$CONF_ROOT/java-idempotence"
CACHE="$CONF_CACHE/java-idempotence"
JARS="$CACHE/jars"
CLASSES="$CACHE/classes"
N="${JAVA_IDEMPOTENCE_RECORDS:-40000}"
RATE="${JAVA_IDEMPOTENCE_RATE:-5000}"
mkdir -p "$CACHE"

for tool in java javac mvn; do
  command -v "$tool" >/dev/null || { echo "java-idempotence: $tool not found"; echo "java-idempotence: 0 passed, 1 failed"; echo "RESULT java-idempotence 0 1 1 0"; exit 1; }
done
if [ ! -f "$JARS/.complete" ] || [ "$HERE/pom.xml" -nt "$JARS/.complete" ]; then
  echo "fetching kafka-clients with Maven into $JARS"
  rm -rf "$JARS"
  mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies -DoutputDirectory="$JARS" >"$CACHE/install.log" 2>&1 \
    || install_failed java-idempotence "$CACHE/install.log"
  touch "$JARS/.complete"
fi
if [ ! -f "$CLASSES/IdempotenceCheck.class" ] || [ "$HERE/IdempotenceCheck.java" -nt "$CLASSES/IdempotenceCheck.class" ]; then
  mkdir -p "$CLASSES"
  javac -d "$CLASSES" -cp "$JARS/*" "$HERE/IdempotenceCheck.java" >"$CACHE/javac.log" 2>&1 || install_failed java-idempotence "$CACHE/javac.log"
fi
echo "kafka-clients: $(ls "$JARS" | grep -m1 kafka-clients)"
CP="$CLASSES:$JARS/*"
JAVA=(java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" IdempotenceCheck)

trap samsa_cleanup EXIT
samsa_start || install_failed java-idempotence "$SAMSA_LOG"
WORK="$(mktemp -d)"

# produce_through_restart SIGNAL TOPIC: runs the producer in the background and restarts the broker with
# SIGNAL each time another quarter of the records is acknowledged (up to three restarts: the producer may
# finish early, catching up after a restart), then waits for the producer. Runs at top level (not inside `check`, a subshell) because samsa_restart changes SAMSA_PID.
produce_through_restart() {
  local signal="$1" topic="$2" progress="$WORK/$2.progress" pid rc acked=0 quarter dups_before
  dups_before="$(grep -c 'retried batch answered with its original offset' "$SAMSA_LOG")"
  : >"$WORK/$topic.restart.log"
  "${JAVA[@]}" produce "$BOOTSTRAP" "$topic" 3 "$N" "$progress" "$RATE" >"$WORK/$topic.producer.log" 2>&1 &
  pid=$!
  for quarter in 1 2 3; do
    for _ in $(seq 1 600); do
      acked="$(cat "$progress" 2>/dev/null || echo 0)"
      [ "${acked:-0}" -ge $((N * quarter / 4)) ] && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    # After a restart the producer catches up on its backlog, and may finish before the next quarter.
    if ! kill -0 "$pid" 2>/dev/null; then
      [ "$quarter" = 1 ] && echo "the producer ended before the first restart" >>"$WORK/$topic.restart.log"
      break
    fi
    echo "restart $quarter ($signal) after ${acked:-0} of $N records acknowledged" >>"$WORK/$topic.restart.log"
    samsa_restart "$signal" >>"$WORK/$topic.restart.log" 2>&1 || { echo "restart failed" >>"$WORK/$topic.restart.log"; break; }
  done
  wait "$pid"
  rc=$?
  echo "$rc" >"$WORK/$topic.rc"
  echo $(( $(grep -c 'retried batch answered with its original offset' "$SAMSA_LOG") - dups_before )) >"$WORK/$topic.dups"
  echo "  $topic: $(grep -c '^restart [0-9]' "$WORK/$topic.restart.log") restart(s) ($signal) while producing $N records; producer exit $rc;" \
    "retried batches the broker answered as duplicates: $(cat "$WORK/$topic.dups")"
}

# verify_topic TOPIC: the producer acknowledged everything, the restart happened mid-stream, and the
# topic holds every number once, in order per partition.
verify_topic() {
  local topic="$1"
  cat "$WORK/$topic.restart.log"
  echo "retried batches the broker answered as duplicates: $(cat "$WORK/$topic.dups")"
  grep -v '^\[' "$WORK/$topic.producer.log" | tail -20
  if grep -q "restart failed\|ended before" "$WORK/$topic.restart.log"; then return 1; fi
  [ "$(cat "$WORK/$topic.rc")" = 0 ] || { echo "producer failed:"; tail -30 "$WORK/$topic.producer.log"; return 1; }
  "${JAVA[@]}" verify "$BOOTSTRAP" "$topic" "$N"
}

produce_through_restart TERM java-idem-clean
check idempotence-restart-clean verify_topic java-idem-clean
produce_through_restart KILL java-idem-crash
check idempotence-restart-crash verify_topic java-idem-crash
rm -rf "$WORK"
summary java-idempotence
