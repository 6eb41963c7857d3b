#!/usr/bin/env bash
# Runs a command with throw-away SMTP and IMAP servers for the mail tests:
#
#   scripts/with-mail.sh cargo test -p opsflow-mail
#
# SMTP: installs aiosmtpd into the git-ignored venv .venv-mail and starts
# scripts/smtp_test_server.py on a free port: OPSFLOW_TEST_SMTP_PORT, and OPSFLOW_TEST_SMTP_DIR
# where it writes every message it accepts.
# IMAP: Debian's Dovecot (dovecot-imapd, installed with apt-get when missing and running as
# root), a foreground instance in a temporary folder with one passwd-file user (support /
# Imap-Pass-4821) and a Maildir: OPSFLOW_TEST_IMAP_PORT.
# Runs the command, stops both servers and returns the command's exit code; fails if a server
# cannot be installed or does not come up (mail tests are never skipped).
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

if ! command -v dovecot >/dev/null 2>&1 && [ ! -x /usr/sbin/dovecot ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        log "installing dovecot-imapd"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null 2>&1 || {
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dovecot-imapd >/dev/null
        }
    else
        log "Dovecot is needed for the IMAP tests: sudo apt-get install -y dovecot-imapd"
        exit 1
    fi
fi
DOVECOT="$(command -v dovecot || echo /usr/sbin/dovecot)"

SMTP_PORT="$(free_port)"
SMTP_DIR="$(mktemp -d -t opsflow-smtp.XXXXXX)"
LOG="$(mktemp -t opsflow-smtp.XXXXXX.log)"
"$VENV/bin/python" "$ROOT/scripts/smtp_test_server.py" --port "$SMTP_PORT" --dir "$SMTP_DIR" >"$LOG" 2>&1 &
SMTP_PID=$!

IMAP_PORT="$(free_port)"
IMAP_DIR="$(mktemp -d -t opsflow-imap.XXXXXX)"
# Dovecot's auth and mail processes run as its own users: they must reach the folder.
chmod 755 "$IMAP_DIR"
mkdir -p "$IMAP_DIR/run" "$IMAP_DIR/state" "$IMAP_DIR/home" "$IMAP_DIR/mail"
cat >"$IMAP_DIR/dovecot.conf" <<CONF
base_dir = $IMAP_DIR/run
state_dir = $IMAP_DIR/state
log_path = $IMAP_DIR/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
protocols = imap
listen = 127.0.0.1
first_valid_uid = 100
mail_location = maildir:$IMAP_DIR/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $IMAP_DIR/passwd
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=$IMAP_DIR/home/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
CONF
echo 'support:{PLAIN}Imap-Pass-4821::::::' >"$IMAP_DIR/passwd"
# Dovecot refuses uid 0 for mail: the mail folders belong to its own user.
if [ "$(id -u)" = 0 ]; then chown -R dovecot:dovecot "$IMAP_DIR/home" "$IMAP_DIR/mail"; fi
"$DOVECOT" -F -c "$IMAP_DIR/dovecot.conf" >"$IMAP_DIR/out.log" 2>&1 &
IMAP_PID=$!

stop_servers() {
    kill -TERM "$SMTP_PID" "$IMAP_PID" 2>/dev/null || true
    wait "$SMTP_PID" 2>/dev/null || true
    wait "$IMAP_PID" 2>/dev/null || true
    rm -rf "$SMTP_DIR" "$LOG" "$IMAP_DIR"
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() {
    "$VENV/bin/python" - "$1" "$2" <<'PY'
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
}
if ! wait_for "$SMTP_PORT" "$SMTP_PID"; then
    log "the SMTP test server did not come up on port $SMTP_PORT; its log:"
    cat "$LOG" >&2 || true
    exit 1
fi
if ! wait_for "$IMAP_PORT" "$IMAP_PID"; then
    log "Dovecot did not come up on port $IMAP_PORT; its log:"
    cat "$IMAP_DIR/out.log" "$IMAP_DIR/dovecot.log" >&2 || true
    exit 1
fi

export OPSFLOW_TEST_SMTP_PORT="$SMTP_PORT" OPSFLOW_TEST_SMTP_DIR="$SMTP_DIR"
export OPSFLOW_TEST_IMAP_PORT="$IMAP_PORT"
log "SMTP test server on 127.0.0.1:$SMTP_PORT (aiosmtpd $AIOSMTPD_VERSION), messages in $SMTP_DIR"
log "IMAP test server on 127.0.0.1:$IMAP_PORT (Dovecot, user support)"

set +e
"$@"
STATUS=$?
set -e
exit "$STATUS"
