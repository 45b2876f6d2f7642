#!/usr/bin/env bash
# confluent-kafka-python (librdkafka) from PyPI against a real Samsa broker.
source "$(dirname "$0")/../lib.sh"
DIR="$(cd "$(dirname "$0")" && pwd)"
if ! python3 -c 'import confluent_kafka' 2>/dev/null; then
  echo "installing confluent-kafka from PyPI"
  python3 -m pip install -q confluent-kafka >/dev/null 2>&1 || { echo "RESULT confluent-kafka-python 0 1"; exit 1; }
fi
python3 -c 'import confluent_kafka as c; print("confluent-kafka", c.version()[0], "librdkafka", c.libversion()[0])'
trap samsa_cleanup EXIT
samsa_start || { echo "RESULT confluent-kafka-python 0 1"; exit 1; }
for s in delivery-callback acks-0 acks-1 acks-all admin-create-delete; do
  check "$s" timeout 120 python3 "$DIR/scenarios.py" "$BOOTSTRAP" "$s"
done
summary confluent-kafka-python
