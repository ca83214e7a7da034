#!/usr/bin/env bash
# Build the .deb, install it, check the desktop registers dev.pixie.app for it, sign in
# through the installed app with the redirect delivered by `gio open`, then uninstall and
# check nothing is left. Needs root or sudo. Prints its figures and `N passed, N failed`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
passed=0; failed=0
check() { # name, command...
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $name"; else failed=$((failed + 1)); echo "FAIL $name"; fi
}

deb=$(scripts/bundle.sh | tail -n 1)
echo "# release binary: $(stat -c %s target/release/pixie) bytes; .deb: $(stat -c %s "$deb") bytes ($deb)"

$sudo apt-get install -y "$deb"
check "installs /usr/bin/pixie" test -x /usr/bin/pixie
check "installs the link forwarder /usr/bin/pixie-open" test -x /usr/bin/pixie-open
check "the link forwarder loads neither GTK nor WebKit" \
  sh -c '! ldd /usr/bin/pixie-open | grep -q -e webkit -e gtk'
desktop=$(dpkg -L pixie | grep -m1 '/usr/share/applications/.*\.desktop$')
check "ships a desktop file that handles dev.pixie.app" grep -q '^MimeType=x-scheme-handler/dev.pixie.app;' "$desktop"
check "the desktop file passes the link to the forwarder" grep -q '^Exec=pixie-open %u$' "$desktop"
id=$(basename "$desktop")
# A fresh person's settings: empty XDG config and data folders, removed at the end.
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
mkdir -p "$fresh/config" "$fresh/data"
query() { XDG_CONFIG_HOME="$fresh/config" XDG_DATA_HOME="$fresh/data" xdg-mime query default x-scheme-handler/dev.pixie.app; }
handler=$(query)
check "xdg-mime names the installed desktop file ($handler)" test "$handler" = "$id"
check "pixie --unregister leaves the package's desktop file alone" \
  sh -c 'XDG_CONFIG_HOME="$1/config" XDG_DATA_HOME="$1/data" /usr/bin/pixie --unregister && test -e "$2"' _ "$fresh" "$desktop"

# A whole sign-in through the installed app: the sandboxed desktop finds the system's
# desktop file, so `gio open` of the redirect reaches /usr/bin/pixie.
if PIXIE_APP=/usr/bin/pixie PIXIE_E2E_HANDLER="$id" tests/e2e/run.sh "sign in through" "twice"; then
  passed=$((passed + 1)); echo "ok   sign in through the installed app"
else
  failed=$((failed + 1)); echo "FAIL sign in through the installed app"
fi

$sudo apt-get remove -y pixie
check "uninstall removes the binary" test ! -e /usr/bin/pixie
check "uninstall removes the link forwarder" test ! -e /usr/bin/pixie-open
check "uninstall removes the desktop file" test ! -e "$desktop"
left=$(query)
check "no handler is left for dev.pixie.app" test -z "$left"

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
