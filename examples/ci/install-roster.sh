#!/bin/sh
# install-roster.sh VERSION DIR: install roster's release VERSION (a tag, e.g. v1.2.3) for this
# machine into DIR, after checking the archive against the release's SHA256SUMS; a download that
# does not match is refused and nothing is installed. Copy it into your repository as
# ci/install-roster.sh, next to roster-ci.sh; the examples in examples/ci run it.
#
# ROSTER_DOWNLOAD is where releases are fetched from, one directory per tag holding
# roster_OS_ARCH.tar.gz and SHA256SUMS: the project's GitHub releases by default, or your
# internal mirror (docs/operations.md#mirroring-a-release). SHA256SUMS comes from the same place
# as the archive, so it catches a damaged download, not a replaced release: set ROSTER_SHA256 to
# the archive's SHA-256 as published for the tag and the archive must match that too. Needs
# curl, tar and sha256sum.
set -eu

[ $# -eq 2 ] || { echo "usage: install-roster.sh VERSION DIR" >&2; exit 1; }
version=$1
dir=$2
base=${ROSTER_DOWNLOAD:-https://github.com/rosterhq/roster/releases/download}
case $(uname -s) in
Linux) os=linux ;;
Darwin) os=darwin ;;
*) echo "install-roster: no release for $(uname -s): build roster with go install" >&2; exit 1 ;;
esac
case $(uname -m) in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) echo "install-roster: no release for $(uname -m): build roster with go install" >&2; exit 1 ;;
esac
archive=roster_${os}_${arch}.tar.gz
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL -o "$tmp/$archive" "$base/$version/$archive"
curl -fsSL -o "$tmp/SHA256SUMS" "$base/$version/SHA256SUMS"
grep "  $archive\$" "$tmp/SHA256SUMS" >"$tmp/sum" || {
	echo "install-roster: $base/$version/SHA256SUMS lists no $archive: nothing was installed" >&2
	exit 1
}
(cd "$tmp" && sha256sum -c sum) || {
	echo "install-roster: $archive does not match the SHA-256 in SHA256SUMS: nothing was installed" >&2
	exit 1
}
if [ -n "${ROSTER_SHA256:-}" ] && [ "$(cut -d' ' -f1 "$tmp/sum")" != "$ROSTER_SHA256" ]; then
	echo "install-roster: $archive is not the one pinned in ROSTER_SHA256: nothing was installed" >&2
	exit 1
fi
mkdir -p "$dir"
tar -xzf "$tmp/$archive" -C "$dir" roster
"$dir/roster" version
