# Shared by the conformance scripts: start/stop a real Samsa broker, count results.
# Usage: source this file, `conformance_init CLIENT`, then `samsa_start [extra --override args]`, run checks
# with `check SCENARIO CMD...`, and finish with `summary CLIENT`, which prints "CLIENT: N passed, N failed"
# and a "RESULT CLIENT P F UNEXPECTED_FAILURES UNEXPECTED_PASSES" line, and returns non-zero when a
# scenario named in CLIENT/expected.txt failed.
#
# Scenario ids are short kebab-case names shared across clients (metadata, compression-gzip, ...); a
# client that runs the same scenario against several versions of itself prefixes the id with the variant
# and a slash (3.9.2/metadata). Each result is also appended to $CONF_RESULTS (a TSV that
# tools/report.py turns into docs/compatibility.md).
set -uo pipefail

CONF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CONF_ROOT/.." && pwd)"
# Downloads (venvs, jars) are kept here between runs; Maven keeps its own in ~/.m2, pip in ~/.cache/pip.
CONF_CACHE="${SAMSA_CONFORMANCE_CACHE:-$HOME/.cache/samsa-conformance}"
# SAMSA_BROKER_DIR: run the broker from another checkout (e.g. `git archive HEAD` of this repo, to check
# the committed broker while the work tree has changes in progress); default: this repo.
CONF_RESULTS="${CONF_RESULTS:-$REPO_ROOT/.conformance/results.tsv}"
PASSED=0
FAILED=0
UNEXPECTED_FAIL=0
UNEXPECTED_PASS=0
FAILED_NAMES=()
UNEXPECTED_PASS_NAMES=()
EXPECTED=()
CONF_CLIENT=""
SAMSA_PID=""
SAMSA_ARGS=()

# conformance_init CLIENT: reads CLIENT/expected.txt (one scenario id a line, '#' starts a comment).
conformance_init() {
  CONF_CLIENT="$1"
  local f="$CONF_ROOT/$1/expected.txt" line
  EXPECTED=()
  if [ -f "$f" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      line="${line%%#*}"; line="$(echo "$line" | xargs)"
      [ -n "$line" ] && EXPECTED+=("$line")
    done <"$f"
  fi
  mkdir -p "$(dirname "$CONF_RESULTS")" "$CONF_CACHE"
}

is_expected() {
  local e
  for e in "${EXPECTED[@]}"; do [ "$e" = "$1" ] && return 0; done
  return 1
}

# Prints the install step's output and a RESULT line for a client whose tools could not be installed.
install_failed() {
  local client="$1" log="${2:-}"
  echo "$client: cannot install its tools"
  [ -n "$log" ] && [ -f "$log" ] && tail -30 "$log" | sed 's/^/    | /'
  echo "$client: 0 passed, 1 failed"
  echo "RESULT $client 0 1 1 0"
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

samsa_start() {
  SAMSA_PORT="$(free_port)"
  SAMSA_REGISTRY_PORT="$(free_port)"
  REGISTRY_URL="http://127.0.0.1:$SAMSA_REGISTRY_PORT"
  SAMSA_DATA="$(mktemp -d /tmp/samsa-conformance.XXXXXX)"
  SAMSA_LOG="$SAMSA_DATA.log"
  BOOTSTRAP="127.0.0.1:$SAMSA_PORT"
  # scenarios may read the broker's data directory (tools/batch-codecs.ts) and log
  export SAMSA_DATA SAMSA_LOG BOOTSTRAP REPO_ROOT REGISTRY_URL
  SAMSA_ARGS=("$@")
  : >"$SAMSA_LOG"
  samsa_launch
}

# samsa_restart [TERM|KILL]: stops the broker (TERM: a clean shutdown, as samsa_stop; KILL: a crash) and
# starts it again on the same port and data directory with the same arguments; $SAMSA_LOG goes on.
samsa_restart() {
  if [ "${1:-TERM}" = KILL ] && [ -n "$SAMSA_PID" ]; then
    kill -9 "$SAMSA_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$SAMSA_PID" 2>/dev/null || break; sleep 0.1; done
    SAMSA_PID=""
  else
    samsa_stop
  fi
  echo "--- samsa restart (${1:-TERM})" >>"$SAMSA_LOG"
  samsa_launch
}

# samsa_launch: starts the broker on $SAMSA_PORT with $SAMSA_DATA and $SAMSA_ARGS, appending to $SAMSA_LOG.
samsa_launch() {
  (cd "${SAMSA_BROKER_DIR:-$REPO_ROOT}" && exec node --import tsx src/cli/main.ts start \
      --override "listeners=PLAINTEXT://127.0.0.1:$SAMSA_PORT" \
      --override "log.dirs=$SAMSA_DATA" \
      --override "schema.registry.listeners=$REGISTRY_URL" \
      --override "samsa.http.listeners=${SAMSA_HTTP_URL:-}" \
      --override "samsa.protocol.trace=true" \
      --override "group.initial.rebalance.delay.ms=0" "${SAMSA_ARGS[@]}") >>"$SAMSA_LOG" 2>&1 &
  SAMSA_PID=$!
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$SAMSA_PORT") 2>/dev/null; then
      echo "samsa started on $BOOTSTRAP (pid $SAMSA_PID, data $SAMSA_DATA)"
      return 0
    fi
    if ! kill -0 "$SAMSA_PID" 2>/dev/null; then break; fi
    sleep 0.2
  done
  echo "samsa did not start; its log:" >&2
  tail -50 "$SAMSA_LOG" >&2
  return 1
}

samsa_stop() {
  if [ -n "$SAMSA_PID" ] && kill -0 "$SAMSA_PID" 2>/dev/null; then
    kill -TERM "$SAMSA_PID"
    for _ in $(seq 1 50); do kill -0 "$SAMSA_PID" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$SAMSA_PID" 2>/dev/null || true
  fi
  SAMSA_PID=""
}

samsa_cleanup() {
  samsa_stop
  [ -n "${SAMSA_DATA:-}" ] && rm -rf "$SAMSA_DATA" "$SAMSA_LOG"
}

# check SCENARIO COMMAND...: runs the command. On failure prints the client's output and the broker's
# trace of the connections made during the check (tools/trace-excerpt.py: requests and responses that
# carry an error first, then the last ones).
check() {
  local name="$1"; shift
  local out start=0 t0 t1 status tag=""
  [ -n "${SAMSA_LOG:-}" ] && [ -f "$SAMSA_LOG" ] && start="$(wc -l <"$SAMSA_LOG")"
  t0="$(date +%s.%N)"
  if out="$("$@" 2>&1)"; then status=pass; else status=fail; fi
  t1="$(date +%s.%N)"
  local secs
  secs="$(python3 -c "print(f'{$t1-$t0:.1f}')")"
  if [ "$status" = pass ]; then
    PASSED=$((PASSED + 1))
    if ! is_expected "$name"; then
      UNEXPECTED_PASS=$((UNEXPECTED_PASS + 1)); UNEXPECTED_PASS_NAMES+=("$name")
      tag=" (unexpected pass: add it to $CONF_CLIENT/expected.txt)"
    fi
    echo "  PASS $name (${secs}s)$tag"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    if is_expected "$name"; then
      UNEXPECTED_FAIL=$((UNEXPECTED_FAIL + 1)); tag=" (EXPECTED TO PASS)"
    else
      tag=" (known gap, see $CONF_CLIENT/FINDINGS.md)"
    fi
    echo "  FAIL $name (${secs}s)$tag"
    echo "    client output (last 40 lines):"
    echo "$out" | tail -40 | cut -c1-600 | sed 's/^/    | /'
    if [ -n "${SAMSA_LOG:-}" ] && [ -f "$SAMSA_LOG" ]; then
      echo "    broker trace of this check's connections:"
      python3 "$CONF_ROOT/tools/trace-excerpt.py" "$SAMSA_LOG" "$start" | sed 's/^/    > /'
    fi
  fi
  if [ -n "$CONF_CLIENT" ]; then
    local exp=no
    is_expected "$name" && exp=yes
    printf '%s\t%s\t%s\t%s\t%s\n' "$CONF_CLIENT" "$name" "$status" "$exp" "$secs" >>"$CONF_RESULTS"
  fi
}

summary() {
  local client="$1"
  echo "$client: $PASSED passed, $FAILED failed"
  local n
  for n in "${FAILED_NAMES[@]}"; do
    if is_expected "$n"; then echo "  failed (expected to pass): $n"; else echo "  failed (known gap): $n"; fi
  done
  for n in "${UNEXPECTED_PASS_NAMES[@]}"; do echo "  passed, not in expected.txt: $n"; done
  # run-all.sh reads this line
  echo "RESULT $client $PASSED $FAILED $UNEXPECTED_FAIL $UNEXPECTED_PASS"
  [ "$UNEXPECTED_FAIL" -eq 0 ]
}
