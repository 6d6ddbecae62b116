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
// for each sampled user's tokens. Its users/s are the sampled users over the time the
// verification itself took, as the proxy saw it: from the start of the first request for a
// token to the end of the last. (The difference of the walls would do at 10,000 users, but at
// 100,000 the read of the realm varies from run to run by more than the whole verification.)
func BenchmarkAccessVerify(b *testing.B) {
	bin := rosterBin(b)
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			p := throughProxy(b, n)
			sample := min(verifySample, n)
			var spans []time.Duration // of each run, the warm-up's first
			wall, planWall, requests := againstPlan(b, bin, p, func() time.Duration {
				start := time.Now()
				out, _ := run(b, bin, p.env, "access", "--verify", "--sample", fmt.Sprint(sample), p.file)
				if !strings.Contains(out, fmt.Sprintf("Verified %d users", sample)) || !strings.Contains(out, "all match") {
					b.Fatalf("access --verify:\n%s", tail(out))
				}
				spans = append(spans, p.count.tokenSpan())
				return time.Since(start)
			})
			var verifying time.Duration
			for _, s := range spans[1:] {
				verifying += s
			}
			verifying /= time.Duration(len(spans) - 1)
			row := verifyRow{users: n, sample: sample, requests: requests, wall: wall, planWall: planWall, verifying: verifying}
			b.ReportMetric(float64(requests), "requests/op")
			b.ReportMetric(row.rate(), "verified-users/s")
			report.verify = append(report.verify, row)
		})
	}
}
