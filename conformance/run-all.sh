#!/usr/bin/env bash
# Runs every client's conformance folder and prints per client and in total "N passed, N failed".
# Exits non-zero when any scenario fails.
set -uo pipefail
cd "$(dirname "$0")"
CLIENTS=(${CONFORMANCE_CLIENTS:-kcat confluent-kafka-python})
total_pass=0
total_fail=0
for client in "${CLIENTS[@]}"; do
  echo "=== $client"
  out="$(mktemp)"
  timeout 1200 bash "$client/run.sh" 2>&1 | tee "$out"
  line="$(grep '^RESULT ' "$out" | tail -1)"
  if [ -z "$line" ]; then
    echo "$client: no result (script failed to run)"; total_fail=$((total_fail + 1))
  else
    read -r _ _ p f <<<"$line"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
  fi
  rm -f "$out"
done
echo "conformance: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
