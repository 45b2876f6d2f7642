# Shared by the conformance scripts: start/stop a real Samsa broker, count results.
# Usage: source this file, then `samsa_start [extra --override args]`, run checks with `check NAME CMD...`,
# and finish with `summary`, which prints "N passed, N failed" and returns non-zero on a failure.
set -uo pipefail

CONF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CONF_ROOT/.." && pwd)"
PASSED=0
FAILED=0
FAILED_NAMES=()
SAMSA_PID=""

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

samsa_start() {
  SAMSA_PORT="$(free_port)"
  SAMSA_DATA="$(mktemp -d /tmp/samsa-conformance.XXXXXX)"
  SAMSA_LOG="$SAMSA_DATA.log"
  BOOTSTRAP="127.0.0.1:$SAMSA_PORT"
  (cd "$REPO_ROOT" && exec node --import tsx src/cli/main.ts start \
      --override "listeners=PLAINTEXT://127.0.0.1:$SAMSA_PORT" \
      --override "log.dirs=$SAMSA_DATA" \
      --override "samsa.protocol.trace=true" \
      --override "group.initial.rebalance.delay.ms=0" "$@") >"$SAMSA_LOG" 2>&1 &
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

# check NAME COMMAND...: runs the command; on failure prints its output and the broker's last log lines.
check() {
  local name="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    PASSED=$((PASSED + 1))
    echo "  PASS $name"
  else
    FAILED=$((FAILED + 1))
    FAILED_NAMES+=("$name")
    echo "  FAIL $name"
    echo "$out" | tail -40 | sed 's/^/    | /'
    if [ -n "${SAMSA_LOG:-}" ] && [ -f "$SAMSA_LOG" ]; then
      echo "    broker log (last 30 lines):"
      tail -30 "$SAMSA_LOG" | cut -c1-400 | sed 's/^/    > /'
    fi
  fi
}

summary() {
  local client="$1"
  echo "$client: $PASSED passed, $FAILED failed"
  for n in "${FAILED_NAMES[@]}"; do echo "  failed: $n"; done
  # run-all.sh reads this line
  echo "RESULT $client $PASSED $FAILED"
  [ "$FAILED" -eq 0 ]
}
