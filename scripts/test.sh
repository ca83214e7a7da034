#!/usr/bin/env bash
# Set up what is missing, then run every check and test: format, lints, unit and protocol
# tests, and the real-window suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" test
export PATH="$HOME/.cargo/bin:$PATH"
cd "$root"

step() { printf '\n== %s\n' "$*"; }
step "cargo fmt --check"
cargo fmt --all --check
step "imports go one way"
for src in crates/pixie-auth/src crates/pixie-dev-idp/src src-tauri/src; do
  python3 scripts/import-cycles.py "$src"
done
step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
step "cargo test"
cargo test --workspace
step "interop: the core against oidc-provider (tests/interop)"
tests/interop/run.sh cargo test -p pixie-auth --test interop -- --ignored
step "real window (tests/e2e)"
cargo build -p pixie --quiet
cargo build -p pixie-dev-idp --features faults --bin pixie-dev-idp --quiet
tests/e2e/run.sh

# Packaging: build the .deb, install it, sign in through the installed app, uninstall.
# It installs a system package, so it runs in CI (CI=true) or when asked for.
if [ "${CI:-}" = true ] || [ "${PIXIE_TEST_INSTALL:-}" = 1 ]; then
  step "install (tests/install)"
  tests/install/run.sh
fi
