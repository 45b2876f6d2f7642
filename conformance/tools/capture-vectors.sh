#!/usr/bin/env bash
# Regenerates test/vectors/<client>/ from real client traffic: starts a broker with
# samsa.protocol.capture.dir, drives kcat, confluent-kafka-python and kafkajs through their scenarios,
# and keeps the first request/response of each api, version and client. Responses are renamed
# *-response-from-samsa.bin: Samsa wrote them, so they are regression vectors, not an independent check
# (Kafka-written responses: conformance/tools/capture-kafka-vectors.ts -> test/vectors/kafka/).
source "$(dirname "$0")/../lib.sh"
CAPTURE="$(mktemp -d)"
trap 'samsa_cleanup; rm -rf "$CAPTURE"' EXIT
samsa_start --override "samsa.protocol.capture.dir=$CAPTURE" --override num.partitions=2
bash -c "source '$CONF_ROOT/lib.sh'; BOOTSTRAP=$BOOTSTRAP
  seq 1 100 | sed 's/^/k:/' | kcat -X client.id=kcat -b $BOOTSTRAP -t vec-kcat -P -K: -X compression.codec=zstd
  kcat -X client.id=kcat -b $BOOTSTRAP -t vec-kcat -C -e -q -o beginning >/dev/null
  kcat -X client.id=kcat -b $BOOTSTRAP -L >/dev/null" || true
for s in delivery-callback acks-1 admin-create-delete; do python3 "$CONF_ROOT/confluent-kafka-python/scenarios.py" "$BOOTSTRAP" "$s" >/dev/null || true; done
(cd "$REPO_ROOT" && BOOTSTRAP=$BOOTSTRAP node --import tsx conformance/tools/kafkajs-traffic.ts) || true
OUT="$REPO_ROOT/test/vectors"
rm -rf "$OUT"/{kcat,confluent-kafka-python,kafkajs,other}; mkdir -p "$OUT"/{kcat,confluent-kafka-python,kafkajs}
for f in "$CAPTURE"/*.bin; do
  name="$(basename "$f")"
  case "$name" in
    *-kcat-*) dest=kcat ;;
    *-confluent-kafka-python-*) dest=confluent-kafka-python ;;
    *-kafkajs-vectors-*) dest=kafkajs ;;
    *) dest=other ;;
  esac
  mkdir -p "$OUT/$dest"; cp "$f" "$OUT/$dest/${name/%-response.bin/-response-from-samsa.bin}"
done
ls -R "$OUT" | head -80
