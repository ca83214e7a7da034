#!/usr/bin/env bash
# Pixie's real-window suite: the built app in a virtual display with its own session bus,
# driven by tauri-driver + WebKitWebDriver, redirects delivered by `gio open`.
# Usage: tests/e2e/run.sh [scenario-name-fragment ...]
# Needs what scripts/setup.sh installs; builds the app if it is missing.
#
# Three layers:
#   1. this script, outside: builds what is missing, starts bystanders that look like the
#      person's own keyring daemon and Pixie, runs layer 2, then checks the bystanders
#      survived and stops them by their PIDs;
#   2. sandbox.py: a private XDG sandbox (its own XDG_RUNTIME_DIR, so the bus, keyring
#      sockets and portals live inside it); when the run ends it stops what the run started,
#      by PID, unmounts, and removes the sandbox — without changing the verdict;
#   3. this script again, inside `xvfb-run` and `dbus-run-session`: a keyring, then the suite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export PATH="$HOME/.cargo/bin:$PATH"
export PIXIE_APP="${PIXIE_APP:-$root/target/debug/pixie}"

if [ -z "${PIXIE_E2E_INNER:-}" ]; then
  if [ ! -x "$PIXIE_APP" ]; then
    (cd "$root" && cargo build -p pixie)
  fi
  # The misbehaving provider (its `faults` feature) for the hostile-input scenario. Built on
  # its own: building it together with the app would let cargo unify the feature into the app.
  idp="$root/target/debug/pixie-dev-idp"
  if [ ! -x "$idp" ] || ! "$idp" --list-faults >/dev/null 2>&1; then
    (cd "$root" && cargo build -p pixie-dev-idp --features faults --bin pixie-dev-idp)
  fi
  venv="$here/.venv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  fi

  # Bystanders: processes of "the person" whose command lines match the patterns a cleanup
  # by name used to end (`gnome-keyring-daemon.*--components=secrets`, `^$PIXIE_APP`, and
  # `^$PIXIE_APP dev.pixie.app:`). The suite must leave them running. They start before the
  # sandbox exists, so nothing marks them as the run's.
  bystanders=()
  (exec -a "gnome-keyring-daemon --start --foreground --components=secrets" sleep 900) &
  bystanders+=($!)
  (exec -a "$PIXIE_APP" sleep 900) &
  bystanders+=($!)
  (exec -a "$PIXIE_APP dev.pixie.app:/oauth/callback?code=bystander&state=bystander" sleep 900) &
  bystanders+=($!)
  stop_bystanders() {
    for pid in "${bystanders[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${bystanders[@]}"; do wait "$pid" 2>/dev/null || true; done
  }
  trap stop_bystanders EXIT

  set +e
  PIXIE_E2E_INNER=display python3 "$here/sandbox.py" -- "$0" "$@"
  status=$?
  set -e

  gone=()
  for pid in "${bystanders[@]}"; do
    kill -0 "$pid" 2>/dev/null || gone+=("$pid")
  done
  if [ ${#gone[@]} -gt 0 ]; then
    echo "FAIL bystanders: the run ended processes it did not start (PIDs ${gone[*]}): something still stops processes by name" >&2
    [ "$status" -ne 0 ] || status=1
  else
    echo "# bystanders: the ${#bystanders[@]} look-alikes of your keyring and Pixie are still running" >&2
  fi
  exit "$status"
fi

if [ "$PIXIE_E2E_INNER" = display ]; then
  # A display first, then the bus, so services the bus starts (portals) can reach the display.
  export PIXIE_E2E_INNER=bus
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$@"
fi
if [ "$PIXIE_E2E_INNER" = bus ]; then
  # The bus listens in the sandbox's XDG_RUNTIME_DIR (see sandbox.py).
  export PIXIE_E2E_INNER=suite
  exec dbus-run-session --config-file="$PIXIE_E2E_DBUS_CONFIG" -- "$0" "$@"
fi

export PIXIE_IDP_BIN="$root/target/debug/pixie-dev-idp"
# Node for oidc-provider (see scripts/setup.sh: a newer one in tests/interop/.node if needed).
PIXIE_NODE=$(ls "$root"/tests/interop/.node/node_modules/node-linux-*/bin/node 2>/dev/null | head -n1 || true)
export PIXIE_NODE=${PIXIE_NODE:-node}

export PIXIE_E2E_DIR="$here/out"
rm -rf "$PIXIE_E2E_DIR"
mkdir -p "$PIXIE_E2E_DIR"
export PIXIE_BROWSER="$here/browser.py"
export PIXIE_EVENT_LOG="$PIXIE_E2E_DIR/events.jsonl"
export NO_AT_BRIDGE=1
export RUST_LOG="${RUST_LOG:-pixie_app=info,pixie_auth=info}"

# A real Secret Service on this session bus: gnome-keyring with its login keyring created
# and unlocked in the sandbox, in the foreground so its PID is ours to stop. (An empty
# password makes gnome-keyring ask a prompter before creating the keyring, and there is
# none here, so the test keyring has a throwaway one.)
gnome-keyring-daemon --foreground --unlock --components=secrets \
  < <(printf 'pixie-e2e') > "$PIXIE_E2E_DIR/gnome-keyring.log" 2>&1 &
keyring=$!
stop_keyring() {
  kill "$keyring" 2>/dev/null || true
  wait "$keyring" 2>/dev/null || true
}
trap stop_keyring EXIT
export GNOME_KEYRING_CONTROL="$XDG_RUNTIME_DIR/keyring"
for _ in $(seq 1 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
    string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
  sleep 0.1
done

cd "$here"
set +e
"$here/.venv/bin/python" "${PIXIE_E2E_SCRIPT:-suite.py}" "$@"
