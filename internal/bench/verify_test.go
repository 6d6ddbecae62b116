package bench

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// verifySample is how many users BenchmarkAccessVerify verifies: --sample, a sample covering
// every CodeMie role.
const verifySample = 200

// BenchmarkAccessVerify runs `roster access --verify --sample 200` on the seeded file of each
// size, alternately with `roster plan` on it: both read the realm, and verify then asks Keycloak
// for each sampled user's tokens. Its users/s are the sampled users over the difference of the
// walls, the time the verification itself took.
func BenchmarkAccessVerify(b *testing.B) {
	bin := rosterBin(b)
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			realm, file := seeded(b, n)
			proxy, count := countingProxy(b, realm.Server.URL)
			env := []string{"KEYCLOAK_URL=" + proxy.URL, "KEYCLOAK_CLIENT_ID=" + realm.ClientID, "KEYCLOAK_CLIENT_SECRET=" + realm.ClientSecret}
			sample := min(verifySample, n)
			verify := func() time.Duration {
				start := time.Now()
				out, _ := run(b, bin, env, "access", "--verify", "--sample", fmt.Sprint(sample), file)
				if !strings.Contains(out, fmt.Sprintf("Verified %d users", sample)) || !strings.Contains(out, "all match") {
					b.Fatalf("access --verify:\n%s", tail(out))
				}
				return time.Since(start)
			}
			plan := func() time.Duration {
				start := time.Now()
				runPlan(b, bin, proxy.URL, realm, file)
				return time.Since(start)
			}
			verify() // warm up
			var wall, planWall time.Duration
			var requests int64
			first := true
			for b.Loop() {
				if first {
					planWall += plan()
				}
				count.reset()
				wall += verify()
				requests = count.requests.Load()
				if !first {
					planWall += plan()
				}
				first = !first
			}
			loops := time.Duration(b.N)
			row := verifyRow{users: n, sample: sample, requests: requests, wall: wall / loops, planWall: planWall / loops}
			b.ReportMetric(float64(requests), "requests/op")
			b.ReportMetric(row.rate(), "verified-users/s")
			report.verify = append(report.verify, row)
		})
	}
}
