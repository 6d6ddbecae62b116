#!/bin/sh
# release.sh: build roster's release of the commit checked out (HEAD), into OUT (default dist/):
#
#   roster_OS_ARCH.tar.gz     the binary (roster, or roster.exe on Windows), for each target
#   roster_OS_ARCH.cdx.json   its software bill of materials (CycloneDX JSON, cyclonedx-gomod)
#   SHA256SUMS                the SHA-256 of each of the files above (coreutils sha256sum)
#
# The archives carry no version in their names: a release is a directory named after its tag,
# as GitHub serves it (…/releases/download/v1.2.3/roster_linux_amd64.tar.gz), and a mirror
# keeps the layout (docs/operations.md#mirroring-a-release).
#
# The build is reproducible: the same commit gives the same bytes, wherever it is checked out
# and whenever it is built. It builds a fresh clone of HEAD, so uncommitted changes never reach
# a release. The binaries are built with -trimpath (no local paths) and without
# cgo; version, commit and date come from the commit through Go's VCS stamping (`roster
# version`), never from the clock; the archives take the commit's time for their files and
# gzip -n leaves out its own. scripts/release-check.sh builds twice and compares.
#
# TARGETS (default: linux, macOS and Windows on amd64 and arm64) limits the build, e.g.
# TARGETS=linux/amd64. Needs git, GNU tar, gzip and sha256sum; cyclonedx-gomod is run at a
# pinned version, into a temporary directory, so nothing is installed.
set -eu

out=${OUT:-dist}
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
cyclonedx=github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@v1.10.0
go=${GO:-go}

root=$(git rev-parse --show-toplevel)
case $out in /*) ;; *) out=$(pwd)/$out ;; esac
commit=$(git -C "$root" rev-parse HEAD)
if [ -n "$(git -C "$root" status --porcelain)" ]; then
	echo "release: warning: uncommitted changes are not in the release: it is built from commit $commit" >&2
fi
rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
# cyclonedx-gomod runs on this machine and reads the target from GOOS and GOARCH.
GOBIN=$work/bin "$go" install "$cyclonedx"
git clone -q --no-checkout "$root" "$work/src"
git -C "$work/src" checkout -q --detach "$commit"
epoch=$(git -C "$work/src" log -1 --format=%ct)
cd "$work/src"
for target in $targets; do
	os=${target%/*}
	arch=${target#*/}
	exe=roster
	[ "$os" != windows ] || exe=roster.exe
	name=roster_${os}_${arch}
	rm -rf "$stage"
	mkdir "$stage"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$go" build -trimpath -buildvcs=true -ldflags='-s -w' -o "$stage/$exe" ./cmd/roster
	tar --sort=name --owner=0 --group=0 --numeric-owner --mode=0755 --mtime="@$epoch" --format=ustar \
		-C "$stage" -cf - "$exe" | gzip -n -9 >"$out/$name.tar.gz"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$work/bin/cyclonedx-gomod" app -json -licenses -noserial -notimestamp \
		-main cmd/roster -output "$out/$name.cdx.json" .
	echo "release: $out/$name.tar.gz" >&2
done
(cd "$out" && sha256sum roster_* >SHA256SUMS)
echo "release: $out/SHA256SUMS" >&2
