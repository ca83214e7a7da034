#!/usr/bin/env bash
# Pixie's figures, in one command: the sign-in path against the libraries people would use
# instead (same provider, same steps), the micro-benchmarks, and the app's own figures
# (start-up, restore, deep link → profile, memory, size), and the app beside an empty Tauri
# window with the same Tauri, plugins and release profile (bench/floor), as ratios to it.
# Prints Markdown tables.
# Usage: bench/run.sh [N] [WARMUP] [APP_RUNS]
#   (default 200 timed, 20 warm-up sign-ins; 5 runs of each app figure)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200}
warmup=${2:-20}
export PIXIE_BENCH_RUNS=${3:-${PIXIE_BENCH_RUNS:-5}}
cd "$root"
"$root/scripts/setup.sh" test >&2
export PATH="$HOME/.cargo/bin:$PATH"

echo "# building (release)" >&2
cargo build --release -q -p pixie-bench -p pixie-dev-idp --bin pixie-bench --bin pixie-dev-idp
# The floor in the same cargo invocation as Pixie: one feature set, so both link the same
# compiled Tauri and plugins.
cargo build --release -q -p pixie -p pixie-floor
(cd bench/peers && { [ -d node_modules/openid-client ] || npm ci --no-audit --no-fund --silent; })

# Two demo providers: one with neither PAR nor DPoP (the path the peers take too), one with
# both (RFC 9126, RFC 9449), as the app meets it by default.
start_idp() {
  local out=$1; shift
  target/release/pixie-dev-idp --port 0 --auto-approve "$@" > "$out" 2>/dev/null &
  echo $!
}
idp_out=$(mktemp); bound_out=$(mktemp)
idp=$(start_idp "$idp_out" --no-par --no-dpop)
bound_idp=$(start_idp "$bound_out")
trap 'kill $idp $bound_idp 2>/dev/null || true; rm -f "$idp_out" "$bound_out"' EXIT
for _ in $(seq 1 50); do [ -s "$idp_out" ] && [ -s "$bound_out" ] && break; sleep 0.1; done
issuer=$(head -n 1 "$idp_out")
bound_issuer=$(head -n 1 "$bound_out")
client=pixie-desktop
# The demo provider knows Pixie by its own callback (per provider: RFC 9700 §4.4).
redirect="dev.pixie.app:/oauth/callback/demo"

echo "## Sign-in path: start, callback (validate + exchange + ID token), userinfo (+ sub check), picture"
echo
echo "Same demo provider (release build, --auto-approve; plain: --no-par --no-dpop), $n timed sign-ins after $warmup untimed; the browser hop is not timed."
echo
{
  target/release/pixie-bench "$issuer" "$client" "$redirect" "$n" "$warmup"
  target/release/pixie-bench "$bound_issuer" "$client" "$redirect" "$n" "$warmup"
  node bench/peers/openid-client.mjs "$issuer" "$client" "$redirect" "$n" "$warmup"
  node bench/peers/bare.mjs "$issuer" "$client" "$redirect" "$n" "$warmup"
} | python3 bench/table.py
kill $idp $bound_idp 2>/dev/null || true

echo
echo "## Micro-benchmarks (criterion, median of the estimate)"
echo
echo "| function | time |"
echo "| --- | --- |"
cargo bench -q -p pixie-auth --bench hot -- --warm-up-time 1 --measurement-time 3 2>/dev/null \
  | awk '/time:/ { gsub(/\[|\]/, ""); name = prev; if ($1 != "time:") { name = $1; } print "| " name " | " $(NF-3) " " $(NF-2) " |" } { if ($0 !~ /time:/ && $0 ~ /[a-z]/ && $0 !~ /^(Found|  [0-9])/) prev = $0 }'

echo
echo "## The app (release build, under Xvfb; median of $PIXIE_BENCH_RUNS runs, min–max)"
echo
PIXIE_APP="$root/target/release/pixie" PIXIE_FLOOR_APP="$root/target/release/pixie-floor" PIXIE_E2E_SCRIPT="$root/bench/app_figures.py" tests/e2e/run.sh | grep -v "^SpiRegistry"

echo
echo "## What the binary is made of, beside the floor's (cargo bloat, unstripped, release profile)"
echo
if command -v cargo-bloat >/dev/null; then
  bench/size.sh
else
  echo "Not measured: \`cargo install cargo-bloat\`, then \`bench/size.sh\`."
fi
