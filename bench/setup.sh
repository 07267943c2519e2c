#!/usr/bin/env bash
# Installs what the benchmark compares against, outside the project's dependencies (CI never
# needs them): better-sqlite3 and BullMQ into .cache/bench, redis-server from Debian.
# Idempotent: fast when already set up.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD/.cache/bench
if [ -f "$ROOT/.ready" ] && command -v redis-server >/dev/null; then exit 0; fi
if ! command -v redis-server >/dev/null; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
fi
mkdir -p "$ROOT"
cd "$ROOT"
[ -f package.json ] || echo '{"private":true}' > package.json
npm install --no-audit --no-fund better-sqlite3@11 bullmq@5 croner@9 >/dev/null 2>&1
if ! node -e "require('better-sqlite3')" 2>/dev/null; then
  # Its prebuilt binary is a download from GitHub; build it from source instead.
  NODEDIR=$(npm config get nodedir 2>/dev/null || true)
  [ -n "$NODEDIR" ] && [ "$NODEDIR" != "undefined" ] || NODEDIR=/usr
  (cd node_modules/better-sqlite3 && npx --yes node-gyp rebuild --release --nodedir="$NODEDIR" >/dev/null 2>&1) || true
  node -e "require('better-sqlite3')" || { echo "better-sqlite3 did not build"; exit 1; }
fi
touch .ready
