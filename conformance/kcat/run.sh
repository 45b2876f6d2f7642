#!/usr/bin/env bash
# kcat (librdkafka) against a real Samsa broker: metadata, 10,000 keyed messages per compression codec
# produced with -P and read back identical with -C -e, keyed partitioning, headers and nulls, a message
# near message.max.bytes, consuming from a timestamp, a balanced consumer group that resumes from its
# committed offsets, and the idempotent producer. See README.md; known gaps in FINDINGS.md.
source "$(dirname "$0")/../lib.sh"
conformance_init kcat
if ! command -v kcat >/dev/null; then
  echo "installing kcat (Debian package)"
  (apt-get update -qq && apt-get install -y -qq kcat) >"$CONF_CACHE/kcat-install.log" 2>&1 \
    || install_failed kcat "$CONF_CACHE/kcat-install.log"
fi
kcat -V 2>&1 | grep -m1 Version
trap samsa_cleanup EXIT
samsa_start --override num.partitions=4 || install_failed kcat "$SAMSA_LOG"

WORK="$(mktemp -d)"
seq 1 10000 | awk '{ printf "key-%d:value %d %s\n", $1, $1, "payload-payload-payload-payload" }' > "$WORK/input.txt"

metadata() {
  kcat -b "$BOOTSTRAP" -L -t kcat-meta > "$WORK/meta.txt" 2>&1 || { cat "$WORK/meta.txt"; return 1; }
  grep -q "broker 1 at 127.0.0.1:$SAMSA_PORT" "$WORK/meta.txt" || { cat "$WORK/meta.txt"; return 1; }
  grep -q 'topic "kcat-meta" with 4 partitions' "$WORK/meta.txt" || { cat "$WORK/meta.txt"; return 1; }
}

roundtrip() {
  local codec="$1" topic="kcat-$1"
  kcat -b "$BOOTSTRAP" -t "$topic" -P -p 0 -K: -X "compression.codec=$codec" -X linger.ms=5 < "$WORK/input.txt" || return 1
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -K: -f '%k:%s\n' > "$WORK/out-$codec.txt" || return 1
  if ! diff -q "$WORK/input.txt" "$WORK/out-$codec.txt" >/dev/null; then
    echo "read back differs: $(wc -l < "$WORK/out-$codec.txt") lines"; diff "$WORK/input.txt" "$WORK/out-$codec.txt" | head -5; return 1
  fi
  # The batches on disk must carry the codec asked for (librdkafka silently falls back to none for every
  # batch when it decides the broker cannot take it). One batch may be stored uncompressed: librdkafka
  # sends a batch as it is when compressing it would make it larger (rd_kafka_msgset_writer_compress), as
  # lz4's frame does to a first batch of one short message when linger.ms ends before more arrive.
  local stored
  stored="$(cd "$REPO_ROOT" && node --import tsx conformance/tools/batch-codecs.ts "$SAMSA_DATA/$topic-0" | tr '\n' ' ')"
  case "$codec" in
    none) [ "$stored" = "none " ] ;;
    *) [ "$stored" = "$codec " ] || [ "$stored" = "none $codec " ] || [ "$stored" = "$codec none " ] ;;
  esac || { echo "stored codecs: '$stored', expected '$codec' (and at most uncompressed batches beside it)"; return 1; }
}

# The broker runs with num.partitions=4, so auto-created topics have 4 partitions; the other scenarios
# produce to partition 0 (-p 0) to keep the read-back order.
keyed() {
  local topic="kcat-keyed"
  seq 1 400 | awk '{ printf "k%d:v%d\n", $1 % 20, $1 }' > "$WORK/keyed.txt"
  kcat -b "$BOOTSTRAP" -t "$topic" -P -K: -X partitioner=murmur2_random -X linger.ms=5 < "$WORK/keyed.txt" || return 1
  kcat -b "$BOOTSTRAP" -L -t "$topic" | grep -q 'with 4 partitions' || { kcat -b "$BOOTSTRAP" -L -t "$topic"; return 1; }
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -f '%p %k %s\n' > "$WORK/keyed-out.txt" || return 1
  [ "$(wc -l < "$WORK/keyed-out.txt")" -eq 400 ] || { echo "read $(wc -l < "$WORK/keyed-out.txt") of 400"; return 1; }
  # every key on exactly one partition, keys spread over more than one partition
  local bad parts
  bad="$(awk '{ print $2, $1 }' "$WORK/keyed-out.txt" | sort -u | awk '{ n[$1]++ } END { for (k in n) if (n[k] > 1) print k }')"
  [ -z "$bad" ] || { echo "keys on several partitions: $bad"; return 1; }
  parts="$(awk '{ print $1 }' "$WORK/keyed-out.txt" | sort -u | wc -l)"
  [ "$parts" -gt 1 ] || { echo "all keys on one partition"; return 1; }
  # per partition, the order of each key's values is the produce order
  python3 - "$WORK/keyed-out.txt" <<'EOF' || return 1
import sys, collections
seen = collections.defaultdict(list)
for line in open(sys.argv[1]):
    p, k, v = line.split()
    seen[k].append(int(v[1:]))
for k, vs in seen.items():
    assert vs == sorted(vs), (k, vs[:10])
EOF
}

headers_nulls() {
  local topic="kcat-headers"
  # -Z: empty key or value is sent as NULL; -H adds headers
  printf 'k1:v1\n:value-with-null-key\nk3:\n' | kcat -b "$BOOTSTRAP" -t "$topic" -P -p 0 -K: -Z -H h1=one -H h2=two || return 1
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -f 'key=%k(%K) value=%s(%S) headers=%h\n' > "$WORK/headers.txt" || return 1
  cat > "$WORK/headers-want.txt" <<'EOF'
key=k1(2) value=v1(2) headers=h1=one,h2=two
key=(-1) value=value-with-null-key(19) headers=h1=one,h2=two
key=k3(2) value=(-1) headers=h1=one,h2=two
EOF
  diff "$WORK/headers-want.txt" "$WORK/headers.txt"
}

large() {
  local topic="kcat-large"
  # one value of 1,048,000 bytes: the batch stays under message.max.bytes (1,048,588)
  python3 -c 'import sys; sys.stdout.write("big:" + "x" * 1048000 + "\n")' > "$WORK/large.txt"
  kcat -b "$BOOTSTRAP" -t "$topic" -P -p 0 -K: -X message.max.bytes=2000000 < "$WORK/large.txt" || return 1
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -K: -f '%k:%s\n' > "$WORK/large-out.txt" || return 1
  cmp "$WORK/large.txt" "$WORK/large-out.txt" || return 1
  # over the limit: the broker refuses it (MESSAGE_TOO_LARGE), kcat reports a delivery failure
  python3 -c 'import sys; sys.stdout.write("huge:" + "x" * 1100000 + "\n")' > "$WORK/huge.txt"
  if kcat -b "$BOOTSTRAP" -t "$topic" -P -p 0 -K: -X message.max.bytes=2000000 < "$WORK/huge.txt" 2>"$WORK/huge.err"; then
    echo "a 1,100,000-byte message was accepted"; cat "$WORK/huge.err"; return 1
  fi
  grep -qi 'too large' "$WORK/huge.err" || { cat "$WORK/huge.err"; return 1; }
}

from_timestamp() {
  local topic="kcat-ts"
  for i in 1 2 3 4 5; do echo "m$i" | kcat -b "$BOOTSTRAP" -t "$topic" -P -p 0 || return 1; sleep 0.05; done
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -f '%T %s\n' > "$WORK/ts.txt" || return 1
  local ts3
  ts3="$(awk 'NR==3 { print $1 }' "$WORK/ts.txt")"
  [ -n "$ts3" ] || { cat "$WORK/ts.txt"; return 1; }
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -o "s@$ts3" -f '%s\n' > "$WORK/ts-out.txt" || return 1
  [ "$(tr '\n' ' ' < "$WORK/ts-out.txt")" = "m3 m4 m5 " ] || { echo "timestamps:"; cat "$WORK/ts.txt"; echo "read from s@$ts3:"; cat "$WORK/ts-out.txt"; return 1; }
}

group_resume() {
  local topic="kcat-group" group="kcat-group-$$"
  seq 1 100 | sed 's/^/a/' | kcat -b "$BOOTSTRAP" -t "$topic" -P -p 0 || return 1
  timeout 60 kcat -b "$BOOTSTRAP" -G "$group" -X auto.offset.reset=earliest -e -q -f '%s\n' "$topic" > "$WORK/g1.txt" || { cat "$WORK/g1.txt"; return 1; }
  [ "$(wc -l < "$WORK/g1.txt")" -eq 100 ] || { echo "first run read $(wc -l < "$WORK/g1.txt") of 100"; return 1; }
  seq 1 50 | sed 's/^/b/' | kcat -b "$BOOTSTRAP" -t "$topic" -P -p 0 || return 1
  timeout 60 kcat -b "$BOOTSTRAP" -G "$group" -X auto.offset.reset=earliest -e -q -f '%s\n' "$topic" > "$WORK/g2.txt" || { cat "$WORK/g2.txt"; return 1; }
  diff <(seq 1 50 | sed 's/^/b/') "$WORK/g2.txt" >/dev/null || { echo "second run read $(wc -l < "$WORK/g2.txt") lines, first: $(head -1 "$WORK/g2.txt") (want b1..b50)"; return 1; }
}

idempotent() {
  local topic="kcat-idempotent"
  kcat -b "$BOOTSTRAP" -t "$topic" -P -p 0 -K: -X enable.idempotence=true -X linger.ms=5 < "$WORK/input.txt" 2>"$WORK/idem.err" || { cat "$WORK/idem.err"; return 1; }
  grep -qiE 'error|fail' "$WORK/idem.err" && { cat "$WORK/idem.err"; return 1; }
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -K: -f '%k:%s\n' > "$WORK/idem-out.txt" || return 1
  diff -q "$WORK/input.txt" "$WORK/idem-out.txt" >/dev/null || { echo "read back $(wc -l < "$WORK/idem-out.txt") lines"; return 1; }
}

check metadata metadata
for codec in none gzip snappy lz4 zstd; do
  check "compression-$codec" roundtrip "$codec"
done
check keyed-partitioning keyed
check headers-null-key-value headers_nulls
check large-message large
check consume-from-timestamp from_timestamp
check group-commit-resume group_resume
check idempotent-produce idempotent
rm -rf "$WORK"
summary kcat
