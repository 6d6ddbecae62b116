# cluster.sh — the production-like topology of scripts/keycloak.sh (TOPOLOGY=cluster), sourced by it.
#
# Three parts, all on loopback, all under one state folder:
#   - PostgreSQL from Debian's packages (installed with apt-get when missing), a throw-away
#     database cluster made with initdb; Keycloak logs in with a password over TCP;
#   - two Keycloak nodes in production mode: the distribution is copied once per version and
#     built with `kc.sh build --db=postgres --cache=ispn --health-enabled=true`, then each node
#     runs `start --optimized` on the shared database. The nodes find each other with
#     Keycloak's default jdbc-ping stack (discovery through the database, no multicast);
#   - HAProxy from Debian's packages, round robin over the two nodes with no stickiness,
#     checking each node's /health/ready.
#
# It uses these from keycloak.sh: cache, home, admin_user, admin_password, die,
# fetch, free_port, major, stop_pid.

cluster_home=$cache/keycloak-$KEYCLOAK_VERSION-cluster
# Two nodes start one after the other, each slower than a development server: twice its time.
cluster_timeout=${KEYCLOAK_READY_TIMEOUT:-480}
cluster_build_args=(build --db=postgres --cache=ispn --health-enabled=true)
db_password=roster-db-password

# as_postgres runs a PostgreSQL program as the user postgres when we are root (PostgreSQL refuses
# to run as root), as ourselves otherwise.
as_postgres() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# apt_install installs Debian's package $1 with apt-get, or says how to when we are not root.
apt_install() {
	[ "$(id -u)" = 0 ] || die "$1 is not installed: run 'apt-get install $1' as root"
	echo "keycloak.sh: installing $1 with apt-get" >&2
	{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$1"; } >"$cache/apt-$1.log" 2>&1 ||
		{ tail -n 20 "$cache/apt-$1.log" >&2; die "could not install $1 (log: $cache/apt-$1.log)"; }
}

# pg_bin prints the newest PostgreSQL bin folder, installing Debian's package when there is none.
pg_bin() {
	local bin
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$bin" ]; then
		apt_install postgresql
		bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
		[ -n "$bin" ] || die "apt-get installed postgresql but /usr/lib/postgresql/*/bin is missing"
	fi
	echo "$bin"
}

haproxy_bin() {
	command -v haproxy >/dev/null || apt_install haproxy
	command -v haproxy
}

# pg_start makes a database cluster under $1/pg and starts it on a free loopback port, with the
# database and user keycloak. As root, PostgreSQL runs as the user postgres; when that user
# cannot reach the cache folder (a checkout under /root), the cluster lives in a folder of its
# own under /tmp instead, which $1/pg.dir names either way.
pg_start() {
	local dir=$1 bin port pg
	bin=$(pg_bin)
	port=$(free_port)
	pg=$dir/pg
	rm -rf "$pg" # throw-away, like the development server's in-memory database
	mkdir -p "$pg"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$pg"
		if ! runuser -u postgres -- test -w "$pg"; then
			rmdir "$pg"
			pg=$(mktemp -d /tmp/roster-pg.XXXXXX)
			chown postgres: "$pg"
		fi
	fi
	echo "$pg" >"$dir/pg.dir"
	printf '%s\n' "$db_password" >"$pg/pwfile"
	[ "$(id -u)" = 0 ] && chown postgres: "$pg/pwfile"
	as_postgres "$bin/initdb" -D "$pg/data" -U postgres --pwfile="$pg/pwfile" \
		--auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
		{ tail -n 20 "$dir/initdb.log" >&2; die "initdb failed (log: $dir/initdb.log)"; }
	as_postgres "$bin/pg_ctl" -D "$pg/data" -l "$pg/postgres.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$pg -c max_connections=200 -c fsync=off" \
		start >/dev/null ||
		{ tail -n 20 "$pg/postgres.log" >&2; die "PostgreSQL did not start (log: $pg/postgres.log)"; }
	echo "$port" >"$dir/pg.port"
	echo "$bin" >"$dir/pg.bin"
	as_postgres "$bin/psql" -h "$pg" -p "$port" -U postgres -q -v ON_ERROR_STOP=1 \
		-c "CREATE USER keycloak PASSWORD '$db_password'" -c "CREATE DATABASE keycloak OWNER keycloak" >/dev/null ||
		die "could not create the keycloak database in PostgreSQL (log: $pg/postgres.log)"
	echo "keycloak.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
}

# pg_stop stops the database cluster of $1 and deletes it when it lives under /tmp.
pg_stop() {
	local dir=$1 pg
	[ -f "$dir/pg.bin" ] || return 0
	pg=$(cat "$dir/pg.dir")
	as_postgres "$(cat "$dir/pg.bin")/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null 2>&1 || true
	case $pg in /tmp/roster-pg.*) rm -rf "$pg" ;; esac
	rm -f "$dir/pg.bin"
}

# cluster_build copies the distribution and builds it for PostgreSQL and clustering, once: the
# build options are recorded and a change rebuilds.
cluster_build() {
	fetch
	if [ ! -f "$cluster_home/.roster-build" ] || [ "$(cat "$cluster_home/.roster-build")" != "${cluster_build_args[*]}" ]; then
		echo "keycloak.sh: building Keycloak $KEYCLOAK_VERSION for the cluster (${cluster_build_args[*]})" >&2
		rm -rf "$cluster_home"
		cp -a "$home" "$cluster_home"
		"$cluster_home/bin/kc.sh" "${cluster_build_args[@]}" >"$cache/cluster-build.log" 2>&1 ||
			{ tail -n 20 "$cache/cluster-build.log" >&2; rm -rf "$cluster_home"; die "kc.sh build failed (log: $cache/cluster-build.log)"; }
		echo "${cluster_build_args[*]}" >"$cluster_home/.roster-build"
	fi
}

# node_start starts node $2 of the cluster in $1 and waits until it answers. A port taken by
# someone else between its choice and the bind costs a new try with other ports, twice at most.
node_start() {
	local dir=$1 n=$2 port mport jport try rc
	for try in 1 2 3; do
		port=$(free_port)
		mport=$(free_port)
		jport=$(free_port)
		: >"$dir/node$n.log"
		KC_BOOTSTRAP_ADMIN_USERNAME=$admin_user KC_BOOTSTRAP_ADMIN_PASSWORD=$admin_password \
			setsid "$cluster_home/bin/kc.sh" start --optimized \
			--db-url="jdbc:postgresql://127.0.0.1:$(cat "$dir/pg.port")/keycloak" \
			--db-username=keycloak --db-password="$db_password" \
			--http-enabled=true --http-host=127.0.0.1 --http-port="$port" --http-management-port="$mport" \
			--hostname-strict=false \
			--cache-embedded-network-bind-address=127.0.0.1 --cache-embedded-network-bind-port="$jport" \
			--log="console,file" --log-file="$dir/node$n.log" \
			>"$dir/node$n.console.log" 2>&1 </dev/null &
		echo $! >"$dir/node$n.pid"
		disown # a node the cluster suite kills is no news to report
		echo "http://127.0.0.1:$port" >"$dir/node$n.url"
		echo "$mport" >"$dir/node$n.mport"
		rc=0
		cluster_wait "$dir" "node $n at http://127.0.0.1:$port" \
			"curl -fs -o /dev/null --max-time 5 http://127.0.0.1:$mport/health/ready" "$n" "$([ $try -lt 3 ] && echo retry)" || rc=$?
		[ $rc = 0 ] && return 0
		echo "keycloak.sh: node $n found a port taken; trying again with other ports" >&2
	done
}

# cluster_wait waits, within the time left of the start-up, until the command $3 succeeds; on
# failure it shows the logs of the node $4 and stops everything. With $5 = retry, a node that
# exited because a port was taken returns 2 instead.
cluster_wait() {
	local dir=$1 what=$2 check=$3 n=$4 retry=${5:-}
	while :; do
		if eval "$check"; then
			echo "keycloak.sh: $what ready after $(($(date +%s) - $(cat "$dir/started")))s" >&2
			return 0
		fi
		if ! kill -0 "$(cat "$dir/node$n.pid")" 2>/dev/null; then
			if [ "$retry" = retry ] && grep -q "Address already in use" "$dir/node$n.console.log"; then
				return 2
			fi
			echo "--- last lines of $dir/node$n.console.log:" >&2
			tail -n 40 "$dir/node$n.console.log" >&2
			cluster_stop "$dir"
			die "Keycloak node $n exited before $what was ready"
		fi
		if [ $(($(date +%s) - $(cat "$dir/started"))) -ge "$cluster_timeout" ]; then
			echo "--- last lines of $dir/node$n.console.log:" >&2
			tail -n 40 "$dir/node$n.console.log" >&2
			cluster_stop "$dir"
			die "$what was not ready within ${cluster_timeout}s (set KEYCLOAK_READY_TIMEOUT to wait longer)"
		fi
		sleep 1
	done
}

# joined reports whether node $2 of the cluster in $1 has seen a cluster view of two members.
joined() { grep -q 'ISPN000094: Received new cluster view.* (2) ' "$1/node$2.log"; }

haproxy_start() {
	local dir=$1 bin port
	bin=$(haproxy_bin)
	port=$(free_port)
	cat >"$dir/haproxy.cfg" <<EOF
# Written by scripts/keycloak.sh: round robin over the two Keycloak nodes, no stickiness.
global
	maxconn 1000
defaults
	mode http
	timeout connect 5s
	timeout client 5m
	timeout server 5m
	retries 2
	option redispatch
frontend keycloak
	bind 127.0.0.1:$port
	default_backend nodes
backend nodes
	balance roundrobin
	option httpchk GET /health/ready
	server node1 $(sed 's|http://||' "$dir/node1.url") check port $(cat "$dir/node1.mport") inter 2s fall 2 rise 2
	server node2 $(sed 's|http://||' "$dir/node2.url") check port $(cat "$dir/node2.mport") inter 2s fall 2 rise 2
EOF
	"$bin" -c -q -f "$dir/haproxy.cfg" || die "HAProxy rejects $dir/haproxy.cfg"
	setsid "$bin" -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 </dev/null &
	echo $! >"$dir/haproxy.pid"
	echo "http://127.0.0.1:$port" >"$dir/url"
}

# cluster_start starts the whole topology in $1 and records it there.
cluster_start() {
	local dir=$1
	[ "$(major)" -ge 26 ] || die "TOPOLOGY=cluster needs Keycloak 26 or newer (its jdbc-ping discovery); KEYCLOAK_VERSION is $KEYCLOAK_VERSION"
	mkdir -p "$dir"
	cluster_stop "$dir" # what is left of an earlier cluster there, such as one that lost a node
	echo "cluster" >"$dir/topology"
	echo "$KEYCLOAK_VERSION" >"$dir/version"
	cluster_build
	date +%s >"$dir/started" # the time limit starts after the one-off build
	pg_start "$dir"
	echo "keycloak.sh: starting a Keycloak $KEYCLOAK_VERSION cluster of two nodes" >&2
	# One node after the other: the first creates the schema and the administrator.
	node_start "$dir" 1
	node_start "$dir" 2
	cluster_wait "$dir" "the cluster of two nodes" "joined '$dir' 1 && joined '$dir' 2" 2
	haproxy_start "$dir"
	cluster_wait "$dir" "HAProxy at $(cat "$dir/url")" \
		"curl -fs -o /dev/null --max-time 5 $(cat "$dir/url")/realms/master" 1
}

# ours reports whether process $1 runs with the folder $2 on its command line: a pid file left
# by a process that died (a node the suite killed) may name another process by now.
ours() { kill -0 "$1" 2>/dev/null && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"; }

cluster_stop() {
	local dir=$1 f
	for f in haproxy node2 node1; do
		[ -f "$dir/$f.pid" ] || continue
		if ours "$(cat "$dir/$f.pid")" "$dir"; then stop_pid "$(cat "$dir/$f.pid")"; fi
		rm -f "$dir/$f.pid"
	done
	pg_stop "$dir"
	rm -f "$dir/url" "$dir/version" "$dir/topology"
}

# cluster_running reports whether HAProxy and both nodes of the cluster in $1 run. A cluster
# that lost a node (TestNodeKilled kills one) is not running: 'up' starts it anew.
cluster_running() {
	local f
	for f in haproxy node1 node2; do
		[ -f "$1/$f.pid" ] && ours "$(cat "$1/$f.pid")" "$1" || return 1
	done
}

cluster_env() {
	local dir=$1
	echo "export KEYCLOAK_TOPOLOGY=cluster"
	echo "export KEYCLOAK_NODE_URLS='$(cat "$dir/node1.url") $(cat "$dir/node2.url")'"
	echo "export KEYCLOAK_NODE_PIDS='$(cat "$dir/node1.pid" 2>/dev/null) $(cat "$dir/node2.pid" 2>/dev/null)'"
}
