#!/usr/bin/env bash
# Pixie's real-window suite: the built app in a virtual display with its own session bus,
# driven by tauri-driver + WebKitWebDriver, redirects delivered by `gio open`.
# Usage: tests/e2e/run.sh [scenario-name-fragment ...]
# Needs what scripts/setup.sh installs; builds the app if it is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${PIXIE_E2E_INNER:-}" ]; then
  export PIXIE_E2E_INNER=1
  exec dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi

export PATH="$HOME/.cargo/bin:$PATH"
export PIXIE_APP="${PIXIE_APP:-$root/target/debug/pixie}"
if [ ! -x "$PIXIE_APP" ]; then
  (cd "$root" && cargo build -p pixie)
fi
# The misbehaving provider (its `faults` feature) for the hostile-input scenario. Built on its
# own: building it together with the app would let cargo unify the feature into the app.
export PIXIE_IDP_BIN="$root/target/debug/pixie-dev-idp"
if [ ! -x "$PIXIE_IDP_BIN" ] || ! "$PIXIE_IDP_BIN" --list-faults >/dev/null 2>&1; then
  (cd "$root" && cargo build -p pixie-dev-idp --features faults --bin pixie-dev-idp)
fi

# Node for oidc-provider (see scripts/setup.sh: a newer one in tests/interop/.node if needed).
PIXIE_NODE=$(ls "$root"/tests/interop/.node/node_modules/node-linux-*/bin/node 2>/dev/null | head -n1 || true)
export PIXIE_NODE=${PIXIE_NODE:-node}

export PIXIE_E2E_DIR="$here/out"
rm -rf "$PIXIE_E2E_DIR"
mkdir -p "$PIXIE_E2E_DIR"
# A private desktop: the scheme registration, mimeapps.list and app data go here, never
# into the developer's own home.
sandbox=$(mktemp -d)
export XDG_DATA_HOME="$sandbox/data" XDG_CONFIG_HOME="$sandbox/config" XDG_CACHE_HOME="$sandbox/cache"
mkdir -p "$XDG_DATA_HOME/applications" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$sandbox/downloads"
echo "XDG_DOWNLOAD_DIR=\"$sandbox/downloads\"" > "$XDG_CONFIG_HOME/user-dirs.dirs"
export PIXIE_BROWSER="$here/browser.py"
export PIXIE_EVENT_LOG="$PIXIE_E2E_DIR/events.jsonl"
export NO_AT_BRIDGE=1
export RUST_LOG="${RUST_LOG:-pixie_app=info,pixie_auth=info}"

venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

# A real Secret Service on this session bus: gnome-keyring with its login keyring created
# and unlocked in the sandbox. (An empty password makes gnome-keyring ask a prompter before
# creating the keyring, and there is none here, so the test keyring has a throwaway one.)
eval "$(printf 'pixie-e2e' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null | sed 's/^/export /')"
export GNOME_KEYRING_CONTROL

cleanup() {
  pkill -f "^$PIXIE_APP" 2>/dev/null || true
  pkill -u "$(id -u)" -f "gnome-keyring-daemon.*--components=secrets" 2>/dev/null || true
  rm -rf "$sandbox"
}
trap cleanup EXIT

export PIXIE_E2E_SANDBOX="$sandbox"
cd "$here"
"$venv/bin/python" "${PIXIE_E2E_SCRIPT:-suite.py}" "$@"
