#!/bin/sh
# tmux.sh: makes sure tmux is installed (from Debian's packages), for the terminal tests of
# apply's progress (internal/cli/progress_tmux_test.go). Prints tmux's path.
set -eu
if ! command -v tmux >/dev/null 2>&1; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq >&2
	$sudo apt-get install -y -qq tmux >&2
fi
command -v tmux
