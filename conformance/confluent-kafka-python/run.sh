#!/usr/bin/env bash
# confluent-kafka-python (librdkafka) from PyPI against a real Samsa broker. See README.md.
source "$(dirname "$0")/../lib.sh"
conformance_init confluent-kafka-python
DIR="$(cd "$(dirname "$0")" && pwd)"
if ! python3 -c 'import confluent_kafka' 2>/dev/null; then
  echo "installing confluent-kafka from PyPI"
  python3 -m pip install -q confluent-kafka >"$CONF_CACHE/confluent-kafka-install.log" 2>&1 \
    || install_failed confluent-kafka-python "$CONF_CACHE/confluent-kafka-install.log"
fi
# The Schema Registry serializers' dependencies (fastavro, jsonschema, protobuf, ...): the package's extras.
if ! python3 -c 'import fastavro, jsonschema, google.protobuf, cachetools' 2>/dev/null; then
  echo "installing confluent-kafka[avro,json,protobuf,schemaregistry] from PyPI"
  # the installed distribution's version (confluent_kafka.version() was a (str, int) tuple before 2.16, a str since)
  v="$(python3 -c 'import importlib.metadata as m; print(m.version("confluent-kafka"))')"
  python3 -m pip install -q "confluent-kafka[avro,json,protobuf,schemaregistry]==$v" >"$CONF_CACHE/confluent-kafka-extras-install.log" 2>&1 \
    || install_failed confluent-kafka-python "$CONF_CACHE/confluent-kafka-extras-install.log"
fi
python3 -c 'import confluent_kafka as c; v = c.version(); v = v[0] if isinstance(v, tuple) else v; print("confluent-kafka", v, "librdkafka", c.libversion()[0])'
trap samsa_cleanup EXIT
samsa_start || install_failed confluent-kafka-python "$SAMSA_LOG"
for s in metadata create-describe-delete-topic compression-none compression-gzip compression-snappy \
    compression-lz4 compression-zstd keyed-partitioning group-commit-resume describe-configs \
    idempotent-produce headers-null-key-value large-message consume-from-timestamp \
    delivery-callback acks-0 acks-1 acks-all admin-partitions-configs group-members-range \
    group-members-cooperative-sticky group-manual-commit; do
  check "$s" timeout 120 python3 "$DIR/scenarios.py" "$BOOTSTRAP" "$s"
done
# The built-in Schema Registry (at $REGISTRY_URL, from lib.sh) with the stock serializers: registry.py.
for s in sr-avro-roundtrip sr-avro-evolution sr-json-roundtrip sr-json-evolution sr-protobuf-roundtrip sr-protobuf-evolution; do
  check "$s" timeout 120 python3 "$DIR/registry.py" "$BOOTSTRAP" "$REGISTRY_URL" "$s"
done
# group-offsets-restart (SIGTERM) and group-offsets-restart-crash (SIGKILL): commit, restart the broker, check.
# The restart runs at top level (not inside `check`, a subshell) because samsa_restart changes SAMSA_PID; the
# check prints the first half's output.
BEFORE_LOG="$(mktemp)"
after_restart() {
  cat "$BEFORE_LOG"
  grep -qx 'exit 0' "$BEFORE_LOG" || return 1
  timeout 120 python3 "$DIR/scenarios.py" "$BOOTSTRAP" group-restart-verify "$1"
}
for signal in TERM KILL; do
  run_id="$RANDOM$RANDOM"
  timeout 120 python3 "$DIR/scenarios.py" "$BOOTSTRAP" group-restart-commit "$run_id" >"$BEFORE_LOG" 2>&1
  echo "exit $?" >>"$BEFORE_LOG"
  samsa_restart "$signal" >>"$BEFORE_LOG" 2>&1 || echo "restart failed" >>"$BEFORE_LOG"
  name=group-offsets-restart
  [ "$signal" = KILL ] && name=group-offsets-restart-crash
  check "$name" after_restart "$run_id"
done
rm -f "$BEFORE_LOG"
summary confluent-kafka-python
