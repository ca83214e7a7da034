#!/usr/bin/env bash
# What Pixie's release binary is made of, beside the floor's (bench/floor): `cargo bloat`
# on both, built unstripped with the release profile into their own target dir (the
# stripped binaries bench/run.sh measures are not touched), grouped by bench/size.py.
# Needs cargo-bloat (`cargo install cargo-bloat`). Prints a Markdown table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
if ! command -v cargo-bloat >/dev/null; then
  echo "bench/size.sh needs cargo-bloat: cargo install cargo-bloat" >&2
  exit 2
fi
export CARGO_PROFILE_RELEASE_STRIP=false CARGO_TARGET_DIR="$root/target/bloat"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cargo bloat --release -q -p pixie --bin pixie --crates -n 0 --message-format json > "$out/pixie.json"
cargo bloat --release -q -p pixie-floor --bin pixie-floor --crates -n 0 --message-format json > "$out/floor.json"
python3 bench/size.py "$out/pixie.json" "$out/floor.json"
