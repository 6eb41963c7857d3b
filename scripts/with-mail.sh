#!/usr/bin/env bash
# Runs a command with a throw-away SMTP server for the mail tests:
#
#   scripts/with-mail.sh cargo test --workspace --test smtp
#
# Installs aiosmtpd into the git-ignored venv .venv-mail, starts scripts/smtp_test_server.py on a
# free port, exports OPSFLOW_TEST_SMTP_PORT (and OPSFLOW_TEST_SMTP_DIR, where it writes every
# message it accepts), runs the command and stops the server. Returns the command's exit code;
# fails if the server cannot be installed or does not come up (mail tests are never skipped).
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 <command> [args...]" >&2
    exit 2
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-mail"
AIOSMTPD_VERSION="1.4.6"
PYTHON="${PYTHON:-python3}"

log() { echo "with-mail: $*" >&2; }

if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('aiosmtpd') != '$AIOSMTPD_VERSION')" 2>/dev/null; then
    log "installing aiosmtpd==$AIOSMTPD_VERSION into $VENV"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

SMTP_PORT="$(free_port)"
SMTP_DIR="$(mktemp -d -t opsflow-smtp.XXXXXX)"
LOG="$(mktemp -t opsflow-smtp.XXXXXX.log)"
"$VENV/bin/python" "$ROOT/scripts/smtp_test_server.py" --port "$SMTP_PORT" --dir "$SMTP_DIR" >"$LOG" 2>&1 &
SMTP_PID=$!

stop_servers() {
    kill -TERM "$SMTP_PID" 2>/dev/null || true
    wait "$SMTP_PID" 2>/dev/null || true
    rm -rf "$SMTP_DIR" "$LOG"
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! "$VENV/bin/python" - "$SMTP_PORT" "$SMTP_PID" <<'PY'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
then
    log "the SMTP test server did not come up on port $SMTP_PORT; its log:"
    cat "$LOG" >&2 || true
    exit 1
fi

export OPSFLOW_TEST_SMTP_PORT="$SMTP_PORT" OPSFLOW_TEST_SMTP_DIR="$SMTP_DIR"
log "SMTP test server on 127.0.0.1:$SMTP_PORT (aiosmtpd $AIOSMTPD_VERSION), messages in $SMTP_DIR"

set +e
"$@"
STATUS=$?
set -e
exit "$STATUS"
