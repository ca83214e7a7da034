#!/usr/bin/env bash
# Set up what is missing, then build and start Pixie. Extra arguments go to the app.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" run
export PATH="$HOME/.cargo/bin:$PATH"
cd "$root"
cargo build -p pixie
exec "$root/target/debug/pixie" "$@"
