#!/usr/bin/env bash
# Run a command against a real OpenID Provider (oidc-provider) on loopback.
#
#   tests/interop/run.sh cargo test -p pixie-auth --test interop -- --ignored
#   tests/interop/run.sh            # no command: print the exports and wait
#
# Installs the pinned provider with `npm ci` when needed, starts
# `node provider.mjs` on an ephemeral port, exports
#   PIXIE_INTEROP_ISSUER     e.g. http://127.0.0.1:41234 (PAR and DPoP offered, device flow)
#   PIXIE_INTEROP_STRICT_ISSUER  $PIXIE_INTEROP_ISSUER/strict: requires PAR, DPoP-bound
#                            tokens and DPoP nonces (see provider.mjs)
#   PIXIE_INTEROP_CLIENT_ID  pixie-interop
#   PIXIE_INTEROP_PERSON     "<python3> <abs path>/oidc_person.py" (split on spaces)
# runs the command, and stops the provider when the command ends.
# PIXIE_INTEROP_VERBOSE=1 makes the provider log every request on stderr.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# --- the provider's dependencies -------------------------------------------
stamp="$here/node_modules/.package-lock.json" # written by npm ci / npm install
if [[ ! -d "$here/node_modules" || ! -f "$stamp" || "$here/package-lock.json" -nt "$stamp" ]]; then
    echo "interop: npm ci in $here" >&2
    (cd "$here" && npm ci --no-audit --no-fund >&2)
    touch "$stamp"
fi

# --- the person's interpreter ----------------------------------------------
# The real interpreter path, not a version-manager shim whose choice of
# Python could depend on the directory a test runs in.
python="${PYTHON:-python3}"
python="$("$python" -c 'import sys; assert sys.version_info >= (3, 10), sys.version; print(sys.executable)')"

# --- start the provider -----------------------------------------------------
workdir="$(mktemp -d "${TMPDIR:-/tmp}/pixie-interop.XXXXXX")"
provider_pid=""

cleanup() {
    local status=$?
    if [[ -n "$provider_pid" ]] && kill -0 "$provider_pid" 2>/dev/null; then
        kill -TERM "$provider_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$provider_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$provider_pid" 2>/dev/null || true
        wait "$provider_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The Node scripts/setup.sh fetched when the system's is older than 20, else the system's.
node_bin=$(ls "$here"/.node/node_modules/node-linux-*/bin/node 2>/dev/null | head -n1 || true)
node_bin=${node_bin:-node}
"$node_bin" "$here/provider.mjs" --port 0 >"$workdir/provider.out" &
provider_pid=$!

issuer=""
# Generous: a loaded 2-core CI machine has been seen to take long here.
deadline=$((SECONDS + 120))
next_word=$((SECONDS + 15))
while :; do
    if [[ -s "$workdir/provider.out" ]] && IFS= read -r line <"$workdir/provider.out" \
        && [[ "$line" =~ ^\{\"issuer\":\"(http://127\.0\.0\.1:[0-9]+)\"\}$ ]]; then
        issuer="${BASH_REMATCH[1]}"
        break
    fi
    if ! kill -0 "$provider_pid" 2>/dev/null; then
        echo "interop: the provider exited before it was ready" >&2
        exit 1
    fi
    if ((SECONDS >= next_word)); then
        echo "interop: still waiting for the provider ($((SECONDS - deadline + 120)) s)" >&2
        next_word=$((SECONDS + 15))
    fi
    if ((SECONDS >= deadline)); then
        echo "interop: no issuer line from the provider within 120 s; its stdout so far:" >&2
        cat "$workdir/provider.out" >&2 || true
        ps -o pid,stat,etime,time,wchan:20,cmd -p "$provider_pid" >&2 || true
        exit 1
    fi
    sleep 0.1
done

export PIXIE_INTEROP_ISSUER="$issuer"
export PIXIE_INTEROP_STRICT_ISSUER="$issuer/strict"
export PIXIE_INTEROP_CLIENT_ID="pixie-interop"
export PIXIE_INTEROP_PERSON="$python $here/oidc_person.py"

if (($# == 0)); then
    printf 'export PIXIE_INTEROP_ISSUER=%q\n' "$PIXIE_INTEROP_ISSUER"
    printf 'export PIXIE_INTEROP_STRICT_ISSUER=%q\n' "$PIXIE_INTEROP_STRICT_ISSUER"
    printf 'export PIXIE_INTEROP_CLIENT_ID=%q\n' "$PIXIE_INTEROP_CLIENT_ID"
    printf 'export PIXIE_INTEROP_PERSON=%q\n' "$PIXIE_INTEROP_PERSON"
    echo "interop: provider running (pid $provider_pid); Ctrl-C to stop" >&2
    set +e
    wait "$provider_pid"
    exit $?
fi

echo "interop: issuer $PIXIE_INTEROP_ISSUER" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
