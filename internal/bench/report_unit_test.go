package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReportKeepsTheOtherTopology writes the document as each topology's run would: each run
// replaces its own section and leaves the other's as it was.
func TestReportKeepsTheOtherTopology(t *testing.T) {
	saved := report
	t.Cleanup(func() { report = saved })
	report.plan = []planRow{{users: 10, requests: 3, floorRequests: 3, wall: 1, floorWall: 1}}
	report.converged = []convergedRow{{users: 10, requests: 3, wall: 1, floorWall: 1}}
	report.validate = []validateRow{{users: 10}}
	report.export = []exportRow{{users: 10, requests: 4, wall: 1, planWall: 1}}
	report.verify = []verifyRow{{users: 10, sample: 10, wall: 2, planWall: 1, verifying: 1}}
	report.create = []createRow{{batch: 50, roster: 1, raw: 1}}
	report.update = []createRow{{roster: 1, raw: 1}}
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	read := func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	t.Setenv("KEYCLOAK_TOPOLOGY", "")
	if err := writeReport(path); err != nil {
		t.Fatal(err)
	}
	dev := read()
	if strings.Contains(dev, clusterHeading) {
		t.Fatalf("the development run wrote a cluster section:\n%s", dev)
	}
	t.Setenv("KEYCLOAK_TOPOLOGY", "cluster")
	if err := writeReport(path); err != nil {
		t.Fatal(err)
	}
	both := read()
	if !strings.HasPrefix(both, dev) || !strings.Contains(both, clusterHeading+"\n") || !strings.Contains(both, "| update the email of 1 in 10 |") {
		t.Fatalf("after the cluster run:\n%s", both)
	}
	t.Setenv("KEYCLOAK_TOPOLOGY", "")
	report.plan[0].requests = 4 // a new development run, other figures
	if err := writeReport(path); err != nil {
		t.Fatal(err)
	}
	again := read()
	_, cluster, _ := strings.Cut(both, clusterHeading)
	if !strings.HasSuffix(again, clusterHeading+cluster) || !strings.Contains(again, "| 10 | 4 |") {
		t.Fatalf("after a second development run the cluster section changed or the new figures are missing:\n%s", again)
	}
}

// TestGrowth writes the growth table from figures at three sizes: each figure under its size (an
// update's under the size of the realm it changed a tenth of), the factor from one size to the
// next beside them, blank where a size was not measured.
func TestGrowth(t *testing.T) {
	saved := report
	t.Cleanup(func() { report = saved })
	report.plan = []planRow{
		{users: 1000, requests: 9, wall: 300 * time.Millisecond, rssKiB: 30 << 10},
		{users: 10000, requests: 41, wall: 3 * time.Second, rssKiB: 100 << 10},
		{users: 100000, requests: 305, wall: 45 * time.Second, rssKiB: 500 << 10},
	}
	report.validate = []validateRow{{users: 1000, wall: 50 * time.Millisecond, rssKiB: 20 << 10}}
	report.converged, report.export = nil, nil
	report.create = []createRow{{users: 1000, batch: 50, roster: 500}, {users: 1000, batch: 1, roster: 300}, {users: 10000, batch: 50, roster: 450}}
	report.update = []createRow{{users: 100, realm: 1000, roster: 150}, {users: 1000, realm: 10000, roster: 120}}
	want := `| measured | | 1,000 users | 10,000 users | 100,000 users | × from 1k to 10k | × from 10k to 100k |
|---|---|---:|---:|---:|---:|---:|
| validate | wall | 0.05 s | | | | |
| validate | peak RSS | 20 MB | | | | |
| plan | requests | 9 | 41 | 305 | 4.6 | 7.4 |
| plan | wall | 0.30 s | 3.00 s | 45.00 s | 10.0 | 15.0 |
| plan | peak RSS | 30 MB | 100 MB | 500 MB | 3.3 | 5.0 |
| create | throughput | 500 users/s | 450 users/s | | 0.9 | |
| update | throughput | 150 users/s | 120 users/s | | 0.8 | |
`
	if got := growth(); got != want {
		t.Errorf("growth table:\n%s\nwant:\n%s", got, want)
	}
}

// TestReportReferences writes the create and update tables with both reference loops: the bare
// loop's columns as before, then the second loop's requests, rate and roster's ratio to it, in
// the development section and in the cluster one; a reference not measured shows as —.
func TestReportReferences(t *testing.T) {
	saved := report
	t.Cleanup(func() { report = saved })
	report.create = []createRow{
		{users: 1000, runs: 3, batch: 50, parallelism: 16, roster: 250, raw: 1000, reference: 500, requests: 1063, rawRequests: 21, refRequests: 24,
			sweep: []sweepPoint{{users: 1000, parallelism: 1, rate: 300}, {users: 1000, parallelism: 16, rate: 1000}}},
		{users: 10000, runs: 1, batch: 50, parallelism: 16, roster: 330, raw: 1500},
	}
	report.update = []createRow{{users: 100, realm: 1000, runs: 3, parallelism: 8, roster: 50, raw: 100, requests: 230, rawRequests: 104},
		{users: 1000, realm: 10000, runs: 1, parallelism: 8, roster: 76, raw: 297, reference: 95, requests: 2083, rawRequests: 1022, refRequests: 3022}}
	dev := devReport()
	for _, want := range []string{
		"| users | runs | bare loop sweep (parallelism: users/s) | best | roster requests | bare loop requests | roster users/s | bare loop users/s | roster / bare loop " +
			"| import + read-back requests | import + read-back users/s | roster / import + read-back |\n|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
			"| 1,000 | 3 | 1: 300, 16: 1000 | 16 | 1063 | 21 | 250 | 1000 | 0.25 | 24 | 500 | 0.50 |\n" +
			"| 10,000 | 1 | — | 16 | 0 | 0 | 330 | 1500 | 0.22 | — | — | — |\n",
		"## `roster apply` updating a tenth of the users\n",
		"`roster apply --parallelism 8` changing the email of every tenth developer it owns",
		"| users | users changed | runs | roster requests | bare loop requests | roster users/s | bare loop users/s | roster / bare loop " +
			"| reading loop requests | reading loop users/s | roster / reading loop |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" +
			"| 1,000 | 100 | 3 | 230 | 104 | 50 | 100 | 0.50 | — | — | — |\n" +
			"| 10,000 | 1,000 | 1 | 2083 | 1022 | 76 | 297 | 0.26 | 3022 | 95 | 0.80 |\n",
	} {
		if !strings.Contains(dev, want) {
			t.Errorf("the development section lacks\n%s\nin:\n%s", want, dev)
		}
	}
	cluster := clusterReport()
	for _, want := range []string{
		"| apply | users | runs | roster users/s | raw users/s | roster / raw | reference users/s | roster / reference |\n|---|---:|---:|---:|---:|---:|---:|---:|\n" +
			"| create, batch size 50, parallelism 16 | 1,000 | 3 | 250 | 1000 | 0.25 | 500 | 0.50 |\n" +
			"| create, batch size 50, parallelism 16 | 10,000 | 1 | 330 | 1500 | 0.22 | — | — |\n" +
			"| update the email of 1 in 10 | 100 | 3 | 50 | 100 | 0.50 | — | — |\n" +
			"| update the email of 1 in 10 | 1,000 | 1 | 76 | 297 | 0.26 | 95 | 0.80 |\n",
	} {
		if !strings.Contains(cluster, want) {
			t.Errorf("the cluster section lacks\n%s\nin:\n%s", want, cluster)
		}
	}
}

// TestSideBySide runs each side once per round the loop grants, rotating which goes first, and
// reports the medians of all those rounds and how many there were; with most, only the first
// most rounds run, though the loop is still asked until it ends. The create and update
// benchmarks once passed b.N as the number of rounds, which is 1 until b.Loop ends, and so
// measured one round where -benchtime asked for three.
func TestSideBySide(t *testing.T) {
	for _, tc := range []struct {
		name    string
		granted int
		most    int
		runs    int
		order   string
		rate    float64 // each side's median
	}{
		{"every round", 3, 0, 3, "rbf bfr frb", 100.0 / 2},
		{"the first only", 3, 1, 1, "rbf", 100.0 / 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := 0
			loop := func() bool { asked++; return asked <= tc.granted }
			var order strings.Builder
			// Each side's nth run takes n seconds (100, 50, 33 users/s) and sends 10·n requests.
			side := func(name string) func() measured {
				n := 0
				return func() measured {
					if order.Len() > 0 && order.Len()%4 == 3 {
						order.WriteByte(' ')
					}
					order.WriteString(name)
					n++
					return measured{wall: time.Duration(n) * time.Second, requests: int64(10 * n)}
				}
			}
			row := sideBySide(loop, 100, tc.most, side("r"), side("b"), side("f"))
			if asked != tc.granted+1 {
				t.Errorf("the loop was asked %d times, want %d: until it said no", asked, tc.granted+1)
			}
			if got := order.String(); got != tc.order {
				t.Errorf("the sides ran in the order %q, want %q", got, tc.order)
			}
			if row.runs != tc.runs || row.roster != tc.rate || row.raw != tc.rate || row.reference != tc.rate {
				t.Errorf("sideBySide = %d runs, rates %.1f, %.1f, %.1f; want %d runs, rates %.1f each",
					row.runs, row.roster, row.raw, row.reference, tc.runs, tc.rate)
			}
			if want := int64(10 * tc.runs); row.requests != want || row.rawRequests != want || row.refRequests != want {
				t.Errorf("requests %d, %d, %d; want those of the last runs, %d each", row.requests, row.rawRequests, row.refRequests, want)
			}
		})
	}
}
