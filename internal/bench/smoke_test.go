package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSmallRealm is a quick pass through the benchmarks' code on a realm of 30 users, for
// `make test`: the seeding, the floor, plan, export, access --verify and a converged apply
// through the counting proxy, with the requests within the bound the benchmarks hold roster to,
// the verification's requests for tokens seen, and no write.
func TestSmallRealm(t *testing.T) {
	bin := rosterBin(t)
	const n = 30
	p := throughProxy(t, n)
	realm, file, env, count := p.realm, p.file, p.env, p.count
	if got := listingFloor(t, realm, fixedListings(n)); got != 6 {
		t.Errorf("the floor made %d requests, want 6: a login, one page of each listing, the profile and the roles", got)
	}
	bound := int64(2*((n+499)/500) + 10)
	count.reset()
	runPlan(t, bin, p.url, realm, file)
	if got := count.requests.Load(); got > bound {
		t.Errorf("plan made %d requests, want at most %d", got, bound)
	}
	if got := listingFloor(t, realm, count.floorListings()); got != 6 {
		t.Errorf("the floor of plan's pages made %d requests, want 6: a login, the page of each listing plan read, the profile and the roles", got)
	}

	out := filepath.Join(t.TempDir(), "export.yaml")
	count.reset()
	run(t, bin, env, "export", "--realm", realm.Name, "--out", out)
	got, err := os.ReadFile(out)
	check(t, err)
	admins, developers := roleCounts(n)
	if users := strings.Count(string(got), "\n  - username: "); users != admins+developers {
		t.Errorf("the export holds %d users, want %d:\n%s", users, admins+developers, got)
	}
	if got := count.requests.Load(); got > bound+2 {
		t.Errorf("export made %d requests, want at most %d", got, bound+2)
	}

	count.reset()
	if stdout, _ := run(t, bin, env, "access", "--verify", "--sample", "5", file); !strings.Contains(stdout, "Verified 5 users") ||
		!strings.Contains(stdout, "all match") {
		t.Errorf("access --verify on the seeded realm:\n%s", stdout)
	}
	if count.tokenSpan() <= 0 {
		t.Errorf("the proxy saw no request for an example token (%s) from access --verify: its users/s cannot be measured", exampleToken)
	}

	count.reset()
	stdout, _ := run(t, bin, env, "apply", "--auto-approve", file)
	if !strings.HasSuffix(stdout, "No changes. The realm matches the configuration.\n") {
		t.Errorf("apply on the seeded realm has changes:\n%s", stdout)
	}
	if w := count.writes.Load(); w != 0 {
		t.Errorf("apply on the converged realm made %d writes, want 0", w)
	}
}

// TestReferenceLoops takes the reference loops of the create and update benchmarks once through
// small realms, for `make test`: the import + read-back loop finds every user it created with its
// attributes, the reading loop changes every tenth user and reads each back, and both send the
// requests the benchmarks' text counts.
func TestReferenceLoops(t *testing.T) {
	const n = 60 // two batches, one page
	if got := bareCreate(t, n, 2, true).requests; got != 4 {
		t.Errorf("the import + read-back loop made %d requests, want 4: a login, 2 batches and a page", got)
	}
	realm := updateRealm(t, n)
	proxy, count := countingProxy(t, realm.Server.URL, realm.Name)
	readingUpdate(t, proxy.URL, realm, n, 1)
	if got, want := count.requests.Load(), int64(2+3*changedOf(n)); got != want {
		t.Errorf("the reading loop made %d requests, want %d: a login, a page, and a GET, a PUT and a GET for each of %d users",
			got, want, changedOf(n))
	}
}
