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
python3 -c 'import confluent_kafka as c; print("confluent-kafka", c.version()[0], "librdkafka", c.libversion()[0])'
trap samsa_cleanup EXIT
samsa_start || install_failed confluent-kafka-python "$SAMSA_LOG"
for s in metadata create-describe-delete-topic compression-none compression-gzip compression-snappy \
    compression-lz4 compression-zstd keyed-partitioning group-commit-resume describe-configs \
    idempotent-produce headers-null-key-value large-message consume-from-timestamp \
    delivery-callback acks-0 acks-1 acks-all admin-partitions-configs; do
  check "$s" timeout 120 python3 "$DIR/scenarios.py" "$BOOTSTRAP" "$s"
done
summary confluent-kafka-python
