package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/verify"
)

// report collects the figures of one `make bench` run for docs/benchmarks.md. Benchmarks append
// their rows when they finish; TestMain writes the document after all of them ran.
var report struct {
	plan      []planRow
	converged []convergedRow
	validate  []validateRow
	export    []exportRow
	verify    []verifyRow
	create    []createRow
	update    []createRow // batch and sweep unused
	runs      int         // b.N of the last BenchmarkPlan: how many runs each wall is the mean of
	seeding   []seedRow
	took      time.Duration // the whole run, seeding included
}

type seedRow struct {
	users int
	wall  time.Duration
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
	// validateOnly marks a size no other benchmark measures (no realm is seeded at it): the
	// growth table, whose columns are the seeded sizes, leaves it out.
	validateOnly bool
}

type exportRow struct {
	users          int
	requests       int64
	wall, planWall time.Duration
	rssKiB         int64
}

type verifyRow struct {
	users, sample  int
	requests       int64
	wall, planWall time.Duration
	// verifying is the time from the first request for a token to the end of the last.
	verifying time.Duration
}

// rate is the users access --verify verifies per second: the sample over the time the
// verification took; 0 when it was not measured.
func (r verifyRow) rate() float64 {
	if r.verifying > 0 {
		return float64(r.sample) / r.verifying.Seconds()
	}
	return 0
}

// createRow is one size of BenchmarkApplyCreate, or BenchmarkApplyUpdate's figures.
type createRow struct {
	users, batch, parallelism int // users created, or changed
	realm                     int // for an update, the users of the realm
	runs                      int // how many runs of each side the rates are the medians of
	// Users per second, medians of the runs: roster's, the bare loop's and the second
	// reference loop's (import + read-back for creates, the reading loop for updates).
	roster, raw, reference             float64
	requests, rawRequests, refRequests int64 // of the last run
	sweep                              []sweepPoint
}

// size is the users of the realm the row was measured in: the realm updated, or the fresh realm
// of the users created.
func (r createRow) size() int {
	if r.realm > 0 {
		return r.realm
	}
	return r.users
}

// referenceRequests and referenceRate write the second reference loop's requests and users/s,
// or — where it did not run.
func (r createRow) referenceRequests() string {
	if r.reference == 0 {
		return "—"
	}
	return fmt.Sprint(r.refRequests)
}

func (r createRow) referenceRate() string {
	if r.reference == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f", r.reference)
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
	if len(report.plan) == 0 || len(report.converged) == 0 || len(report.validate) == 0 || len(report.export) == 0 || len(report.verify) == 0 ||
		len(report.create) == 0 {
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
	w("for creates the bare partial-import loop above, for updates the bare update loop above;\n")
	w("*reference* is the second loop above: import + read-back for creates, the reading loop for\n")
	w("updates. `make bench` runs this part after the one above; walls are means over %d run(s)\n", report.runs)
	w("after a warm-up.\n\n")
	w("| measured | users | requests | roster wall | raw loop wall | roster / raw | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.plan {
		w("| plan, converged realm | %s | %d | %s | %s | %.2f | %s |\n", thousands(r.users), r.requests, secs(r.wall), secs(r.floorWall),
			r.wall.Seconds()/r.floorWall.Seconds(), mb(r.rssKiB))
	}
	for _, r := range report.converged {
		w("| apply, converged realm (%d writes) | %s | %d | %s | %s | %.2f | %s |\n", r.writes, thousands(r.users), r.requests, secs(r.wall),
			secs(r.floorWall), r.wall.Seconds()/r.floorWall.Seconds(), mb(r.rssKiB))
	}
	w("\n| apply | users | runs | roster users/s | raw users/s | roster / raw | reference users/s | roster / reference |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.create {
		w("| create, batch size %d, parallelism %d | %s | %d | %.0f | %.0f | %.2f | %s | %s |\n", r.batch, r.parallelism, thousands(r.users), r.runs, r.roster, r.raw,
			r.roster/r.raw, r.referenceRate(), ratio(r.roster, r.reference))
	}
	for _, r := range report.update {
		w("| update the email of 1 in 10 | %s | %d | %.0f | %.0f | %.2f | %s | %s |\n", thousands(r.users), r.runs, r.roster, r.raw, r.roster/r.raw,
			r.referenceRate(), ratio(r.roster, r.reference))
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
	w("```sh\nmake bench                          # BENCH_USERS=1000,10000,100000 by default\n```\n\n")
	w("It seeds a realm of each size by partial import — 1 %% admins, 89 %% developers with two projects,\n")
	w("10 %% without a role — with a desired-state file that matches it, and runs the built binary\n")
	w("through a reverse proxy in front of the server that counts requests. Each size's realm is seeded\n")
	w("once and read by every benchmark of the run. Walls are means over the runs (3 with `make bench`)\n")
	w("after a warm-up; peak RSS is the largest maximum resident set of the roster process.\n\n")
	w("This run of `make bench` took %s on this machine, the cluster part after it not included", minutes(report.took))
	for i, r := range report.seeding {
		sep := ", "
		if i == 0 {
			sep = "; seeding took "
		}
		w("%s%s for %s users", sep, minutes(r.wall), thousands(r.users))
	}
	w(" (partial imports of 500 users, three at a time).\n\n")

	w("## Growth\n\n")
	w("Each figure at each size, and the factor it grows by from one size to the next. A cost that\n")
	w("grows with the users grows by the factor the users do (10 from one column to the next); a\n")
	w("larger factor is a cost that grows faster than the work, a smaller one a fixed part (start-up,\n")
	w("a login, the few reads that do not depend on the users) still outweighing it. Throughputs\n")
	w("should stay flat (factor 1).\n\n")
	w("%s\n", growth())

	w("## `roster plan` on a converged realm\n\n")
	w("*Floor* is a bare loop that fetches the same pages with the same concurrency as roster: one login,\n")
	w("then at once the user pages and the member pages of admin and of developer that roster's run\n")
	w("before it asked for (their sizes grow as roster's do; see below), up to 4 pages of each listing\n")
	w("in flight whatever their size (roster has fewer of its larger pages in flight, so the floor is the\n")
	w("harder to match), the user profile and the role list. Targets: at most 2·⌈N/500⌉ + 10 requests,\n")
	w("within 1.2× of the floor, under 600 MB for 100,000 users.\n\n")
	w("| users | requests | 2·⌈N/500⌉ + 10 | floor requests | plan wall | floor wall | plan / floor | peak RSS |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.plan {
		w("| %s | %d | %d | %d | %s | %s | %.2f | %s |\n", thousands(r.users), r.requests, 2*((r.users+499)/500)+10, r.floorRequests,
			secs(r.wall), secs(r.floorWall), r.wall.Seconds()/r.floorWall.Seconds(), mb(r.rssKiB))
	}
	w("\n%s", pageSizes)

	w("\n## `roster export`\n\n")
	w("`roster export` of the same realms, run alternately with `roster plan`. Export reads what plan\n")
	w("reads and the identity providers, asks Keycloak which users are linked to one of them\n")
	w("(`GET /users?idpAlias=`, checked against its count) and reads the links of those only, 8 at a\n")
	w("time; the seeded realms have no provider, so no link is read. Target: export / plan ≤ 2.\n\n")
	w("| users | requests | export wall | plan wall | export / plan | peak RSS |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.export {
		w("| %s | %d | %s | %s | %.2f | %s |\n", thousands(r.users), r.requests, secs(r.wall), secs(r.planWall),
			r.wall.Seconds()/r.planWall.Seconds(), mb(r.rssKiB))
	}
	w("\n## `roster access --verify`\n\n")
	w("`roster access --verify --sample %d` on the same files, run alternately with `roster plan`: both\n", verifySample)
	w("read the realm, then verify asks Keycloak for the tokens each sampled user would get through\n")
	w("CodeMie's client (%d at a time). *Verifying* is the time from the start of the first request\n",
		verify.DefaultParallelism)
	w("for a token to the end of the last, as a proxy in front of Keycloak sees them; users/s are the\n")
	w("sampled users over it. (The difference of the walls is no measure: at 100,000 users the read of\n")
	w("the realm varies from one run to the next by more than the whole verification.)\n\n")
	w("| users | sample | requests | verify wall | plan wall | verifying | verified users/s |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.verify {
		w("| %s | %d | %d | %s | %s | %s | %.0f |\n", thousands(r.users), r.sample, r.requests, secs(r.wall), secs(r.planWall),
			secs(r.verifying), r.rate())
	}

	w("\n## `roster apply` on a converged realm\n\n")
	w("The same realms and files: apply reads, plans, finds nothing to do and must send no write\n")
	w("(a request other than GET, HEAD or a login); the benchmark fails if it sends one. It reads what\n")
	w("plan reads, and is measured against the same floor.\n\n")
	w("| users | requests | writes | wall | floor wall | apply / floor | peak RSS |\n|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.converged {
		w("| %s | %d | %d | %s | %s | %.2f | %s |\n", thousands(r.users), r.requests, r.writes, secs(r.wall), secs(r.floorWall),
			r.wall.Seconds()/r.floorWall.Seconds(), mb(r.rssKiB))
	}

	w("\n## `roster validate`\n\n")
	w("`roster validate` offline on generated files of each size, the users written as in the seeded\n")
	w("realms' files (internal/bench/validate_test.go). *Per doubling* is the factor wall and peak RSS\n")
	w("grow by each time the users double, from the row above: 2.00 when the cost is linear, 4.00 when\n")
	w("quadratic. Target: 100,000 users in under 3 s and 1 GB.\n\n")
	w("| users | file | wall | peak RSS | wall per doubling | RSS per doubling |\n|---:|---:|---:|---:|---:|---:|\n")
	for i, r := range report.validate {
		wallGrowth, rssGrowth := "", ""
		if i > 0 {
			p := report.validate[i-1]
			wallGrowth = fmt.Sprintf("%.2f", perDoubling(p.wall.Seconds(), r.wall.Seconds(), p.users, r.users))
			rssGrowth = fmt.Sprintf("%.2f", perDoubling(float64(p.rssKiB), float64(r.rssKiB), p.users, r.users))
		}
		w("| %s | %s | %s | %s | %s | %s |\n", thousands(r.users), size(r.bytes), secs(r.wall), mb(r.rssKiB), wallGrowth, rssGrowth)
	}
	w("\nUntil 2026-12-01 loading grew faster than the file (62 s and 2.1 GB for 186,816 users). A profile\n")
	w("of `schema.LoadFiles` on 100,000 users (`go test -cpuprofile -memprofile`) found two quadratic\n")
	w("costs and a linear one too heavy to stay under the targets:\n\n")
	w("- A team's members were deduplicated by scanning the members kept so far: a team listing all of\n")
	w("  100,000 users took 13.5 s, 83 %% of it in that scan. A set makes it 1.7 s.\n")
	w("- *Did you mean* compared each unknown name with every username: 1,000 unknown team members\n")
	w("  among 100,000 users took 52 s. One sorted pass that skips every candidate behind a prefix\n")
	w("  already too far away takes 3.2 s, with the same suggestions.\n")
	w("- Linear but heavy: 9 KB of peak memory a user, and 17 KB allocated in 255 allocations. The\n")
	w("  go-yaml tree and roster's tree of 192-byte nodes were held at once, and the whole file went to\n")
	w("  the JSON Schema validator as one generic tree, which made a third of the allocations. Now the\n")
	w("  go-yaml tree is taken apart as it is converted, a node is 112 bytes, and the validator sees,\n")
	w("  one at a time, only the users that `plainUser` cannot vouch for: 6 KB allocated in 105\n")
	w("  allocations a user.\n\n")
	w("A file of users alone grew about linearly before too (10.9 s and 1.9 GB at 200,000 users here);\n")
	w("the 62 s are those of a file whose users a team also lists all of: 186,816 such users (25 MB)\n")
	w("took 63.9 s and 2.3 GB here before, and take 4.2 s and 1.2 GB now.\n\n")
	w("On 100,000 users, before and after, run alternately on the loaded machine: 6.2 s, 3.8 s of CPU\n")
	w("and 999 MB before; 2.3 s, 1.9 s of CPU and 580 MB after.\n\n")
	w("`TestLoadIsLinear` (internal/schema, in `make test`) fails when the allocations or bytes each\n")
	w("further user costs grow between 2,000 and 8,000 users.\n")

	w("\n## `roster apply` creating users\n\n")
	w("`roster apply --auto-approve --batch-size 50` creating developers with two projects in a fresh\n")
	w("realm, read-back verification included, against two loops, each in another fresh realm. The\n")
	w("*bare loop* sends the same partial-import batches (one login, then `POST /partialImport` with 50\n")
	w("users each, nothing else). The *import + read-back* loop sends the same batches, then, once the\n")
	w("last has landed, reads the users back the cheapest complete way Keycloak offers: a listing (a\n")
	w("user just created costs the server about a third as much in a listing as read alone; see\n")
	w("below). In the fresh realm they are the whole realm, so it lists it in pages of 500 with\n")
	w("`briefRepresentation=false` (the only listing that carries attributes; up to 4 pages in flight,\n")
	w("as roster lists) and checks that every user is there with the email and attributes sent.\n")
	w("roster has to make such a read: Keycloak's user profile can drop or hide an attribute without an\n")
	w("error, and roster reports no access it has not read back. The bare loop is first run once at\n")
	w("each parallelism of the sweep, at the first size, to find this machine's best; roster then runs\n")
	w("with `--parallelism` at that best and both loops at the same, rotating which of the three goes\n")
	w("first; the rates are medians of the runs (3 with `make bench`). Above %s users, roster and the bare loop run once\n", thousands(onceAbove))
	w("each and the import + read-back loop not at all: each run leaves a fresh realm of that size,\n")
	w("which the development server deletes one user at a time (about 300 a second; deleting a realm\n")
	w("of 100,000 users at once outlasts its transaction timeout), so a round of the three would add\n")
	w("25 minutes, most of it deleting. Target: roster / bare loop ≥ 0.8.\n\n")
	w("| users | runs | bare loop sweep (parallelism: users/s) | best | roster requests | bare loop requests | roster users/s | bare loop users/s | roster / bare loop " +
		"| import + read-back requests | import + read-back users/s | roster / import + read-back |\n|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range report.create {
		sw := []string{"—"}
		if len(r.sweep) > 0 {
			sw = nil
		}
		for _, p := range r.sweep {
			sw = append(sw, fmt.Sprintf("%d: %.0f", p.parallelism, p.rate))
		}
		w("| %s | %d | %s | %d | %d | %d | %.0f | %.0f | %.2f | %s | %s | %s |\n", thousands(r.users), r.runs, strings.Join(sw, ", "), r.parallelism, r.requests,
			r.rawRequests, r.roster, r.raw, r.roster/r.raw, r.referenceRequests(), r.referenceRate(), ratio(r.roster, r.reference))
	}
	w("\n### Where the time goes\n\n")
	w("Traced with `TestTraceApplyCreate` (a proxy that records when each request starts and ends;\n")
	w("`ROSTER_TRACE=1 ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTraceApplyCreate$' ./internal/bench/`),\n")
	w("creating 1,000 users on the busy machine of 2026-12-01. Before: at the default parallelism 8, 9.78 s in\n")
	w("all — 0.06 s starting the process, 0.11 s the login, 0.54 s the plan's reads, the apply lock, the\n")
	w("reads again under it and the realm's creation defaults (one after another), 4.10 s the 20 batches\n")
	w("(7.3 in flight on average, 1.49 s each), **4.90 s the read-back** (a count and 2 pages of 500 full\n")
	w("users, 4.7 and 4.9 s each) and 0.06 s releasing the lock. Users just imported are not in\n")
	w("Keycloak's cache: a page of 500 of them took 2.2 s, the same page again 0.38 s, and 200 read one\n")
	w("by one (8 at once) 2.7 s — so reading every created user back cost the server more than creating\n")
	w("them (a batch of 50 users costs about 0.05–0.1 s of server time when the machine is quiet).\n\n")
	w("Then each batch was read back right after it landed, beside the next batches, every user of\n")
	w("it. Reading one user of each shape instead (1 to 3 reads per batch) reached 0.99 of the loop at\n")
	w("10,000 users on a busy run, but was dropped: a user edited or deleted between the import and\n")
	w("the read was reported created and verified (`TestBatchReadBackEveryUser`). Now, when the users\n")
	w("created are a quarter of the realm or more, as in these fresh realms, roster reads them all\n")
	w("back after the last batch through the listing, as the import + read-back loop does; otherwise\n")
	w("batch by batch ([apply](apply.md#failures)). Beyond the bare loop, part is fixed per run — the\n")
	w("plan's read, the lock, the read again under it (a fresh realm has no mark that could spare it;\n")
	w("see [apply](apply.md#the-apply-lock)) and the lock's release, which the no-loss rules require\n")
	w("([reliability](reliability.md)), about 0.3 s, which weighs on 1,000 users and not on 10,000 —\n")
	w("and part is per user: reading each created user back, which the import + read-back loop pays\n")
	w("too.\n\n")
	w("That read-back bounds every verified create on this server, roster's or any other tool's.\n")
	w("`TestTraceReadBack` (`ROSTER_TRACE=1 ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTraceReadBack$' ./internal/bench/`)\n")
	w("imported 1,000 users with the bare loop's batches at parallelism 8 into a fresh realm and read\n")
	w("them all back at once in pages of 500, three times each way, on 2026-12-04: the imports took\n")
	w("0.71–0.91 s; the full listing read them back in 1.36–1.81 s and the search by the ownership\n")
	w("marker (`q=roster_managed:true`) in 1.30–1.63 s, against 0.11–0.14 s for the brief listing,\n")
	w("which carries no attributes; read a second time, 0.07–0.16 s. Reading back a user Keycloak has\n")
	w("just imported costs it about twice what importing it did, and only those reads show the\n")
	w("attributes the user profile may have dropped, so an import that is read back reaches about\n")
	w("0.35–0.4 of the bare loop here (0.8 s of 2.1–2.7 s). The target of 0.8 of the bare loop with the\n")
	w("verification included is beyond what this server allows; roster is held to the import +\n")
	w("read-back loop instead (last column).\n")
	if len(report.update) > 0 {
		par := report.update[0].parallelism
		w("\n## `roster apply` updating a tenth of the users\n\n")
		w("`roster apply --parallelism %d` changing the email of every tenth developer it owns (1,000 of\n", par)
		w("10,000), in a realm of each size seeded by partial import, against two loops with the same\n")
		w("parallelism. The *bare loop* sends the fewest requests for the same result: one login, the\n")
		w("user listing in brief pages of 500 (the ids), and one `PUT /users/{id}` per changed user with\n")
		w("its username, new email and enabled flag. The *reading loop* makes the reads that planning\n")
		w("attributes and keeping others' edits require: one login, the listing in pages of 500 with\n")
		w("`briefRepresentation=false` (the only listing that carries attributes; 4 in flight), and for\n")
		w("each changed user, %d at a time, a `GET /users/{id}` right before its `PUT` (the\n", par)
		w("representation read goes back with the new email), the `PUT`, and a `GET` reading the user\n")
		w("back, which must show the new email and the attributes untouched. It reads each changed user\n")
		w("back by itself, not by listing the realm again, as roster's read-back does for a tenth of a\n")
		w("realm; but roster reads back only users whose attributes it wrote, so it sends no such `GET`\n")
		w("here. All three work on the same realm, rotating which goes first; the rates are medians of\n")
		w("the runs (3 with `make bench`; above %s users, one: a round of the three changing 10,000\n", thousands(onceAbove))
		w("users takes about 15 minutes). Targets: requests at most the bare loop's plus the safety\n")
		w("reads (below), roster / bare loop ≥ 0.7.\n\n")
		w("| users | users changed | runs | roster requests | bare loop requests | roster users/s | bare loop users/s | roster / bare loop " +
			"| reading loop requests | reading loop users/s | roster / reading loop |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range report.update {
			w("| %s | %s | %d | %d | %d | %.0f | %.0f | %.2f | %s | %s | %s |\n", thousands(r.realm), thousands(r.users), r.runs, r.requests, r.rawRequests,
				r.roster, r.raw, r.roster/r.raw, r.referenceRequests(), r.referenceRate(), ratio(r.roster, r.reference))
		}
		w("\nWhat roster sends beyond the bare loop, each for a rule of [reliability](reliability.md): a\n")
		w("`GET` of each changed user right before its `PUT` (the root fields it does not manage go back\n")
		w("as read, since some Keycloak versions clear those a `PUT` leaves out, and an edit made meanwhile\n")
		w("survives); the plan's read of the realm (35 requests at 10,000 users: the realm, user profile,\n")
		w("client and roles, 20 pages of full users, the role members' pages and the count that makes the\n")
		w("listing trustworthy; the bare loop lists 20 brief pages once), read again under the apply lock\n")
		w("only when the realm's mark does not prove that no other apply took the lock since (here, only\n")
		w("in the run before the measured ones, which marks the seeded realm; see [apply](apply.md#the-apply-lock)); the\n")
		w("lock (a look at it before the read, create, read, the mark's read, write and settling,\n")
		w("release). An update that writes no attribute is not read back. `TestTraceApplyUpdate` traced\n")
		w("one run of 1,000 of 10,000 on 2026-12-01, when every apply read the realm again under the lock\n")
		w("(18.7 s, 2,081 requests): 12.3 s the first read of 10,000 users just seeded (not yet in\n")
		w("Keycloak's cache), 3.9 s the read under the lock, 2.2 s the 1,000 reads and writes (455 users/s,\n")
		w("faster than the bare loop's writes alone), 0.04 s the lock's release. On 2026-12-02, each run\n")
		w("after a bare loop's, that read under the lock took 1.5–1.9 s of runs of 8.2 s. The gap to the\n")
		w("bare loop is the read of the realm that planning needs, not the writes. `TestTracePlanAfterUpdate`\n")
		w("(`ROSTER_TRACE=1 ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTracePlanAfterUpdate$' ./internal/bench/`)\n")
		w("runs the bare loop and right after it `roster plan` on the state the loop made, which finds\n")
		w("nothing to change. On 2026-12-04, 8 rounds at 1,000 and 10,000 users, that plan alone took\n")
		w("1.59–2.49 times the bare loop's whole run at 1,000 users (0.22–0.29 s against 0.12–0.15 s) and\n")
		w("1.56–2.74 times at 10,000 (2.6–4.4 s against 1.5–2.1 s; run again at once, 1.5–2.3 s); at\n")
		w("100,000, 3 rounds, 1.06–1.17 (102–118 s against 89–101 s; again, 31–37 s), where each of the\n")
		w("loop's writes costs 4–7 times what it does at 10,000 (a plan alone that long is more than the\n")
		w("table's whole apply: reads of this size vary by twice from run to run, see below). It reads\n")
		w("every user with attributes, those the loop just wrote from Keycloak's database, and the role\n")
		w("members in pages that cost more the further into the listing they are. So an apply that plans\n")
		w("from a read of the realm stays under 0.7 of the bare loop at 1,000 and 10,000 users on this\n")
		w("server, whatever its writes cost: before its first write it has spent 1.6 to 2.7 times the\n")
		w("loop's whole run. Nor are the safety reads what is missing: a build of roster without the `GET`\n")
		w("before each `PUT`, made only to measure it, had roster / bare loop 0.60 against 0.58 for this\n")
		w("build in one run of `BenchmarkApplyUpdate` at 10,000 users on the same server that day.\n\n")
		w("One apply after another used to be slower than the table shows. An apply gave its lock back\n")
		w("by deleting a realm role, and Keycloak empties its cache of the realm's users whenever a realm\n")
		w("role is deleted (so does deleting a group or a client scope). `TestTraceCacheAfterWrite`\n")
		w("(`ROSTER_TRACE=1 ROSTER_BIN=$PWD/bin/roster go test -v -run '^TestTraceCacheAfterWrite$' ./internal/bench/`)\n")
		w("timed `roster plan` on the converged realm of 10,000 users on 2026-12-04: 2.3 s warm, 2.4 s\n")
		w("after a realm role was created and 2.9 s after its description changed, 3.7 s after it was\n")
		w("renamed, 18.5 s after it was deleted (16.3 s in a run without the rename), 2.8 s once more.\n")
		w("So the first read after an apply that wrote — the next plan, the nightly drift check — read\n")
		w("every user from the database. Above, a\n")
		w("loop reads the whole realm before each roster run, which hid it; four applies in a row with\n")
		w("nothing between them (`TestTraceApplyUpdate` with `ROSTER_TRACE_ROUNDS=4`) took 25.4–28.1 s\n")
		w("each after the first, 36–39 users/s, 19.8–24.4 s of it the plan's read. Now apply gives the\n")
		w("lock back by renaming the role, and deletes the renamed ones once ten have gathered\n")
		w("([apply](apply.md#the-apply-lock)); the same four applies, the same day: 5.7–7.3 s each after\n")
		w("the first, 137–176 users/s, 3.7–4.3 s of it the plan's read (which still reads the 1,000\n")
		w("users the apply before changed from the database). A lock that never empties the cache would\n")
		w("need a resource Keycloak creates once per name, atomically, and deletes without emptying it;\n")
		w("authentication flows are deleted so, but Keycloak does not refuse a second flow of one alias\n")
		w("reliably (by hand with curl, 16 creates of one alias at once made 2), so a flow cannot be a lock.\n")
		w("\n")
		w("At 100,000 users a single run measures more than the read. `roster apply` changing the\n")
		w("emails of 10,000 of them, run one after another on the realm of the trace above (seeded and\n")
		w("applied to once) through a proxy that logs each request, on 2026-12-04: with an earlier\n")
		w("build, 13–18 s passed between the read's last page and the lock, in which the plan compared\n")
		w("each user whose email changes with every user of the realm (13 s of roster's CPU in a\n")
		w("profile; so did each user it creates, for its email, username and links), and a run of\n")
		w("`make bench` had roster / bare loop 0.16 here. The plan now finds live users by email and\n")
		w("identity link in maps, and that gap is 0.3–0.7 s; `TestBuildIsLinear` (internal/plan, in\n")
		w("`make test`) fails when planning 16,000 users costs more than 48 times planning 1,000. The\n")
		w("same runs show what most varies at this size: the read took 51–86 s when its pages grew (to\n")
		w("2,000 users and 4,000 members; 66–90 requests) and 109–181 s in four runs of eleven where\n")
		w("they did not (255–304 requests): the first larger page came back more than a quarter slower\n")
		w("than the mean of the pages before it, a mean that counts the first pages, asked while fewer\n")
		w("were in flight and answered two to four times sooner; the pages now grow on other terms (see\n")
		w("the page sizes above), and the table's run is one of this build.\n")
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
		if info, err := s.ServerInfo(context.Background()); err == nil {
			kc = fmt.Sprintf("Keycloak %s on Java %s", info.Version, info.JavaVersion)
			if info.Heap > 0 {
				kc += fmt.Sprintf(" with a heap of %d MB", info.Heap>>20)
			}
		}
	}
	// make bench sets the users cache for the server it starts and for the benchmarks alike.
	if n := os.Getenv("KC_CACHE_EMBEDDED_USERS_MAX_COUNT"); n != "" {
		kc += ", its users cache holding " + n + " users (`--cache-embedded-users-max-count`)"
	} else {
		kc += ", its users cache at Keycloak's default"
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

// minutes writes a long duration as "12 min 5 s", a short one in seconds.
func minutes(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()))
	}
	return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
}

// ratio writes x / y, or — when y is 0 (not measured).
func ratio(x, y float64) string {
	if y == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", x/y)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func mb(kib int64) string { return fmt.Sprintf("%.1f MB", float64(kib)/1024) }

func size(bytes int64) string {
	if bytes < 1<<20 {
		return fmt.Sprintf("%.0f kB", float64(bytes)/1024)
	}
	return mb(bytes / 1024)
}

// growth is the growth table: each figure at each size, and the factor it grows by from one
// size to the next, so that a cost growing faster than the users shows as a number.
func growth() string {
	type line struct {
		measured, metric string
		at               map[int]float64
		format           func(float64) string
	}
	var lines []line
	add := func(measured, metric string, format func(float64) string, users []int, value func(i int) float64) {
		if len(users) == 0 {
			return
		}
		l := line{measured: measured, metric: metric, at: map[int]float64{}, format: format}
		for i, n := range users {
			l.at[n] = value(i)
		}
		lines = append(lines, l)
	}
	count := func(v float64) string { return fmt.Sprintf("%.0f", v) }
	seconds := func(v float64) string { return fmt.Sprintf("%.2f s", v) }
	memory := func(v float64) string { return fmt.Sprintf("%.0f MB", v/1024) }
	rate := func(v float64) string { return fmt.Sprintf("%.0f users/s", v) }
	users := func(n int, rows func(i int) int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = rows(i)
		}
		return out
	}

	var v []validateRow
	for _, r := range report.validate {
		if !r.validateOnly {
			v = append(v, r)
		}
	}
	vu := users(len(v), func(i int) int { return v[i].users })
	add("validate", "wall", seconds, vu, func(i int) float64 { return v[i].wall.Seconds() })
	add("validate", "peak RSS", memory, vu, func(i int) float64 { return float64(v[i].rssKiB) })
	p := report.plan
	pu := users(len(p), func(i int) int { return p[i].users })
	add("plan", "requests", count, pu, func(i int) float64 { return float64(p[i].requests) })
	add("plan", "wall", seconds, pu, func(i int) float64 { return p[i].wall.Seconds() })
	add("plan", "peak RSS", memory, pu, func(i int) float64 { return float64(p[i].rssKiB) })
	c := report.converged
	cu := users(len(c), func(i int) int { return c[i].users })
	add("converged apply", "requests", count, cu, func(i int) float64 { return float64(c[i].requests) })
	add("converged apply", "wall", seconds, cu, func(i int) float64 { return c[i].wall.Seconds() })
	add("converged apply", "peak RSS", memory, cu, func(i int) float64 { return float64(c[i].rssKiB) })
	e := report.export
	eu := users(len(e), func(i int) int { return e[i].users })
	add("export", "requests", count, eu, func(i int) float64 { return float64(e[i].requests) })
	add("export", "wall", seconds, eu, func(i int) float64 { return e[i].wall.Seconds() })
	add("export", "peak RSS", memory, eu, func(i int) float64 { return float64(e[i].rssKiB) })
	vr := report.verify
	add("access --verify", "throughput", rate, users(len(vr), func(i int) int { return vr[i].users }),
		func(i int) float64 { return vr[i].rate() })
	for _, kind := range []struct {
		name string
		rows []createRow
	}{{"create", report.create}, {"update", report.update}} {
		var rows []createRow
		for _, r := range kind.rows {
			if r.batch <= 1 && kind.name == "create" { // the CLI's default batches, not single creates
				continue
			}
			rows = append(rows, r)
		}
		add(kind.name, "throughput", rate, users(len(rows), func(i int) int { return rows[i].size() }),
			func(i int) float64 { return rows[i].roster })
	}

	var sizes []int
	for _, l := range lines {
		for n := range l.at {
			if !slices.Contains(sizes, n) {
				sizes = append(sizes, n)
			}
		}
	}
	slices.Sort(sizes)
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("| measured | |")
	for _, n := range sizes {
		w(" %s users |", thousands(n))
	}
	for i := 1; i < len(sizes); i++ {
		w(" × from %s to %s |", short(sizes[i-1]), short(sizes[i]))
	}
	w("\n|---|---|%s%s\n", strings.Repeat("---:|", len(sizes)), strings.Repeat("---:|", max(len(sizes)-1, 0)))
	for _, l := range lines {
		w("| %s | %s |", l.measured, l.metric)
		for _, n := range sizes {
			if x, ok := l.at[n]; ok {
				w(" %s |", l.format(x))
			} else {
				w(" |")
			}
		}
		for i := 1; i < len(sizes); i++ {
			x, ok1 := l.at[sizes[i-1]]
			y, ok2 := l.at[sizes[i]]
			if ok1 && ok2 && x > 0 {
				w(" %.1f |", y/x)
			} else {
				w(" |")
			}
		}
		w("\n")
	}
	return b.String()
}

// short writes a size as 1k, 10k, 100k.
func short(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// pageSizes is how the listings' page sizes were weighed: measured once, by hand, not by each run.
const pageSizes = `### Page sizes

Keycloak pays for each page of a listing in proportion to the whole realm, not to the page: in
a realm of 100,000 users, a page of users cost about 0.4 s of the server's time and a page of the
90,000 members of developer about 1 s, whatever their size, once the users were in its cache.
Users not in the cache cost more than their number, the more the larger the page. Measured on
2026-12-02 (Keycloak 26.7.3, users cache of 250,000) on the realm of 100,000 users this document
seeds: a loop listing every user with 4 pages in flight, right after ` + "`POST /clear-user-cache`" + ` (cold),
and again without it (warm):

| listing | page | cold | warm |
|---|---:|---:|---:|
| users (full) | 250 | 145 s | |
| users (full) | 500 | 132 s | 87 s |
| users (full) | 1,000 | 122 s | 26–41 s |
| users (full) | 2,000 | 215 s | 13–16 s |
| users (full) | 5,000 | 592 s | 9 s |
| members of developer (brief) | 1,000 | 211 s | 98 s |
| members of developer (brief) | 5,000 | 66 s | 22–24 s |
| members of developer (brief) | 10,000 | | 12 s |
| members of developer (brief) | 20,000 | | 9 s |

Larger pages made a warm ` + "`roster plan`" + ` of that realm more than twice as fast, but fixed
larger pages hurt the cold read, where users and members are listed at once and each page
waits its turn for the 2 cores: with 500 and 1,000, ` + "`roster plan`" + ` took 369 s, its pages of
members 15.7 s on average and up to 28.6 s, close to the 30 s a request may take (` + "`--timeout`" + `);
with 1,000 and 5,000, and with 1,000 and 2,000, pages passed 30 s and were asked again
(24 and 18 times in the first 5 minutes, when the runs were stopped).

So the pages' size follows how long they take ([plan](plan.md#what-it-reads-and-what-it-costs)):
each listing keeps the rows it has in flight to 4 pages of its first size, and doubles its pages
while the larger ones come back no more than half as slow again. Where users come from the cache,
a page costs about the same whatever its size and the pages grow; where they come from the
database, a page twice as large takes about twice as long and the listing goes back to 500 and
1,000. Measured on 2026-12-02 on the same realm, ` + "`roster -v plan`" + ` run alternately with
the build before (fixed pages) and after, the cache emptied for the cold runs:

| build | warm runs | requests (warm) | cold run | requests (cold) |
|---|---|---:|---|---:|
| fixed pages (500 users, 1,000 members) | 181 s, 214 s, 223 s | 309–310 | 413 s, 0 pages asked again | 306 |
| pages that follow their time | 85 s, 66 s, 99 s | 72–102 | 416 s, 2 pages asked again | 309 |

Cold, neither build grew its pages: the pages of members took 17.6 s on average (fixed) and
17.1 s (following), up to 28.7 s and 30 s; on this machine a realm this large read cold is at
the edge of the default ` + "`--timeout`" + ` either way, and needs a longer one
([troubleshooting](troubleshooting.md)). A first version that grew pages whenever they came
back within a fraction of the timeout, without holding the rows in flight, read warm in 53 s but
cold in 410 s with 14 pages asked again; one that held the rows but grew on time alone read
warm in 35 s and cold in 509 s: a page of 2,000 users read from the database keeps one core busy
for 10 s where four pages of 500 keep both.

That build let a larger page be a quarter slower than the mean of the smaller ones, a mean
that counted a listing's first pages, asked one or two at a time and answered two to four times
sooner than the pages after them. Warm reads of the realm of 100,000 users took 51–86 s when
the pages grew and 109–181 s in 4 runs of 11 (on 2026-12-04) where the first larger page fell
just past that line and the listing stayed at 500 users and 1,000 members for good. Leaving the
first pages out was not enough: a page of 1,000 users took 2.5 s against 1.9 s for those of 500
under the same load, 1.31 times, and two of three such reads kept pages of at most 1,000 users
(85 s and 113 s). Now the first 4 pages of a listing do not count, a larger page may take
half as long again, and the pages grow only while pages twice as large would still come back
within a quarter of ` + "`--timeout`" + ` should they be as much slower again. Measured on 2026-12-04 on a realm of
100,000 users seeded and applied to once, ` + "`roster plan`" + ` run alternately with the build
before and after, the cache emptied before each cold run:

| build | warm runs | requests (warm) | cold runs | requests (cold) | longest page (cold) |
|---|---|---:|---|---:|---:|
| a quarter slower, first pages counted | 87 s, 71 s, 43 s, 64 s | 63–120 | 354 s, 224 s | 218–268 | 28.4 s, 13.2 s |
| half as slow again, first pages left out | 64 s, 33 s, 70 s, 43 s | 47–73 | 239 s, 344 s | 130–201 | 28.4 s, 28.9 s |

Cold, both builds came within 2 s of the timeout: a page of members costs more the further into
the listing it starts (pages of 1,000 members from the 56,000th on took 23–28 s in a cold read
by the build before), so a realm this large read cold needs a longer ` + "`--timeout`" + `
whatever the pages' size.
`
