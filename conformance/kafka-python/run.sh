#!/usr/bin/env bash
# kafka-python from PyPI (pure Python, with python-snappy, lz4 and zstandard for the codecs) in a venv under
# the conformance cache, against a real Samsa broker. See README.md.
source "$(dirname "$0")/../lib.sh"
conformance_init kafka-python
DIR="$(cd "$(dirname "$0")" && pwd)"
VERSION="${KAFKA_PYTHON_VERSION:-3.0.12}"
VENV="$CONF_CACHE/kafka-python-$VERSION"
if ! "$VENV/bin/python" -c 'import kafka, snappy, lz4, zstandard' 2>/dev/null; then
  echo "installing kafka-python $VERSION, python-snappy, lz4, zstandard into $VENV"
  (python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "kafka-python==$VERSION" python-snappy lz4 zstandard) \
    >"$CONF_CACHE/kafka-python-install.log" 2>&1 || install_failed kafka-python "$CONF_CACHE/kafka-python-install.log"
fi
"$VENV/bin/python" -c 'import kafka; print("kafka-python", kafka.__version__)'
trap samsa_cleanup EXIT
samsa_start || install_failed kafka-python "$SAMSA_LOG"
for s in metadata create-describe-delete-topic compression-none compression-gzip compression-snappy \
    compression-lz4 compression-zstd keyed-partitioning group-commit-resume describe-configs \
    idempotent-produce headers-null-key-value large-message consume-from-timestamp; do
  check "$s" timeout 120 "$VENV/bin/python" "$DIR/scenarios.py" "$BOOTSTRAP" "$s"
done
summary kafka-python
