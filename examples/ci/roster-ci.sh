#!/bin/sh
# roster-ci.sh: the roster commands of the example CI jobs, shared by the GitHub Actions
# workflows (examples/ci/github), the GitLab pipeline (examples/ci/gitlab) and, by hand, any other
# CI system. It runs roster and writes files; posting comments and opening issues is left to the
# CI job, which knows its platform. Copy it into your repository as ci/roster-ci.sh.
#
#   roster-ci.sh validate PATH...           check the files offline
#   roster-ci.sh plan DIR PATH...           DIR/comment.md (a pull-request comment: the CodeMie
#                                           access summary, every warning and the plan, or the
#                                           errors, positioned, when validation or planning
#                                           failed: always this push's) and DIR/roster.plan
#   roster-ci.sh apply PLANFILE PATH...     apply the reviewed plan PLANFILE, made from PATH...;
#                                           fails, changing nothing, when it is missing, stale,
#                                           edited, or made from other files: never plans again
#   roster-ci.sh drift DIR PATH...          exit 0: no drift; 2: drift, described in DIR/drift.md;
#                                           1 or 3: roster failed, drift was not checked
#
# Keycloak credentials come from the environment: KEYCLOAK_URL, KEYCLOAK_CLIENT_ID and
# KEYCLOAK_CLIENT_SECRET (see docs/operations.md): a read-only account for validate, plan and
# drift, the write account only for apply. Set ROSTER to run another roster binary.
set -eu

roster=${ROSTER:-roster}
# The first line of every comment roster-ci.sh writes: the CI job finds its earlier comment by it.
marker='<!-- roster-plan -->'

usage() {
	echo "usage: roster-ci.sh validate PATH... | plan DIR PATH... | apply PLANFILE PATH... | drift DIR PATH..." >&2
	exit 1
}

[ $# -ge 2 ] || usage
cmd=$1
shift
case $cmd in
validate)
	exec "$roster" validate "$@"
	;;
plan)
	dir=$1
	shift
	[ $# -ge 1 ] || usage
	mkdir -p "$dir"
	rc=0
	"$roster" plan --format markdown --out "$dir/roster.plan" "$@" >"$dir/plan.md" 2>"$dir/plan.err" || rc=$?
	cat "$dir/plan.err" >&2
	# roster plan validates the files first: invalid files fail it with their errors at
	# file:line:col, before Keycloak is contacted. Either way the comment is replaced, so it
	# never shows an earlier push's plan as current.
	if [ "$rc" -eq 0 ]; then
		{
			echo "$marker"
			cat "$dir/plan.md"
		} >"$dir/comment.md"
	else
		# The errors quote the files, so the fence must be longer than any run of backticks in
		# them; a comment holds at most the first 200 lines.
		fence=$(awk '{ s = $0; while (match(s, /`+/)) { if (RLENGTH > n) n = RLENGTH; s = substr(s, RSTART + RLENGTH) } }
			END { n = n < 3 ? 3 : n + 1; while (n-- > 0) printf "`" }' "$dir/plan.err")
		lines=$(wc -l <"$dir/plan.err")
		{
			echo "$marker"
			echo "## roster plan failed (exit code $rc)"
			echo
			echo "Nothing was planned for this push; fix the errors below and push again."
			echo
			echo "$fence"
			head -n 200 "$dir/plan.err"
			echo "$fence"
			if [ "$lines" -gt 200 ]; then
				echo
				echo "… $((lines - 200)) more lines in the job's log."
			fi
		} >"$dir/comment.md"
	fi
	exit "$rc"
	;;
apply)
	planfile=$1
	shift
	[ $# -ge 1 ] || usage
	if [ ! -f "$planfile" ]; then
		echo "roster-ci: no reviewed plan at $planfile: nothing was applied" >&2
		exit 1
	fi
	rc=0
	"$roster" apply "$planfile" "$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "roster-ci: roster apply failed with exit code $rc (see above); if it refused the plan, nothing was changed: open a pull request so that a new plan is made and reviewed" >&2
	fi
	exit "$rc"
	;;
drift)
	dir=$1
	shift
	[ $# -ge 1 ] || usage
	mkdir -p "$dir"
	rc=0
	"$roster" plan --detailed-exitcode --format markdown "$@" >"$dir/drift.md" || rc=$?
	case $rc in
	0) echo "roster-ci: no drift: the realm matches $*" >&2 ;;
	2) echo "roster-ci: drift: the realm differs from $*; the plan that would undo it is in $dir/drift.md" >&2 ;;
	4) echo "roster-ci: the realm matches $*, but CodeMie will not read the access they declare: the failing prerequisites are in $dir/drift.md" >&2 ;;
	*) echo "roster-ci: roster plan failed with exit code $rc, so drift was not checked" >&2 ;;
	esac
	exit "$rc"
	;;
*)
	usage
	;;
esac
