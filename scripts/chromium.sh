#!/usr/bin/env bash
# chromium.sh — make sure a headless Chromium is installed, and print its path.
#
# The access page (roster access --format html) and the screenshots in docs/ are checked and
# taken in Chromium. This installs Debian's package `chromium` with apt-get when no browser is
# found, so that a fresh machine and CI need no manual step. ROSTER_BROWSER, when set, names the
# browser to use instead (any Chromium or Chrome binary); nothing is installed then.
#
#   scripts/chromium.sh          install if missing; print the browser's path on stdout
set -euo pipefail

die() { echo "chromium.sh: $*" >&2; exit 1; }

if [ -n "${ROSTER_BROWSER:-}" ]; then
	command -v "$ROSTER_BROWSER" >/dev/null || die "ROSTER_BROWSER=$ROSTER_BROWSER is not an executable"
	command -v "$ROSTER_BROWSER"
	exit 0
fi
for b in chromium chromium-browser; do
	if command -v "$b" >/dev/null; then
		command -v "$b"
		exit 0
	fi
done
command -v apt-get >/dev/null || die "no Chromium found and no apt-get to install it: install Chromium and set ROSTER_BROWSER to its path"
[ "$(id -u)" -eq 0 ] || die "no Chromium found: install Debian's package chromium (apt-get install chromium) as root, or set ROSTER_BROWSER"
echo "chromium.sh: installing Debian's package chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
command -v chromium || die "apt-get installed chromium, but it is not on PATH"
