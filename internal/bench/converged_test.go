package bench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/peakrss"
)

// BenchmarkApplyConverged runs `roster apply --auto-approve` on the seeded realm of each size,
// which the file already describes, through the counting proxy: it must make no write at all.
// Its raw loop is the listing floor of BenchmarkPlan: the least a converged apply has to read.
func BenchmarkApplyConverged(b *testing.B) {
	bin := rosterBin(b)
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			p := throughProxy(b, n)
			realm, file, env, count := p.realm, p.file, p.env, p.count
			run(b, bin, env, "apply", "--auto-approve", file) // warm up
			var wall, floor time.Duration
			var rss int64
			for b.Loop() {
				pages := count.floorListings() // those of the run before
				start := time.Now()
				listingFloor(b, realm, pages)
				floor += time.Since(start)
				count.reset()
				start = time.Now()
				out, r := run(b, bin, env, "apply", "--auto-approve", file)
				wall += time.Since(start)
				rss = max(rss, r)
				if !strings.HasSuffix(out, "No changes. The realm matches the configuration.\n") {
					b.Fatalf("apply on the converged realm has changes:\n%s", tail(out))
				}
				if w := count.writes.Load(); w != 0 {
					b.Fatalf("apply on the converged realm made %d write requests, want 0", w)
				}
			}
			b.ReportMetric(float64(count.requests.Load()), "requests/op")
			b.ReportMetric(float64(count.writes.Load()), "writes/op")
			b.ReportMetric(wall.Seconds()/float64(b.N), "apply-s/op")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
			report.converged = append(report.converged, convergedRow{users: n, requests: count.requests.Load(),
				writes: count.writes.Load(), wall: wall / time.Duration(b.N), floorWall: floor / time.Duration(b.N), rssKiB: rss})
		})
	}
}

// run runs the binary with the environment added and returns its stdout and peak RSS in KiB.
func run(b testing.TB, bin string, env []string, args ...string) (string, int64) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	rss, err := peakrss.Run(cmd)
	if err != nil {
		b.Fatalf("roster %s: %v\n%s%s", strings.Join(args, " "), err, tail(stdout.String()), tail(stderr.String()))
	}
	return stdout.String(), rss
}
