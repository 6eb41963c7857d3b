#!/usr/bin/env bash
# Runs a command with OPSFLOW_TEST_MONGODB_URI pointing at a MongoDB-compatible test server.
#
#   scripts/with-mongo.sh cargo test -p opsflow-adapters --test mongo_contract
#
# If OPSFLOW_TEST_MONGODB_URI is already set (a real MongoDB replica set, Atlas, ...), the command
# runs against it unchanged. Otherwise the script installs the test server secantusdb (a
# MongoDB-compatible server for tests only, never for production) into the git-ignored venv
# .venv-mongo, starts it in memory as a single-node replica set on a free port, runs the command,
# and stops the server. The command's exit code is returned; if the server cannot be installed
# or does not come up, the script fails (the MongoDB tests are never silently skipped).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 <command> [args...]" >&2
    exit 2
fi

if [ -n "${OPSFLOW_TEST_MONGODB_URI:-}" ]; then
    exec "$@"
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-mongo"
SECANTUS_VERSION="0.7.0b3"
PYTHON="${PYTHON:-python3}"

log() { echo "with-mongo: $*" >&2; }

if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('secantusdb') != '$SECANTUS_VERSION')" 2>/dev/null; then
    log "installing secantusdb==$SECANTUS_VERSION into $VENV"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --pre "secantusdb==$SECANTUS_VERSION"
fi

PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
LOG="$(mktemp -t opsflow-mongo.XXXXXX.log)"

"$VENV/bin/secantusd-py" --host 127.0.0.1 --port "$PORT" --storage-path :memory: >"$LOG" 2>&1 &
SERVER_PID=$!

stop_server() {
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        # It exits a few seconds after SIGTERM; do not leave it behind.
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    rm -f "$LOG"
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Wait (at most 30 s) until the server accepts connections.
if ! "$VENV/bin/python" - "$PORT" "$SERVER_PID" <<'PY'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)  # the server died
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
then
    log "the MongoDB test server did not come up on port $PORT; its log:"
    cat "$LOG" >&2 || true
    exit 1
fi

# directConnection=true talks to this one member; it is a replica-set primary, so transactions
# work (MongoStore detects them from `hello`).
export OPSFLOW_TEST_MONGODB_URI="mongodb://127.0.0.1:$PORT/?directConnection=true"
log "test server on 127.0.0.1:$PORT (secantusdb $SECANTUS_VERSION, replica set, in memory)"

set +e
"$@"
STATUS=$?
set -e
exit "$STATUS"
