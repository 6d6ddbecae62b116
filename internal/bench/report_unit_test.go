package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportKeepsTheOtherTopology writes the document as each topology's run would: each run
// replaces its own section and leaves the other's as it was.
func TestReportKeepsTheOtherTopology(t *testing.T) {
	saved := report
	t.Cleanup(func() { report = saved })
	report.plan = []planRow{{users: 10, requests: 3, floorRequests: 3, wall: 1, floorWall: 1}}
	report.converged = []convergedRow{{users: 10, requests: 3, wall: 1, floorWall: 1}}
	report.validate = []validateRow{{users: 10}}
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
