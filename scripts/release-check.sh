#!/bin/sh
# release-check.sh: roster's release is reproducible. It builds the release of HEAD twice (each
# from its own fresh clone, in another directory, at another time, under another umask) for
# TARGETS (default: one Linux and one Windows target, to stay cheap) and fails unless the two
# SHA256SUMS files, which hash every archive and bill of materials, are identical; then it checks
# that the host's binary reports the commit and the commit's date. `make test` runs it.
set -eu

targets=${TARGETS:-linux/amd64 windows/arm64}
root=$(git rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(umask 022 && TARGETS=$targets OUT=$work/a "$root/scripts/release.sh")
sleep 1
(umask 077 && TARGETS=$targets OUT=$work/b "$root/scripts/release.sh")
if ! cmp -s "$work/a/SHA256SUMS" "$work/b/SHA256SUMS"; then
	echo "release-check: FAIL: two builds of commit $(git -C "$root" rev-parse HEAD) differ:" >&2
	diff "$work/a/SHA256SUMS" "$work/b/SHA256SUMS" >&2 || true
	exit 1
fi
for target in $targets; do
	name=roster_$(echo "$target" | tr / _)
	grep -q "  $name.tar.gz\$" "$work/a/SHA256SUMS" && grep -q "  $name.cdx.json\$" "$work/a/SHA256SUMS" || {
		echo "release-check: FAIL: SHA256SUMS lists no archive or bill of materials for $target" >&2
		exit 1
	}
done
echo "release-check: two builds are identical:" >&2
cat "$work/a/SHA256SUMS" >&2

host=$(go env GOOS)_$(go env GOARCH)
if [ -f "$work/a/roster_$host.tar.gz" ]; then
	tar -xzf "$work/a/roster_$host.tar.gz" -C "$work"
	got=$("$work/roster" version)
	commit=$(git -C "$root" rev-parse HEAD)
	date=$(TZ=UTC git -C "$root" log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)
	case $got in
	*"commit $commit
date   $date"*) echo "release-check: roster version: $got" | head -n 1 >&2 ;;
	*)
		echo "release-check: FAIL: roster version does not name commit $commit of $date:" >&2
		echo "$got" >&2
		exit 1
		;;
	esac
fi
