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
// proxy, alternating with `roster plan` on the same realm, whose wall it is measured against:
// export reads what plan reads, the identity providers and the links of the users linked to
// one, and writes the file.
func BenchmarkExport(b *testing.B) {
	bin := rosterBin(b)
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			realm, file := seeded(b, n)
			proxy, count := countingProxy(b, realm.Server.URL)
			env := []string{"KEYCLOAK_URL=" + proxy.URL, "KEYCLOAK_CLIENT_ID=" + realm.ClientID, "KEYCLOAK_CLIENT_SECRET=" + realm.ClientSecret}
			out := filepath.Join(b.TempDir(), "export.yaml")
			export := func() (time.Duration, int64) {
				start := time.Now()
				_, rss := run(b, bin, env, "export", "--realm", realm.Name, "--out", out)
				return time.Since(start), rss
			}
			plan := func() time.Duration {
				start := time.Now()
				runPlan(b, bin, proxy.URL, realm, file)
				return time.Since(start)
			}
			export() // warm up
			var wall, planWall time.Duration
			var rss, requests int64
			first := true
			for b.Loop() {
				if first {
					planWall += plan()
				}
				count.reset()
				w, r := export()
				requests = count.requests.Load()
				wall += w
				rss = max(rss, r)
				if !first {
					planWall += plan()
				}
				first = !first
			}
			got, err := os.ReadFile(out)
			check(b, err)
			admins, developers := roleCounts(n)
			if users := strings.Count(string(got), "\n  - username: "); users != admins+developers {
				b.Fatalf("the export holds %d users, want %d", users, admins+developers)
			}
			loops := time.Duration(b.N)
			b.ReportMetric(float64(requests), "requests/op")
			b.ReportMetric(wall.Seconds()/float64(b.N), "export-s/op")
			b.ReportMetric(wall.Seconds()/planWall.Seconds(), "export/plan")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
			report.export = append(report.export, exportRow{users: n, requests: requests, wall: wall / loops, planWall: planWall / loops, rssKiB: rss})
		})
	}
}
