#!/usr/bin/env bash
# Build Pixie's release bundle (.deb) with the pinned Tauri CLI. Prints the bundle's path.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" run
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v npm >/dev/null; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update && $sudo apt-get install -y --no-install-recommends nodejs npm
fi
cd "$root/packaging"
[ -x node_modules/.bin/tauri ] || npm ci --no-audit --no-fund --silent
cd "$root"
started=$(date +%s)
packaging/node_modules/.bin/tauri build --ci --bundles deb >&2
echo "bundle: built in $(( $(date +%s) - started )) s" >&2
ls "$root"/target/release/bundle/deb/*.deb
