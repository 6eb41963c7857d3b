#!/usr/bin/env bash
# Runs schemathesis over the live API: the real server (target/debug/opsflow, a throw-away SQLite
# file, the offline engine), a freshly signed-up workspace's token, every operation of the
# served OpenAPI document, with the status-code, content-type, response-schema and
# no-server-error checks on. Any violation fails the script.
#
#   cargo build -p opsflow && scripts/schemathesis.sh
#
# schemathesis is installed (pinned) into the git-ignored venv .venv-schemathesis.
# ST_MAX_EXAMPLES bounds the examples per operation (default 25, a few minutes).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-schemathesis"
ST_VERSION="4.32.5"
PYTHON="${PYTHON:-python3}"
BIN="${OPSFLOW_BIN:-$ROOT/target/debug/opsflow}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-25}"

log() { echo "schemathesis: $*" >&2; }

[ -x "$BIN" ] || { log "$BIN is missing: run cargo build -p opsflow"; exit 1; }

if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('schemathesis') != '$ST_VERSION')" 2>/dev/null; then
    log "installing schemathesis==$ST_VERSION into $VENV"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi

WORK="$(mktemp -d -t opsflow-st.XXXXXX)"
PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"

OPSFLOW_BIND="127.0.0.1:$PORT" \
OPSFLOW_DATABASE_URL="sqlite://$WORK/opsflow.db" \
OPSFLOW_LLM_PROVIDER=offline \
OPSFLOW_LOG=warn \
OPSFLOW_LOGIN_MAX_FAILURES=0 \
    "$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
cleanup() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    curl -fsS "$BASE/api/health" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { log "the server did not start:"; cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done

TOKEN="$(curl -fsS -X POST "$BASE/api/auth/signup" -H 'content-type: application/json' \
    -d '{"tenant_name":"Schemathesis","user_name":"Fuzz Admin","email":"fuzz@example.com","password":"Sturdy-Otter-4821"}' \
    | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"
# Some data so that operations on ids have something to find.
curl -fsS -X POST "$BASE/api/tickets" -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \
    -d '{"subject":"Printer on fire","body":"It is on fire.","customer_name":"Pat","customer_email":"pat@example.com"}' >/dev/null

log "running against $BASE (max $MAX_EXAMPLES examples per operation)"
status=0
login() {
    curl -fsS -X POST "$BASE/api/auth/login" -H 'content-type: application/json' \
        -d '{"email":"fuzz@example.com","password":"Sturdy-Otter-4821"}' \
        | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
run_st() {
    "$VENV/bin/st" --no-color run "$BASE/api/openapi.json" \
        --url "$BASE/api" \
        --header "Authorization: Bearer $TOKEN" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --max-examples "$MAX_EXAMPLES" \
        --phases examples,coverage,fuzzing \
        --seed 1 \
        "$@"
}
# Logging out ends the session the other operations run with: those two run last, each with a
# login of its own, so every operation is exercised with a live session.
run_st --exclude-operation-id logout --exclude-operation-id logout_all || status=$?
TOKEN="$(login)" run_st --include-operation-id logout || status=$?
TOKEN="$(login)" run_st --include-operation-id logout_all || status=$?
if [ "$status" -ne 0 ]; then
    log "violations found (exit $status); server log:"
    tail -50 "$WORK/server.log" >&2
fi
exit "$status"
