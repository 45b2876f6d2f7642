#!/usr/bin/env bash
# Runs every client's conformance folder and prints per client and in total "N passed, N failed".
# A client's expected.txt names the scenarios that must pass; the others are known gaps (FINDINGS.md).
# Exits non-zero when an expected scenario fails or a client's script gives no result; reports
# unexpected passes. Rewrites docs/compatibility.md from the results (each client's latest run).
# CONFORMANCE_CLIENTS="kcat java" picks clients.
set -uo pipefail
cd "$(dirname "$0")"
CLIENTS=(${CONFORMANCE_CLIENTS:-kcat confluent-kafka-python confluent-kafka-python-debian kafkajs kafka-python java java-idempotence pyspark kraft-cluster replicated-cluster})
export CONF_RESULTS="$(cd .. && pwd)/.conformance/results.tsv"
mkdir -p "$(dirname "$CONF_RESULTS")"
touch "$CONF_RESULTS"
total_pass=0
total_fail=0
unexpected_fail=0
unexpected_pass=0
broken=()
times=()
for client in "${CLIENTS[@]}"; do
  echo "=== $client"
  # keep the other clients' latest results, drop this one's
  grep -v -P "^\Q$client\E\t" "$CONF_RESULTS" >"$CONF_RESULTS.tmp" || true
  mv "$CONF_RESULTS.tmp" "$CONF_RESULTS"
  out="$(mktemp)"
  t0=$SECONDS
  timeout "${CONFORMANCE_CLIENT_TIMEOUT:-1800}" bash "$client/run.sh" 2>&1 | tee "$out"
  times+=("$client $((SECONDS - t0))s")
  line="$(grep '^RESULT ' "$out" | tail -1)"
  if [ -z "$line" ]; then
    echo "$client: no result (script failed to run or timed out)"
    total_fail=$((total_fail + 1)); unexpected_fail=$((unexpected_fail + 1)); broken+=("$client")
  else
    read -r _ _ p f uf up _ <<<"$line"
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    unexpected_fail=$((unexpected_fail + ${uf:-$f})); unexpected_pass=$((unexpected_pass + ${up:-0}))
  fi
  rm -f "$out"
done
python3 tools/report.py "$CONF_RESULTS" ../docs/compatibility.md >/dev/null \
  && echo "wrote docs/compatibility.md" || echo "could not write docs/compatibility.md"
echo "time per client: ${times[*]}"
[ "${#broken[@]}" -gt 0 ] && echo "no result from: ${broken[*]}"
echo "unexpected failures: $unexpected_fail, unexpected passes: $unexpected_pass, known gaps: $((total_fail - unexpected_fail < 0 ? 0 : total_fail - unexpected_fail))"
echo "conformance: $total_pass passed, $total_fail failed"
[ "$unexpected_fail" -eq 0 ]
