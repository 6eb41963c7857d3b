#!/usr/bin/env bash
# Runs every test: Rust unit, contract (SQLite and MongoDB), HTTP and doc tests; the front end's
# lint, type check, component tests and API-types freshness check; and the browser end-to-end
# tests against the real server. Starts (and stops) a MongoDB-compatible test server itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "browser for the end-to-end tests"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is needed for the browser tests: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

step "front end: install"
(cd frontend && npm ci --no-audit --no-fund)

step "front end: build (embedded by the server)"
(cd frontend && npm run build)

step "server and tests: build"
# One build for the server binary and every test target, with the same feature set, so the
# dependencies are compiled once (cargo build -p opsflow would compile them a second time).
cargo test --workspace --no-run

step "API types are fresh against the server's OpenAPI document"
target/debug/opsflow openapi > frontend/openapi.json.new
if ! cmp -s frontend/openapi.json frontend/openapi.json.new; then
  diff <(python3 -m json.tool frontend/openapi.json) <(python3 -m json.tool frontend/openapi.json.new) | head -40 || true
  rm -f frontend/openapi.json.new
  echo "frontend/openapi.json is stale: run 'target/debug/opsflow openapi > frontend/openapi.json && (cd frontend && npm run gen:api)'" >&2
  exit 1
fi
rm -f frontend/openapi.json.new
(cd frontend && npm run check:api)

step "front end: format check, lint, type check, component tests"
(cd frontend && npm run format:check && npm run lint && npm run typecheck && npm test)

step "domain crate has no I/O dependencies"
if cargo tree -p opsflow-domain --edges normal --prefix none | grep -E '^(tokio|sqlx|mongodb|poem|reqwest|hyper) ' ; then
  echo "opsflow-domain must not depend on I/O crates" >&2
  exit 1
fi

step "docs of the embeddable crates build without warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p opsflow-domain -p opsflow-ports -p opsflow-llm

step "Rust tests (SQLite, MongoDB, and a throw-away SMTP server)"
scripts/with-mongo.sh scripts/with-mail.sh cargo test --workspace --no-fail-fast

step "schemathesis over the live API (schema, status codes, content types, no 5xx)"
scripts/schemathesis.sh

step "browser end-to-end tests (Chromium)"
(cd frontend && OPSFLOW_BIN="$PWD/../target/debug/opsflow" npm run e2e)

echo
echo "all tests passed"
