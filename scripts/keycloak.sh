#!/usr/bin/env bash
# keycloak.sh — fetch, start, stop and use a local Keycloak for roster's tests and demo.
#
#   scripts/keycloak.sh fetch          download and unpack the distribution into the cache
#   scripts/keycloak.sh up             start a server in the background and wait until it is ready
#   scripts/keycloak.sh down           stop the server started by 'up'
#   scripts/keycloak.sh env            print the variables that point roster's tests at it
#   scripts/keycloak.sh run -- CMD...  run CMD against a server: the one 'up' started, or a
#                                      temporary one started and stopped around CMD
#
# TOPOLOGY picks what 'up', 'down', 'env' and 'run' mean: 'dev' (default) is one start-dev node
# with an in-memory database; 'cluster' is the production-like topology of scripts/cluster.sh —
# PostgreSQL, two Keycloak nodes in production mode clustered with each other, HAProxy in front.
#
# The distribution is the Maven artifact org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip,
# fetched with 'mvn dependency:copy' (Maven knows where its repository is) and unpacked under
# $KEYCLOAK_CACHE (default .cache/keycloak, ignored by git). Each version keeps its own folder,
# so switching versions does not download again.
#
# Environment:
#   KEYCLOAK_VERSION        server version (default below; the Makefile passes its own)
#   TOPOLOGY                dev (default) or cluster
#   KEYCLOAK_CACHE          cache folder (default .cache/keycloak)
#   KEYCLOAK_READY_TIMEOUT  seconds to wait for readiness (default 240; 480 for the cluster)
#   KEYCLOAK_URL            with 'run': use this server instead of starting one; then
#                           KEYCLOAK_ADMIN_USER and KEYCLOAK_ADMIN_PASSWORD name its admin
set -euo pipefail

KEYCLOAK_VERSION=${KEYCLOAK_VERSION:-26.7.3}
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${KEYCLOAK_CACHE:-$root/.cache/keycloak}
timeout=${KEYCLOAK_READY_TIMEOUT:-240}
home=$cache/keycloak-$KEYCLOAK_VERSION
topology=${TOPOLOGY:-dev}
case $topology in dev) state=$cache/run ;; cluster) state=$cache/cluster ;; # where 'up' records it
*) echo "keycloak.sh: TOPOLOGY=$topology: want dev or cluster" >&2; exit 2 ;; esac
admin_user=roster-admin
admin_password=roster-admin-password

die() { echo "keycloak.sh: $*" >&2; exit 1; }

fetch() {
	[ -x "$home/bin/kc.sh" ] && return 0
	command -v mvn >/dev/null || die "mvn not found: install Maven (and a JDK 17+) to fetch Keycloak"
	command -v java >/dev/null || die "java not found: install a JDK 17 or newer to run Keycloak"
	mkdir -p "$cache/zip"
	local zip=$cache/zip/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip
	if [ ! -s "$zip" ]; then
		echo "keycloak.sh: fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip with Maven" >&2
		if ! mvn -B -q dependency:copy \
			-Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
			-DoutputDirectory="$cache/zip" -Dmdep.overWriteIfNewer=true >"$cache/mvn.log" 2>&1; then
			tail -n 20 "$cache/mvn.log" >&2
			die "could not fetch Keycloak $KEYCLOAK_VERSION with Maven (log: $cache/mvn.log)
hint: check the version exists: mvn dependency:get -Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:pom"
		fi
	fi
	local tmp
	tmp=$(mktemp -d "$cache/unpack.XXXXXX")
	unzip -q "$zip" -d "$tmp" || { rm -rf "$tmp"; die "could not unpack $zip (delete it to download again)"; }
	[ -x "$tmp/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ] || { rm -rf "$tmp"; die "$zip has no keycloak-$KEYCLOAK_VERSION/bin/kc.sh"; }
	rm -rf "$home"
	mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$home"
	rmdir "$tmp"
}

# free_port prints a TCP port on 127.0.0.1 that nothing listens on, from 20000 to 31999: below
# Linux's ephemeral range (32768 and up), where an outgoing connection of any process can take
# the port between its choice and the server's bind ("Address already in use").
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 12000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "found no free TCP port on 127.0.0.1"
}

major() { echo "${KEYCLOAK_VERSION%%.*}"; }

# start launches the server on loopback and records pid, url and log under $1.
start() {
	local dir=$1 port mport
	fetch
	mkdir -p "$dir"
	port=$(free_port)
	local args=(start-dev --http-host=127.0.0.1 --http-port="$port" --db=dev-mem
		--log="console,file" --log-file="$dir/server.log")
	if [ "$(major)" -ge 25 ]; then
		# 25+ serve health and metrics on a separate management port (9000 by default); give
		# it a free one too so that parallel servers and other local services do not collide.
		mport=$(free_port)
		args+=(--http-management-port="$mport")
	fi
	: >"$dir/server.log"
	# Both admin variable pairs: 26.x reads KC_BOOTSTRAP_ADMIN_*, 24/25 read KEYCLOAK_ADMIN*.
	KC_BOOTSTRAP_ADMIN_USERNAME=$admin_user KC_BOOTSTRAP_ADMIN_PASSWORD=$admin_password \
		KEYCLOAK_ADMIN=$admin_user KEYCLOAK_ADMIN_PASSWORD=$admin_password \
		setsid "$home/bin/kc.sh" "${args[@]}" >"$dir/console.log" 2>&1 </dev/null &
	echo $! >"$dir/pid"
	echo "http://127.0.0.1:$port" >"$dir/url"
	echo "$KEYCLOAK_VERSION" >"$dir/version"
	wait_ready "$dir"
}

wait_ready() {
	local dir=$1 url pid started
	url=$(cat "$dir/url")
	pid=$(cat "$dir/pid")
	started=$(date +%s)
	echo "keycloak.sh: starting Keycloak $KEYCLOAK_VERSION at $url" >&2
	while :; do
		if curl -fs -o /dev/null --max-time 5 "$url/realms/master"; then
			echo "keycloak.sh: Keycloak $KEYCLOAK_VERSION ready at $url after $(($(date +%s) - started))s" >&2
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "--- last lines of $dir/console.log:" >&2
			tail -n 40 "$dir/console.log" >&2
			die "Keycloak exited before it was ready"
		fi
		if [ $(($(date +%s) - started)) -ge "$timeout" ]; then
			echo "--- last lines of $dir/console.log:" >&2
			tail -n 40 "$dir/console.log" >&2
			stop "$dir"
			die "Keycloak was not ready within ${timeout}s (set KEYCLOAK_READY_TIMEOUT to wait longer)"
		fi
		sleep 1
	done
}

# stop_pid stops the process group led by $1: TERM, then KILL after 30 seconds.
stop_pid() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
}

# shellcheck source=scripts/cluster.sh
. "$root/scripts/cluster.sh"

# start_topology, stop and running act on the topology TOPOLOGY names.
start_topology() { if [ "$topology" = cluster ]; then cluster_start "$1"; else start "$1"; fi; }

stop() {
	local dir=$1
	if [ "$topology" = cluster ]; then
		cluster_stop "$dir"
		return
	fi
	[ -f "$dir/pid" ] || return 0
	stop_pid "$(cat "$dir/pid")"
	rm -f "$dir/pid" "$dir/url" "$dir/version"
}

running() {
	if [ "$topology" = cluster ]; then cluster_running "$state"; else [ -f "$state/pid" ] && kill -0 "$(cat "$state/pid")" 2>/dev/null; fi
}

# print_env prints the variables for the server recorded in $1.
print_env() {
	local dir=$1
	echo "export KEYCLOAK_URL=$(cat "$dir/url")"
	echo "export KEYCLOAK_ADMIN_USER=$admin_user"
	echo "export KEYCLOAK_ADMIN_PASSWORD=$admin_password"
	if [ "$topology" = cluster ]; then cluster_env "$dir"; fi
}

case ${1:-} in
fetch) fetch ;;
up)
	if running; then
		echo "keycloak.sh: already running at $(cat "$state/url") (Keycloak $(cat "$state/version"), $topology)" >&2
	else
		start_topology "$state"
	fi
	print_env "$state"
	;;
down)
	# Not running may still leave parts to stop: a cluster that lost a node.
	if running; then stop "$state"; echo "keycloak.sh: stopped" >&2; else stop "$state"; echo "keycloak.sh: not running" >&2; fi
	;;
env)
	running || die "no server running: start one with 'make keycloak-up TOPOLOGY=$topology'"
	print_env "$state"
	;;
run)
	shift
	[ "${1:-}" = "--" ] && shift
	[ $# -gt 0 ] || die "usage: keycloak.sh run -- COMMAND..."
	if [ -n "${KEYCLOAK_URL:-}" ] && [ "$topology" = dev ]; then
		echo "keycloak.sh: using the server at KEYCLOAK_URL=$KEYCLOAK_URL" >&2
		exec "$@"
	fi
	if running; then
		if [ "$(cat "$state/version")" = "$KEYCLOAK_VERSION" ]; then
			echo "keycloak.sh: using the running server at $(cat "$state/url")" >&2
			eval "$(print_env "$state")"
			exec "$@"
		fi
		echo "keycloak.sh: the running server is Keycloak $(cat "$state/version"), not $KEYCLOAK_VERSION: starting a temporary one" >&2
	fi
	tmpdir=$cache/$topology-$$
	trap 'stop "$tmpdir"; rm -rf "$tmpdir"' EXIT
	trap 'exit 130' INT TERM
	start_topology "$tmpdir"
	eval "$(print_env "$tmpdir")"
	# The command may leave its data behind: the server and everything in it go at the exit.
	export KEYCLOAK_TEMPORARY=1
	set +e
	"$@"
	rc=$?
	set -e
	exit $rc
	;;
*)
	sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
	;;
esac
