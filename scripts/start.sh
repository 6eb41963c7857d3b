#!/usr/bin/env bash
# Builds the web UI and the server, creates the demo workspace, and starts OpsFlow Agent Desk
# on http://127.0.0.1:8080 with embedded SQLite (data/opsflow.db) and the offline triage engine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d frontend/node_modules ]; then
  (cd frontend && npm ci --no-audit --no-fund)
fi
(cd frontend && npm run build)
cargo build --release -p opsflow
exec target/release/opsflow serve --seed-demo "$@"
