package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkExport runs `roster export` on the seeded realm of each size through the counting
// proxy, alternately with `roster plan` on the same realm, whose wall it is measured against:
// export reads what plan reads, the identity providers and the links of the users linked to
// one, and writes the file.
func BenchmarkExport(b *testing.B) {
	bin := rosterBin(b)
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			p := throughProxy(b, n)
			out := filepath.Join(b.TempDir(), "export.yaml")
			var rss int64
			wall, planWall, requests := againstPlan(b, bin, p, func() time.Duration {
				start := time.Now()
				_, r := run(b, bin, p.env, "export", "--realm", p.realm.Name, "--out", out)
				rss = max(rss, r)
				return time.Since(start)
			})
			got, err := os.ReadFile(out)
			check(b, err)
			admins, developers := roleCounts(n)
			if users := strings.Count(string(got), "\n  - username: "); users != admins+developers {
				b.Fatalf("the export holds %d users, want %d", users, admins+developers)
			}
			b.ReportMetric(float64(requests), "requests/op")
			b.ReportMetric(wall.Seconds(), "export-s/op")
			b.ReportMetric(wall.Seconds()/planWall.Seconds(), "export/plan")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
			report.export = append(report.export, exportRow{users: n, requests: requests, wall: wall, planWall: planWall, rssKiB: rss})
		})
	}
}
