#!/usr/bin/env bash
# confluent-kafka-python as Debian packages it (python3-confluent-kafka, 1.7.0 on Debian 12, with the system
# librdkafka 2.0.2) against a real Samsa broker, running the scenarios of ../confluent-kafka-python. See README.md.
source "$(dirname "$0")/../lib.sh"
conformance_init confluent-kafka-python-debian
DIR="$(cd "$(dirname "$0")" && pwd)"
SCENARIOS="$DIR/../confluent-kafka-python/scenarios.py"
# the system python (not a pyenv or venv python3 earlier on PATH): that is where the Debian package goes
PY="${SAMSA_DEBIAN_PYTHON:-/usr/bin/python3}"
if ! "$PY" -c 'import confluent_kafka' 2>/dev/null; then
  echo "installing python3-confluent-kafka with apt-get"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  { $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-confluent-kafka; } \
    >"$CONF_CACHE/python3-confluent-kafka-install.log" 2>&1 \
    || install_failed confluent-kafka-python-debian "$CONF_CACHE/python3-confluent-kafka-install.log"
fi
"$PY" -c 'import confluent_kafka as c; v = c.version(); v = v[0] if isinstance(v, tuple) else v; print("python3-confluent-kafka", v, "librdkafka", c.libversion()[0])' \
  || install_failed confluent-kafka-python-debian
# admin-partitions-configs is left out: 1.7.0's AdminClient has no describe_cluster, incremental_alter_configs
# or delete_records.
trap samsa_cleanup EXIT
samsa_start || install_failed confluent-kafka-python-debian "$SAMSA_LOG"
for s in metadata create-describe-delete-topic compression-none compression-gzip compression-snappy \
    compression-lz4 compression-zstd keyed-partitioning group-commit-resume describe-configs \
    idempotent-produce headers-null-key-value large-message consume-from-timestamp \
    delivery-callback acks-0 acks-1 acks-all group-members-range \
    group-members-cooperative-sticky group-manual-commit; do
  check "$s" timeout 120 "$PY" "$SCENARIOS" "$BOOTSTRAP" "$s"
done
# group-offsets-restart (SIGTERM) and group-offsets-restart-crash (SIGKILL): commit, restart the broker, check.
# The restart runs at top level (not inside `check`, a subshell) because samsa_restart changes SAMSA_PID; the
# check prints the first half's output.
BEFORE_LOG="$(mktemp)"
after_restart() {
  cat "$BEFORE_LOG"
  grep -qx 'exit 0' "$BEFORE_LOG" || return 1
  timeout 120 "$PY" "$SCENARIOS" "$BOOTSTRAP" group-restart-verify "$1"
}
for signal in TERM KILL; do
  run_id="$RANDOM$RANDOM"
  timeout 120 "$PY" "$SCENARIOS" "$BOOTSTRAP" group-restart-commit "$run_id" >"$BEFORE_LOG" 2>&1
  echo "exit $?" >>"$BEFORE_LOG"
  samsa_restart "$signal" >>"$BEFORE_LOG" 2>&1 || echo "restart failed" >>"$BEFORE_LOG"
  name=group-offsets-restart
  [ "$signal" = KILL ] && name=group-offsets-restart-crash
  check "$name" after_restart "$run_id"
done
rm -f "$BEFORE_LOG"
summary confluent-kafka-python-debian
