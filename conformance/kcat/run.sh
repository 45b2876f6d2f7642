#!/usr/bin/env bash
# kcat (librdkafka) against a real Samsa broker: metadata, and 10,000 keyed messages per compression
# codec produced with -P and read back identical with -C -e.
source "$(dirname "$0")/../lib.sh"
if ! command -v kcat >/dev/null; then
  echo "installing kcat (Debian package)"
  (apt-get update -qq && apt-get install -y -qq kcat) >/dev/null 2>&1 || { echo "kcat: cannot install"; echo "RESULT kcat 0 1"; exit 1; }
fi
kcat -V 2>&1 | grep -m1 Version
trap samsa_cleanup EXIT
samsa_start || { echo "RESULT kcat 0 1"; exit 1; }

WORK="$(mktemp -d)"
seq 1 10000 | awk '{ printf "key-%d:value %d %s\n", $1, $1, "payload-payload-payload-payload" }' > "$WORK/input.txt"

metadata() {
  kcat -b "$BOOTSTRAP" -L -t kcat-meta > "$WORK/meta.txt" 2>&1 || { cat "$WORK/meta.txt"; return 1; }
  grep -q "broker 1 at 127.0.0.1:$SAMSA_PORT" "$WORK/meta.txt" || { cat "$WORK/meta.txt"; return 1; }
  grep -q 'topic "kcat-meta" with 1 partitions' "$WORK/meta.txt" || { cat "$WORK/meta.txt"; return 1; }
}

roundtrip() {
  local codec="$1" topic="kcat-$1"
  kcat -b "$BOOTSTRAP" -t "$topic" -P -K: -X "compression.codec=$codec" -X linger.ms=5 < "$WORK/input.txt" || return 1
  kcat -b "$BOOTSTRAP" -t "$topic" -C -e -q -K: -f '%k:%s\n' > "$WORK/out-$codec.txt" || return 1
  if ! diff -q "$WORK/input.txt" "$WORK/out-$codec.txt" >/dev/null; then
    echo "read back differs: $(wc -l < "$WORK/out-$codec.txt") lines"; diff "$WORK/input.txt" "$WORK/out-$codec.txt" | head -5; return 1
  fi
  # The batches on disk must carry the codec asked for (librdkafka silently falls back when it decides the
  # broker cannot take it).
  local stored
  stored="$(cd "$REPO_ROOT" && node --import tsx conformance/tools/batch-codecs.ts "$SAMSA_DATA/$topic-0" | tr '\n' ' ')"
  [ "$stored" = "$codec " ] || { echo "stored codecs: '$stored', expected '$codec'"; return 1; }
}

check "metadata (-L lists the broker and an auto-created topic)" metadata
for codec in none gzip snappy lz4 zstd; do
  check "produce 10000 keyed messages with $codec, read back identical" roundtrip "$codec"
done
rm -rf "$WORK"
summary kcat
