#!/usr/bin/env bash
# Installs what Pixie needs on Debian/Ubuntu, only what is missing.
#   scripts/setup.sh        what building and running the app needs
#   scripts/setup.sh test   that, plus what the test suites need
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-run}

run_pkgs=(
  build-essential pkg-config
  libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev   # Tauri 2 on Linux (WebKitGTK 4.1)
  xdg-utils desktop-file-utils libglib2.0-bin         # scheme registration, gio
)
test_pkgs=(
  xvfb xauth dbus dbus-x11 at-spi2-core               # a display and a session bus
  webkit2gtk-driver                                   # WebKitWebDriver, for tauri-driver
  gnome-keyring libsecret-tools                       # a real Secret Service, and secret-tool
  xdg-desktop-portal xdg-desktop-portal-gtk fuse3     # what desktops run (the document portal mounts
                                                      # FUSE): the suite must pass beside them
  imagemagick                                         # screenshots of the window
  zbar-tools                                          # zbarimg reads the device sign-in QR code
  python3 python3-venv                                # the WebDriver client
  fonts-dejavu-core
)
pkgs=("${run_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")
# oidc-provider (the interop OP) runs on Node. Asked for by command, not by package: a Node
# from elsewhere (NodeSource's nodejs bundles npm) must not be fought with Debian's npm.
if [ "$mode" = test ]; then
  command -v node >/dev/null || pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "setup: installing ${missing[*]} (apt; the first time this takes a few minutes)"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Rust: the version rust-toolchain.toml pins (with clippy and rustfmt), through rustup. A
# distribution's packaged rustc (Debian 12 ships 1.63) is found by `command -v cargo` but
# cannot build edition 2024, so its version is checked too.
export PATH="$HOME/.cargo/bin:$PATH"
pinned=$(sed -n 's/^channel *= *"\(.*\)"/\1/p' "$root/rust-toolchain.toml")
needed=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$root/Cargo.toml")
get_rust="Install rustup from https://rustup.rs (curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh), open a new terminal so ~/.cargo/bin comes first in PATH, and run this again: this script then installs Rust $pinned with it."
if command -v rustup >/dev/null && ! rustup toolchain list | grep -q "^$pinned"; then
  echo "setup: installing Rust $pinned (rust-toolchain.toml) with rustup"
  rustup toolchain install "$pinned" --profile minimal -c clippy -c rustfmt
fi
if ! command -v cargo >/dev/null; then
  echo "setup: Rust is missing. $get_rust" >&2
  exit 1
fi
have=$(cd "$root" && rustc --version 2>/dev/null | awk '{print $2}')
if [ -z "$have" ] || [ "$(printf '%s\n%s\n' "$needed" "$have" | sort -V | head -n1)" != "$needed" ]; then
  echo "setup: the Rust found here ($(command -v rustc): ${have:-unknown version}) is too old: Pixie needs $needed or newer (edition 2024) and is tested with $pinned. A distribution's packaged rustc is older than that. $get_rust" >&2
  exit 1
fi

if [ "$mode" = test ]; then
  if ! command -v tauri-driver >/dev/null; then
    echo "setup: installing tauri-driver"
    cargo install --quiet --locked tauri-driver --version 2.1.0
  fi
  # oidc-provider 9 wants Node 20 or newer; Debian 12 and Ubuntu 24.04 ship 18. Then a
  # newer Node comes from the npm registry itself (node-linux-*, the binary in a package),
  # kept in tests/interop/.node and used by the interop scripts only.
  if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 20 ] &&
     ! ls "$root"/tests/interop/.node/node_modules/node-linux-*/bin/node >/dev/null 2>&1; then
    case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;; esac
    echo "setup: this Node is older than 20; installing Node 22 for the interop tests"
    npm install --silent --no-audit --no-fund --prefix "$root/tests/interop/.node" "node-linux-$arch@22.12.0"
  fi
  venv="$root/tests/e2e/.venv"
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating the e2e Python environment"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/e2e/requirements.txt"
  fi
fi
