#!/usr/bin/env bash
# Recaptures test/vectors/kafka/offset-checkpoint-kafka-<v>/: offset checkpoint files (the format of
# `replication-offset-checkpoint`, `recovery-point-offset-checkpoint`, `cleaner-offset-checkpoint`) written
# by Apache Kafka's own classes, and Kafka's verdict on reading a set of inputs, for
# test/storage/offset-checkpoint-file.test.ts:
#
#   replication-offset-checkpoint   OffsetCheckpointFile.write of four partitions (Kafka's entry order)
#   empty-offset-checkpoint         OffsetCheckpointFile.write of no partition
#   read-cases/<name>               inputs (this script writes them), each read back with
#                                   OffsetCheckpointFile.read
#   read-verdicts.txt               per input: "<name> ok <topic partition offset>;..." (entries sorted), or
#                                   "<name> error <exception class>"
#
# Nothing of Samsa runs here: the files and verdicts are Kafka's, so the test compares Samsa's reader and
# writer against Kafka's, not against themselves.
#
# Needs java (17+); the jars come from the conformance suite's cache (conformance/java/run.sh fetches them).
# Run: bash conformance/tools/capture-offset-checkpoint.sh
set -euo pipefail
V="${KAFKA_VERSION:-4.4.0}"
REPO_ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CONF_CACHE="${SAMSA_CONFORMANCE_CACHE:-$HOME/.cache/samsa-conformance}"
LIB="$CONF_CACHE/java/$V/lib"
[ -f "$LIB/.complete" ] || { echo "no Kafka $V jars in $LIB: run conformance/java/run.sh once (it fetches them)"; exit 1; }
OUT="$REPO_ROOT/test/vectors/kafka/offset-checkpoint-kafka-$V"
WORK="$(mktemp -d /tmp/samsa-capture-checkpoint.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# Inputs for Kafka's reader: the edge cases of CheckpointFile.CheckpointReadBuffer and
# OffsetCheckpointFile.Formatter (line ends, whitespace, signs, counts, versions, number ranges).
mkdir -p "$WORK/cases"
c() { printf "$2" >"$WORK/cases/$1"; }
c empty ''
c version-only '0\n'
c no-entries '0\n0\n'
c two-entries '0\n2\norders 0 1200\n__consumer_offsets 7 38\n'
c crlf '0\r\n1\r\nt 0 5\r\n'
c no-final-newline '0\n1\nt 0 5'
c tabs '0\n1\nt\t0\t5\n'
c many-spaces '0\n1\nt   0  5\n'
c trailing-space '0\n1\nt 0 5 \n'
c leading-space '0\n1\n t 0 5\n'
c empty-topic '0\n1\n 0 5\n'
c blank-line-after '0\n1\nt 0 5\n\n'
c blank-count '0\n\n'
c version-1 '1\n0\n'
c version-word 'x\n0\n'
c version-spaced ' 0\n0\n'
c count-too-big '0\n2\nt 0 5\n'
c count-too-small '0\n0\nt 0 5\n'
c count-word '0\ntwo\nt 0 5\n'
c partition-word '0\n1\nt x 5\n'
c offset-word '0\n1\nt 0 x\n'
c negative-offset '0\n1\nt 0 -1\n'
c negative-partition '0\n1\nt -1 5\n'
c plus-signs '0\n1\nt +0 +5\n'
c four-fields '0\n1\nt 0 5 6\n'
c two-fields '0\n1\nt 0\n'
c long-max '0\n1\nt 0 9223372036854775807\n'
c long-overflow '0\n1\nt 0 9223372036854775808\n'
c int-overflow '0\n1\nt 2147483648 5\n'
c dotted-topic '0\n1\nmy.topic_v2-x 12 3\n'

cat >"$WORK/Capture.java" <<'EOF'
import java.io.File;
import java.nio.file.Files;
import java.util.*;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.storage.internals.checkpoint.OffsetCheckpointFile;
import org.apache.kafka.storage.internals.log.LogDirFailureChannel;

public class Capture {
  public static void main(String[] args) throws Exception {
    File out = new File(args[0]);
    File cases = new File(args[1]);
    Map<TopicPartition, Long> hws = new HashMap<>();
    hws.put(new TopicPartition("orders", 0), 1200L);
    hws.put(new TopicPartition("orders", 1), 0L);
    hws.put(new TopicPartition("__consumer_offsets", 7), 38L);
    hws.put(new TopicPartition("my.topic_v2-x", 12), 9007199254740991L);
    new OffsetCheckpointFile(new File(out, "replication-offset-checkpoint"), new LogDirFailureChannel(1)).write(hws);
    new OffsetCheckpointFile(new File(out, "empty-offset-checkpoint"), new LogDirFailureChannel(1)).write(new HashMap<>());
    StringBuilder verdicts = new StringBuilder();
    String[] names = cases.list();
    Arrays.sort(names);
    for (String name : names) {
      File f = new File(cases, name);
      String verdict;
      try {
        Map<TopicPartition, Long> read = new OffsetCheckpointFile(f, new LogDirFailureChannel(1)).read();
        List<String> entries = new ArrayList<>();
        for (Map.Entry<TopicPartition, Long> e : read.entrySet()) entries.add(e.getKey().topic() + " " + e.getKey().partition() + " " + e.getValue());
        Collections.sort(entries);
        verdict = "ok\t" + String.join(";", entries);
      } catch (Exception e) {
        verdict = "error\t" + e.getClass().getName();
      }
      verdicts.append(name).append('\t').append(verdict).append('\n');
    }
    Files.writeString(new File(out, "read-verdicts.txt").toPath(), verdicts.toString());
  }
}
EOF
mkdir -p "$WORK/out"
# Kafka logs every refused read (LogDirFailureChannel, with its stack): kept aside, shown on failure only.
java -cp "$LIB/*" "$WORK/Capture.java" "$WORK/out" "$WORK/cases" 2>"$WORK/java.log" || { cat "$WORK/java.log"; exit 1; }
rm -rf "$OUT"
mkdir -p "$OUT"
cp "$WORK/out/replication-offset-checkpoint" "$WORK/out/empty-offset-checkpoint" "$WORK/out/read-verdicts.txt" "$OUT/"
cp -r "$WORK/cases" "$OUT/read-cases"
echo "wrote $OUT"
