package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTraceApplyCreate runs `roster apply` creating ROSTER_BENCH_USERS users (1,000 by default)
// through a proxy that records when each request starts and ends, and logs where the wall
// time goes: per kind of request (login, lock, the plan's reads, the batches, the read-back),
// how many, when the first started and the last ended, and how many batches were in flight.
// ROSTER_TRACE_ARGS adds arguments to apply ("--parallelism 4"); ROSTER_TRACE_PATHS=1 prints
// each request (method, path, query, start, duration) to stderr. It is how docs/benchmarks.md's
// "Where the time goes" was measured:
//
//	ROSTER_TRACE=1 ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTraceApplyCreate$' ./internal/bench/
func TestTraceApplyCreate(t *testing.T) {
	bin := traced(t)
	n := 1000
	if s := os.Getenv("ROSTER_BENCH_USERS"); s != "" {
		n = sizes(t)[0]
	}
	realm := prepared(t)
	proxy, tr := tracingProxy(t, realm.Server.URL)
	start := time.Now()
	wall := timedApplyAt(t, bin, proxy.URL, realm, createFile(realm, n), fmt.Sprintf("Apply complete: %d added", n), strings.Fields(os.Getenv("ROSTER_TRACE_ARGS"))...)
	t.Logf("%d users: wall %s (%.0f users/s), %d requests", n, wall.Round(time.Millisecond), float64(n)/wall.Seconds(), len(tr.spans()))
	t.Log("\n" + tr.summary(start))
}

// traced returns the binary under test for a trace, which runs only when ROSTER_TRACE is set:
// a trace is as heavy as a benchmark's run (TestTraceApplyUpdate seeds 10,000 users), and
// `make test`, which sets ROSTER_BIN, runs only the smoke tests.
func traced(t *testing.T) string {
	if os.Getenv("ROSTER_TRACE") == "" {
		t.Skip("set ROSTER_TRACE=1 (and ROSTER_BIN) to trace an apply")
	}
	return rosterBin(t)
}

// span is one request as the tracing proxy saw it.
type span struct {
	kind       string
	start, end time.Time
}

// tracer records the requests through a proxy.
type tracer struct {
	mu  sync.Mutex
	all []span
}

func (tr *tracer) spans() []span {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.all)
}

// tracingProxy is a reverse proxy in front of the real server that records each request's kind
// and times.
func tracingProxy(t testing.TB, target string) (*httptest.Server, *tracer) {
	var tr tracer
	srv := proxy(t, target, func(r *http.Request, forward func()) {
		s := span{kind: requestKind(r), start: time.Now()}
		forward()
		s.end = time.Now()
		tr.mu.Lock()
		tr.all = append(tr.all, s)
		tr.mu.Unlock()
		if os.Getenv("ROSTER_TRACE_PATHS") != "" {
			fmt.Fprintln(os.Stderr, r.Method, r.URL.Path, r.URL.RawQuery, s.start.Format("05.000"), s.end.Sub(s.start))
		}
	})
	return srv, &tr
}

// requestKind names what a request is for in an apply that creates users.
func requestKind(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/protocol/openid-connect/token"):
		return "login"
	case strings.Contains(p, "roster-apply-lock"):
		return "lock"
	case strings.HasSuffix(p, "/partialImport"):
		return "batch create"
	case r.Method == http.MethodPost && strings.HasSuffix(p, "/users"):
		return "single create"
	case strings.Contains(p, "/role-mappings/"):
		return "role mapping"
	case r.Method == http.MethodPut && strings.Contains(p, "/users/"):
		return "user update"
	case r.Method == http.MethodGet && strings.Contains(p, "/users"):
		return "user read"
	case r.Method == http.MethodGet:
		return "other read"
	}
	return "other write (" + r.Method + ")"
}

// summary tells, per kind, the count, the window from the first start to the last end
// (relative to t0), the sum of the requests' own times, and for the batches how many were in
// flight on average over their window and at most.
func (tr *tracer) summary(t0 time.Time) string {
	all := tr.spans()
	kinds := map[string][]span{}
	for _, s := range all {
		kinds[s.kind] = append(kinds[s.kind], s)
	}
	var b strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%6d ms", d.Milliseconds()) }
	fmt.Fprintf(&b, "%-22s %5s %9s %9s %9s\n", "kind", "count", "first", "last end", "busy sum")
	order := slices.SortedFunc(func(yield func(string) bool) {
		for k := range kinds {
			if !yield(k) {
				return
			}
		}
	}, func(a, c string) int { return kinds[a][0].start.Compare(kinds[c][0].start) })
	for _, k := range order {
		ss := kinds[k]
		first, last := ss[0].start, ss[0].end
		var busy time.Duration
		for _, s := range ss {
			first, last = minTime(first, s.start), maxTime(last, s.end)
			busy += s.end.Sub(s.start)
		}
		fmt.Fprintf(&b, "%-22s %5d %s %s %s", k, len(ss), ms(first.Sub(t0)), ms(last.Sub(t0)), ms(busy))
		if k == "batch create" {
			peak := 0
			for _, s := range ss {
				in := 0
				for _, o := range ss {
					if !o.start.After(s.start) && o.end.After(s.start) {
						in++
					}
				}
				peak = max(peak, in)
			}
			fmt.Fprintf(&b, "  in flight: %.1f on average, %d at most; %s per batch on average",
				busy.Seconds()/last.Sub(first).Seconds(), peak, (busy / time.Duration(len(ss))).Round(time.Millisecond))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestTraceApplyUpdate is TestTraceApplyCreate for BenchmarkApplyUpdate's work: `roster apply`
// changing the email of every tenth user of a realm of the first size of ROSTER_BENCH_UPDATE_USERS
// (1,000 of 10,000 by default), ROSTER_TRACE_ROUNDS times in a row (1 by default; the first apply
// meets a cold server and an unmarked realm, the next ones what an everyday apply meets).
func TestTraceApplyUpdate(t *testing.T) {
	bin := traced(t)
	n := updateSizes(t)[0]
	realm := updateRealm(t, n)
	rounds := traceRounds(t, 1)
	for round := 1; round <= rounds; round++ {
		proxy, tr := tracingProxy(t, realm.Server.URL)
		start := time.Now()
		wall := rosterUpdate(t, bin, proxy.URL, realm, n, round)
		t.Logf("round %d, %d of %d users: wall %s (%.0f users/s), %d requests", round, changedOf(n), n, wall.Round(time.Millisecond),
			float64(changedOf(n))/wall.Seconds(), len(tr.spans()))
		t.Log("\n" + tr.summary(start))
		proxy.Close()
	}
}

// traceRounds is ROSTER_TRACE_ROUNDS, the rounds a trace runs, or def.
func traceRounds(t *testing.T, def int) int {
	s := os.Getenv("ROSTER_TRACE_ROUNDS")
	if s == "" {
		return def
	}
	rounds, err := strconv.Atoi(s)
	if err != nil || rounds < 1 {
		t.Fatalf("ROSTER_TRACE_ROUNDS=%q: want a positive number of rounds", s)
	}
	return rounds
}

// TestTracePlanAfterUpdate measures the least an update that plans from a read can cost: it
// gives the realm of TestTraceApplyUpdate CodeMie's client (which plan requires), warms it up
// with one roster apply, then, ROSTER_TRACE_ROUNDS times (5 by default), runs the bare update
// loop of BenchmarkApplyUpdate and right after it `roster plan` on the state the loop made
// (which finds no change), then that plan again, and logs each wall beside the plan's share of
// the loop's, and the first plan's requests as TestTraceApplyUpdate does. The first plan reads
// what an apply reads before it may write: the whole realm, the users the loop just wrote read
// again from Keycloak's database. An apply's wall is that plan's, the lock's and its writes':
//
//	ROSTER_TRACE=1 ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTracePlanAfterUpdate$' ./internal/bench/
func TestTracePlanAfterUpdate(t *testing.T) {
	bin := traced(t)
	n := updateSizes(t)[0]
	realm := updateRealm(t, n)
	_, err := realm.CodeMieClient(context.Background(), "codemie", "profile", false) // plan fails a realm without it
	check(t, err)
	rosterUpdate(t, bin, realm.Server.URL, realm, n, 1)
	file := filepath.Join(t.TempDir(), "roster.yaml")
	timedPlan := func() (time.Duration, string) {
		proxy, tr := tracingProxy(t, realm.Server.URL)
		defer proxy.Close()
		start := time.Now()
		runPlan(t, bin, proxy.URL, realm, file)
		return time.Since(start), tr.summary(start)
	}
	rounds := traceRounds(t, 5)
	for round := 2; round <= 1+rounds; round++ {
		check(t, os.WriteFile(file, []byte(updateFile(realm, n, round)), 0o644))
		bare := bareUpdate(t, realm.Server.URL, realm, n, round)
		after, trace := timedPlan()
		again, _ := timedPlan()
		t.Logf("round %d, %d of %d users: bare loop %s; roster plan right after it %s (%.2f of the loop), again %s\n%s", round, changedOf(n), n,
			bare.Round(time.Millisecond), after.Round(time.Millisecond), after.Seconds()/bare.Seconds(), again.Round(time.Millisecond), trace)
	}
}

// TestTraceReadBack measures what reading users back costs Keycloak right after they were
// created, in each way that returns their attributes, beside the brief listing that does not:
// for each way, 3 times in turn, it imports the users of createFile (ROSTER_BENCH_USERS, 1,000
// by default) into a fresh realm with the bare loop's batches at parallelism 8, then reads them
// all twice in pages of 500 as the reference loops list (listUsers) — first as just imported,
// then again — and logs the walls. It is how docs/benchmarks.md's bound on verified creates was measured:
//
//	ROSTER_TRACE=1 ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTraceReadBack$' ./internal/bench/
func TestTraceReadBack(t *testing.T) {
	traced(t)
	n := 1000
	if s := os.Getenv("ROSTER_BENCH_USERS"); s != "" {
		n = sizes(t)[0]
	}
	ways := []struct{ name, query string }{
		{"full listing", fullUsers},
		{"search by the ownership marker", fullUsers + "&q=roster_managed:true"},
		{"brief listing (no attributes)", "/users?briefRepresentation=true"},
	}
	for round := 1; round <= 3; round++ {
		for _, way := range ways {
			realm, del := freshRealm(t)
			send := rawSender(t, context.Background(), realm, realm.Server.URL)
			start := time.Now()
			importUsers(t, send, realm, n, 8)
			imported := time.Since(start)
			var walls []string
			for range 2 {
				start := time.Now()
				var read atomic.Int64
				listUsers(t, send, way.query, n, func(page []userRep) { read.Add(int64(len(page))) })
				if read := int(read.Load()); read != n {
					t.Fatalf("%s read %d users, want %d", way.name, read, n)
				}
				walls = append(walls, time.Since(start).Round(time.Millisecond).String())
			}
			t.Logf("round %d, %-31s %d users imported in %s, read back in %s, again in %s", round, way.name+":", n,
				imported.Round(time.Millisecond), walls[0], walls[1])
			del()
		}
	}
}

// TestTraceCacheAfterWrite measures how `roster plan` on the converged realm of the first size of
// ROSTER_BENCH_USERS (10,000 by default) slows down after each change an apply lock makes to the
// realm's roles: it runs plan twice to warm Keycloak's caches, then once after creating a
// realm role (taking the lock), after changing its description (renewing it, or marking the
// realm), after renaming it, after deleting it, and once more, and logs each wall. Deleting a
// realm role empties Keycloak's cache of the realm's users, so the plan after it reads every
// user from the database:
//
//	ROSTER_TRACE=1 ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTraceCacheAfterWrite$' ./internal/bench/
func TestTraceCacheAfterWrite(t *testing.T) {
	bin := traced(t)
	realm, file := seeded(t, sizes(t)[0])
	send := rawSender(t, context.Background(), realm, realm.Server.URL)
	plan := func(after string) {
		start := time.Now()
		runPlan(t, bin, realm.Server.URL, realm, file)
		t.Logf("plan %-40s %s", after+":", time.Since(start).Round(time.Millisecond))
	}
	plan("(warming up)")
	plan("warm")
	role := "/roles/" + traceRole
	send(http.MethodPost, "/roles", map[string]string{"name": traceRole}).Body.Close()
	plan("after creating a realm role")
	send(http.MethodPut, role, map[string]string{"name": traceRole, "description": "changed"}).Body.Close()
	plan("after changing its description")
	send(http.MethodPut, role, map[string]string{"name": traceRole + "-renamed", "description": "renamed"}).Body.Close()
	plan("after renaming it")
	send(http.MethodDelete, role+"-renamed", nil).Body.Close()
	plan("after deleting it")
	plan("again")
}

// traceRole is the role TestTraceCacheAfterWrite creates and deletes: not roster's lock,
// which a plan would then find held by a role roster did not make.
const traceRole = "roster-trace-role"
