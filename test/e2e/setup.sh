#!/usr/bin/env bash
# Prepares the machine for the end-to-end tests: Debian's chromium, ripgrep and libkrb5-dev, and
# code-server (VS Code in the browser) in .e2e-cache/ at the repository root, outside node_modules
# so the extension's own `npm ci` stays light. Idempotent: a second run checks and returns.
# Prints what it did. See /work/shared/notes/real-vscode.md for why each step is needed.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="4.100.3"
cache="${E2E_CACHE:-$root/.e2e-cache}"
server_dir="$cache/code-server-$version"
bin="$server_dir/node_modules/code-server/out/node/entry.js"

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q 'install ok installed' || missing+=(libkrb5-dev)
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  # A fresh machine has no package lists yet; update only when the install cannot find a package.
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; then
    $sudo apt-get update
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
else
  echo "setup: chromium, ripgrep and libkrb5-dev already installed"
fi

if [ -f "$bin" ] && [ -f "$server_dir/.complete" ]; then
  echo "setup: code-server $version already in $server_dir"
else
  echo "setup: installing code-server $version into $server_dir (about a minute)"
  # code-server's install fetches ripgrep from GitHub, which is unreachable here; @vscode/ripgrep
  # looks in this cache first, so Debian's rg is put there under the name it expects.
  rg_cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
  rg_tar="$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
  if [ ! -f "$rg_tar" ]; then
    tmp="$(mktemp -d)"
    mkdir -p "$rg_cache"
    cp "$(command -v rg)" "$tmp/rg"
    tar czf "$rg_tar" -C "$tmp" rg
    rm -rf "$tmp"
  fi
  rm -rf "$server_dir"
  mkdir -p "$server_dir"
  echo '{"name":"e2e-code-server","private":true}' >"$server_dir/package.json"
  (cd "$server_dir" && npm_config_yes=true npm install "code-server@$version" --unsafe-perm \
    --no-audit --no-fund --no-save --loglevel=error)
  [ -f "$bin" ] || { echo "setup: code-server did not install ($bin missing)" >&2; exit 1; }
  touch "$server_dir/.complete"
fi
echo "setup: code-server at $bin"
