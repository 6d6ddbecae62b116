package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// report collects the figures of one `make bench` run for docs/benchmarks.md. Benchmarks append
// their rows when they finish; TestMain writes the document after all of them ran.
var report struct {
	plan      []planRow
	converged []convergedRow
	validate  []validateRow
	create    []createRow
	update    []createRow // batch unused
	runs      int         // b.N of the last BenchmarkPlan: how many runs each wall is the mean of
}

type planRow struct {
	users           int
	requests        int64
	floorRequests   int
	wall, floorWall time.Duration
	rssKiB          int64
}

type convergedRow struct {
	users            int
	requests, writes int64
	wall, floorWall  time.Duration
	rssKiB           int64
}

type validateRow struct {
	users  int
	bytes  int64
	wall   time.Duration
	rssKiB int64
}

type createRow struct {
	users, batch, parallelism int
	roster, raw               float64 // users per second: medians of the runs
	requests, rawRequests     int64   // of the last run
	sweep                     []sweepPoint
}

// sweepPoint is the bare create loop's rate at one parallelism.
type sweepPoint struct {
	users, parallelism int
	rate               float64 // users per second
}

// clusterHeading starts the section of the production-like topology, which the run against
// that topology (KEYCLOAK_TOPOLOGY=cluster) writes and the run against the development server
// keeps as it is.
const clusterHeading = "## On the production-like topology\n"

// writeReport writes docs/benchmarks.md from the figures: the section of the topology measured,
// keeping the other's from the document. It refuses when a benchmark is missing, so that a
// partial run (-bench filter) never replaces the document with less.
func writeReport(path string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	dev, cluster, _ := strings.Cut(string(old), clusterHeading)
	if os.Getenv("KEYCLOAK_TOPOLOGY") == "cluster" {
		if len(report.plan) == 0 || len(report.converged) == 0 || len(report.create) == 0 || len(report.update) == 0 {
			return fmt.Errorf("not writing %s: run every cluster benchmark (make bench) to refresh it", path)
		}
		return os.WriteFile(path, []byte(dev+clusterReport()), 0o644)
	}
	if len(report.plan) == 0 || len(report.converged) == 0 || len(report.validate) == 0 || len(report.create) == 0 {
		return fmt.Errorf("not writing %s: run every benchmark (make bench) to refresh it", path)
	}
	if cluster != "" {
		cluster = clusterHeading + cluster
	}
	return os.WriteFile(path, []byte(devReport()+cluster), 0o644)
}

// clusterReport is the section of the production-like topology.
func clusterReport() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(clusterHeading + "\n")
	w("Measured on %s on the same machine: two Keycloak nodes in production mode on one PostgreSQL,\n", time.Now().UTC().Format("2006-01-02"))
	w("behind HAProxy handing each request to the next node (`make keycloak-up TOPOLOGY=cluster`; see\n")
	w("[reliability](reliability.md#the-production-like-topology)); %s. The nodes, PostgreSQL,\n", machine())
	w("HAProxy and roster share the 2 cores. Each roster figure stands beside a raw loop on the same\n")
	w("topology, through the load balancer: for plan and a converged apply the listing floor above,\n")
	w("for creates the bare partial-import loop above, for updates the bare update loop above.\n")
	w("`make bench` runs this part after the one above; walls are\n")
	w("means over %d run(s) after a warm-up.\n\n", report.runs)
	w("| measured | users | requests | roster wall | raw loop wall | roster / raw | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.plan {
		w("| plan, converged realm | %s | %d | %s | %s | %.2f | %s |\n", thousands(r.users), r.requests, secs(r.wall), secs(r.floorWall),
			r.wall.Seconds()/r.floorWall.Seconds(), mb(r.rssKiB))
	}
	for _, r := range report.converged {
		w("| apply, converged realm (%d writes) | %s | %d | %s | %s | %.2f | %s |\n", r.writes, thousands(r.users), r.requests, secs(r.wall),
			secs(r.floorWall), r.wall.Seconds()/r.floorWall.Seconds(), mb(r.rssKiB))
	}
	w("\n| apply | users | roster users/s | raw users/s | roster / raw |\n|---|---:|---:|---:|---:|\n")
	for _, r := range report.create {
		w("| create, batch size %d, parallelism %d | %s | %.0f | %.0f | %.2f |\n", r.batch, r.parallelism, thousands(r.users), r.roster, r.raw, r.roster/r.raw)
	}
	for _, r := range report.update {
		w("| update the email of 1 in 10 | %s | %.0f | %.0f | %.2f |\n", thousands(r.users), r.roster, r.raw, r.roster/r.raw)
	}
	w("\nFor each user it updates, roster reads the user and writes it back with its changes (a GET\n")
	w("before each PUT), so that attributes it does not own survive; the raw update loop knows the\n")
	w("users carry nothing else and only writes.\n")
	return b.String()
}

// devReport is the document up to the section of the production-like topology.
func devReport() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("<!-- Written by `make bench` (internal/bench/report_test.go). Edit the text there; the figures come from the run. -->\n\n")
	w("Measured on %s on %s.\n\n", time.Now().UTC().Format("2006-01-02"), machine())
	w("Keycloak and roster share the cores, so every figure includes that contention, and runs vary\n")
	w("by ±30 %% from one to the next. Reproduce with:\n\n")
	w("```sh\nmake bench                          # BENCH_USERS=1000,5000,10000 by default\n```\n\n")
	w("It seeds a realm of each size by partial import — 1 %% admins, 89 %% developers with two projects,\n")
	w("10 %% without a role — with a desired-state file that matches it, and runs the built binary\n")
	w("through a reverse proxy in front of the server that counts requests. Walls are means over the\n")
	w("runs (3 with `make bench`) after a warm-up; peak RSS is the largest maximum resident set of the\n")
	w("roster process.\n\n")

	w("## `roster plan` on a converged realm\n\n")
	w("*Floor* is a minimal loop that fetches the same pages one after another (login, user pages of\n")
	w("500, role-member pages of 1,000, user profile, role list). Targets for 10,000 users: at most 50\n")
	w("requests, within 1.2× of the floor, under 150 MB.\n\n")
	w("| users | requests | floor requests | plan wall | floor wall | plan / floor | peak RSS |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.plan {
		w("| %s | %d | %d | %s | %s | %.2f | %s |\n", thousands(r.users), r.requests, r.floorRequests, secs(r.wall), secs(r.floorWall),
			r.wall.Seconds()/r.floorWall.Seconds(), mb(r.rssKiB))
	}

	w("\n## `roster apply` on a converged realm\n\n")
	w("The same realms and files: apply reads, plans, finds nothing to do and must send no write\n")
	w("(a request other than GET, HEAD or a login); the benchmark fails if it sends one. It makes the\n")
	w("same requests as plan, so its longer walls at 5,000 and 10,000 users are the server's: on a lone\n")
	w("3,000-user realm, run alternately, apply took 0.66–0.78 s and plan 0.60–0.77 s. The likely cause\n")
	w("is Keycloak's user cache (10,000 entries by default), which the seeded realms together overflow.\n\n")
	w("| users | requests | writes | wall | peak RSS |\n|---:|---:|---:|---:|---:|\n")
	for _, r := range report.converged {
		w("| %s | %d | %d | %s | %s |\n", thousands(r.users), r.requests, r.writes, secs(r.wall), mb(r.rssKiB))
	}

	w("\n## `roster validate`\n\n")
	w("`roster validate` on the same desired-state files, offline. Target for 10,000 users: under 1 s\n")
	w("and 200 MB.\n\n")
	w("| users | file | wall | peak RSS |\n|---:|---:|---:|---:|\n")
	for _, r := range report.validate {
		w("| %s | %s | %s | %s |\n", thousands(r.users), size(r.bytes), secs(r.wall), mb(r.rssKiB))
	}

	w("\n## `roster apply` creating users\n\n")
	w("`roster apply --auto-approve --batch-size 50` creating developers with two projects in a fresh\n")
	w("realm, read-back verification included, against a bare loop that sends the same partial-import\n")
	w("batches (one login, then `POST /partialImport` with 50 users each, nothing else) in another\n")
	w("fresh realm. The loop is first run once at each parallelism of the sweep, at the first size, to\n")
	w("find this machine's best; roster then runs with `--parallelism` at that best and the loop at the\n")
	w("same, alternating which goes first; the rates are medians of the runs. Target: roster / loop ≥ 0.8.\n\n")
	w("| users | bare loop sweep (parallelism: users/s) | best | roster requests | loop requests | roster users/s | loop users/s | roster / loop |\n|---:|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.create {
		sw := []string{"—"}
		if len(r.sweep) > 0 {
			sw = nil
		}
		for _, p := range r.sweep {
			sw = append(sw, fmt.Sprintf("%d: %.0f", p.parallelism, p.rate))
		}
		w("| %s | %s | %d | %d | %d | %.0f | %.0f | %.2f |\n", thousands(r.users), strings.Join(sw, ", "), r.parallelism, r.requests,
			r.rawRequests, r.roster, r.raw, r.roster/r.raw)
	}
	w("\n### Where the time goes\n\n")
	w("Traced with `TestTraceApplyCreate` (a proxy that records when each request starts and ends;\n")
	w("`ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTraceApplyCreate$' ./internal/bench/`), creating\n")
	w("1,000 users on the busy machine of 2026-12-01. Before: at the default parallelism 8, 9.78 s in\n")
	w("all — 0.06 s starting the process, 0.11 s the login, 0.54 s the plan's reads, the apply lock, the\n")
	w("reads again under it and the realm's creation defaults (one after another), 4.10 s the 20 batches\n")
	w("(7.3 in flight on average, 1.49 s each), **4.90 s the read-back** (a count and 2 pages of 500 full\n")
	w("users, 4.7 and 4.9 s each) and 0.06 s releasing the lock. Users just imported are not in\n")
	w("Keycloak's cache: a page of 500 of them took 2.2 s, the same page again 0.38 s, and 200 read one\n")
	w("by one (8 at once) 2.7 s — so reading every created user back cost the server more than creating\n")
	w("them (a batch of 50 users costs about 0.05–0.1 s of server time when the machine is quiet).\n\n")
	w("Now a batch is verified right after it lands, on the worker that sent it, by reading back one\n")
	w("user of each shape (attribute names, their number of values, role) — 1 to 3 single reads per\n")
	w("batch instead of its 50 users; a batch whose sample does not read back as sent is read whole, as\n")
	w("before (see [apply](apply.md#failures) and `TestReadBackCatchesDroppedAttributes`). At\n")
	w("parallelism 16 the same trace: 1.26 s in all — 0.33 s before the first batch (process 0.06 s, login\n")
	w("0.08 s, reads and lock 0.19 s), 0.90 s for the batches with their 30 sample reads overlapped\n")
	w("(11.1 in flight on average), 0.02 s releasing the lock. What is left beyond the bare loop is\n")
	w("fixed per run: the plan's read, the lock, the read again under it and the lock's release, which\n")
	w("the no-loss rules require ([reliability](reliability.md)); it weighs less the more users a run\n")
	w("creates.\n")
	if len(report.update) > 0 {
		w("\n## `roster apply` updating 1,000 of 10,000 users\n\n")
		w("`roster apply --parallelism 8` changing the email of every tenth of 10,000 developers it owns,\n")
		w("in a realm seeded by partial import, against a bare loop with the same parallelism that sends\n")
		w("the fewest requests for the same result: one login, the user listing in brief pages of 500\n")
		w("(the ids), and one `PUT /users/{id}` per changed user with its username, new email and\n")
		w("enabled flag. Both work on the same realm, alternating; the rates are medians of the runs.\n")
		w("Targets: requests at most the loop's plus the safety reads (below), roster / loop ≥ 0.7.\n\n")
		w("| users changed | roster requests | loop requests | roster users/s | loop users/s | roster / loop |\n|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range report.update {
			w("| %s | %d | %d | %.0f | %.0f | %.2f |\n", thousands(r.users), r.requests, r.rawRequests, r.roster, r.raw, r.roster/r.raw)
		}
	}
	w("\n")
	return b.String()
}

// machine describes where the figures come from: CPU, memory, OS, Go, Keycloak and its Java.
func machine() string {
	cpu, mem := "unknown CPU", ""
	if model := procField("/proc/cpuinfo", "model name"); model != "" {
		cpu = model
	}
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		var n int64
		fmt.Sscan(strings.TrimSuffix(kb, " kB"), &n)
		mem = fmt.Sprintf(", %.0f GiB of memory", float64(n)/(1<<20))
	}
	kc := "Keycloak (version unknown)"
	if s, err := keycloaktest.FromEnv(); err == nil {
		if token, err := s.Token(context.Background()); err == nil {
			if info, err := s.GoCloak().GetServerInfo(context.Background(), token); err == nil && info.SystemInfo != nil {
				kc = fmt.Sprintf("Keycloak %s on Java %s", gocloak.PString(info.SystemInfo.Version), gocloak.PString(info.SystemInfo.JavaVersion))
			}
		}
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s/%s, %s, %s", runtime.NumCPU(), cpu, mem, runtime.GOOS, runtime.GOARCH, runtime.Version(), kc)
}

// procField returns the value of the first "name: value" line of a /proc file, or "".
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mb(kib int64) string { return fmt.Sprintf("%.1f MB", float64(kib)/1024) }

func size(bytes int64) string {
	if bytes < 1<<20 {
		return fmt.Sprintf("%.0f kB", float64(bytes)/1024)
	}
	return mb(bytes / 1024)
}
