#!/usr/bin/env bash
# Sets up a real VS Code (code-server from the npm registry) and headless Chromium, offline,
# into .cache/vscode (ignored by git). Idempotent: fast when already set up.
# The steps and why each is needed: ../shared/docs/real-vscode.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD/.cache/vscode
CS=$ROOT/node_modules/code-server
VS=$CS/lib/vscode
NODEDIR=$(npm config get nodedir 2>/dev/null || true)
[ -n "$NODEDIR" ] && [ "$NODEDIR" != "undefined" ] || NODEDIR=/usr

if [ -f "$ROOT/.ready" ]; then echo "code-server ready in $ROOT"; exit 0; fi

need=()
command -v chromium >/dev/null || need+=(chromium)
command -v rg >/dev/null || need+=(ripgrep)
[ -f /usr/include/krb5.h ] || [ -f /usr/include/krb5/krb5.h ] || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p "$ROOT"
cd "$ROOT"
[ -f package.json ] || echo '{"private":true}' > package.json
[ -d "$CS" ] || npm install --no-audit --no-fund --ignore-scripts code-server@4.100.3 >/dev/null

( cd node_modules/argon2 && ../.bin/node-pre-gyp install --fallback-to-build --nodedir="$NODEDIR" >/dev/null 2>&1 ) || true
[ -f node_modules/argon2/lib/binding/napi-v3/argon2.node ] || { echo "argon2 did not build"; exit 1; }

cd "$VS"
npm install --no-audit --no-fund --omit=dev --ignore-scripts >/dev/null
npm rebuild kerberos @parcel/watcher @vscode/spdlog @vscode/deviceid native-watchdog >/dev/null
NPM_GYP=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js
( cd node_modules/node-pty && node "$NPM_GYP" rebuild --nodedir="$NODEDIR" >/dev/null 2>&1 ) || true
[ -f node_modules/node-pty/build/Release/pty.node ] || { echo "node-pty did not build"; exit 1; }
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
ln -sfn node_modules node_modules.asar
( cd bin/remote-cli && ln -sfn code-linux.sh code-server )
( cd bin/helpers && ln -sfn browser-linux.sh browser.sh )
( cd extensions && npm install --no-audit --no-fund --omit=dev --ignore-scripts >/dev/null )

cd "$ROOT"
[ -d node_modules/playwright-core ] || npm install --no-audit --no-fund playwright-core@1 >/dev/null
touch "$ROOT/.ready"
echo "code-server ready in $ROOT"
