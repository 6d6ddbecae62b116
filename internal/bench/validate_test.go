package bench

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/schema"
)

// validateSizes are the file sizes BenchmarkValidate measures, in users: those of
// ROSTER_BENCH_VALIDATE_USERS ("10000,50000"; by default 10,000 to 200,000 users, a 23 MB file,
// under the 32 MiB limit), which need no server, and the seeded realms' sizes, for the growth
// table. validateOnly tells the first kind.
func validateSizes(t testing.TB) (all []int, validateOnly map[int]bool) {
	seeded := sizes(t)
	validateOnly = map[int]bool{}
	all = seeded
	for _, n := range sizesFrom(t, "ROSTER_BENCH_VALIDATE_USERS", "10000,50000,100000,200000") {
		if !slices.Contains(seeded, n) {
			validateOnly[n] = true
			all = append(all, n)
		}
	}
	slices.Sort(all)
	return all, validateOnly
}

// validateFile writes a desired-state file of n users, each as the seeded realms' file writes
// it, into dir.
func validateFile(t testing.TB, dir string, n int) string {
	var b strings.Builder
	b.WriteString("version: 1\nrealm: bench\nsettings:\n  unmanagedAttributePolicy: ADMIN_EDIT\nusers:\n")
	for i := range n {
		b.WriteString(desiredUser(i))
	}
	file := filepath.Join(dir, fmt.Sprintf("users-%d.yaml", n))
	check(t, os.WriteFile(file, []byte(b.String()), 0o644))
	return file
}

// BenchmarkValidate runs `roster validate` on a generated file of each size, offline: its wall,
// its peak RSS, and how much each grows per doubling of the users (2 when linear).
func BenchmarkValidate(b *testing.B) {
	bin := rosterBin(b)
	dir := b.TempDir()
	all, validateOnly := validateSizes(b)
	for _, n := range all {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			file := validateFile(b, dir, n)
			info, err := os.Stat(file)
			check(b, err)
			var wall time.Duration
			var rss int64
			for b.Loop() {
				start := time.Now()
				r := validateRun(b, bin, file, n)
				wall += time.Since(start)
				rss = max(rss, r)
			}
			b.ReportMetric(wall.Seconds()/float64(b.N), "validate-s/op")
			b.ReportMetric(float64(rss)/1024, "peak-RSS-MB")
			report.validate = append(report.validate, validateRow{users: n, bytes: info.Size(), wall: wall / time.Duration(b.N), rssKiB: rss,
				validateOnly: validateOnly[n]})
		})
	}
}

// validateRun runs `roster validate` on file, which holds n users, and returns its peak RSS in
// KiB.
func validateRun(t testing.TB, bin, file string, n int) int64 {
	out, rss := run(t, bin, nil, "validate", file)
	if want := fmt.Sprintf("Success! 1 file, %d users,", n); !strings.Contains(out, want) {
		t.Fatalf("validate: want %q in\n%s", want, tail(out))
	}
	return rss
}

// TestValidateSmall is BenchmarkValidate's run of the binary on a file of 300 users, for make
// test (which sets ROSTER_BIN).
func TestValidateSmall(t *testing.T) {
	validateRun(t, rosterBin(t), validateFile(t, t.TempDir(), 300), 300)
}

// perDoubling is the factor a cost grows by each time the users double, from cost a at na
// users to cost b at nb: 2 when the cost is linear, 4 when quadratic.
func perDoubling(a, b float64, na, nb int) float64 {
	return math.Pow(b/a, 1/math.Log2(float64(nb)/float64(na)))
}

// TestValidateFileIsValid is the quick part of BenchmarkValidate that make test runs: the
// generated file loads without a diagnostic and holds the users asked for.
func TestValidateFileIsValid(t *testing.T) {
	file := validateFile(t, t.TempDir(), 300)
	cfg, diags := schema.Load([]string{file}, schema.Options{})
	for _, d := range diags {
		t.Error(d)
	}
	if cfg == nil || len(cfg.Users) != 300 {
		t.Fatalf("the generated file does not load as 300 users: %v", cfg != nil)
	}
}

func TestPerDoubling(t *testing.T) {
	for _, c := range []struct {
		a, b   float64
		na, nb int
		want   float64
	}{
		{1, 2, 1000, 2000, 2},     // linear
		{1, 4, 1000, 2000, 4},     // quadratic
		{1, 5, 10000, 50000, 2},   // linear over a factor of 5
		{1, 25, 10000, 50000, 4},  // quadratic over a factor of 5
		{3, 3, 100000, 200000, 1}, // constant
	} {
		if got := perDoubling(c.a, c.b, c.na, c.nb); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("perDoubling(%v, %v, %d, %d) = %v, want %v", c.a, c.b, c.na, c.nb, got, c.want)
		}
	}
}

// TestValidateReportGrowth checks the validate table's growth columns: a row twice the users
// and twice the cost of the one above grows by 2.00 per doubling.
func TestValidateReportGrowth(t *testing.T) {
	saved := report
	t.Cleanup(func() { report = saved })
	report.validate = []validateRow{
		{users: 10_000, bytes: 1 << 20, wall: time.Second, rssKiB: 100 << 10},
		{users: 20_000, bytes: 2 << 20, wall: 2 * time.Second, rssKiB: 200 << 10},
	}
	report.validate = append(report.validate, validateRow{users: 40_000, wall: 4 * time.Second, rssKiB: 400 << 10, validateOnly: true})
	if g := growth(); strings.Contains(g, "40,000") || !strings.Contains(g, "| validate | wall | 1.00 s | 2.00 s |") {
		t.Errorf("the growth table should have the seeded sizes' rows only:\n%s", g)
	}
	doc := devReport()
	for _, want := range []string{
		"| 10,000 | 1.0 MB | 1.00 s | 100.0 MB |  |  |\n",
		"| 20,000 | 2.0 MB | 2.00 s | 200.0 MB | 2.00 | 2.00 |\n",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the report lacks %q:\n%s", want, doc)
		}
	}
}
