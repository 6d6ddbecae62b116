//go:build unix

package plan

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/model"
)

// TestBuildIsLinear fails when planning a realm grows faster than the realm: it plans n live
// users of which a tenth change their email and a tenth are renamed (found by their email and
// identity link), at 1,000 and at 16,000 users, and compares the least CPU time of five plans
// of each (CPU time, which other processes on a busy machine do not inflate as they do the
// wall). A plan that compared each declared user with each live one took 13 s for 10,000 email
// changes among 100,000 users. The sizes are 16 times apart, so a linear plan takes about 16
// times as long (more with the sort), a quadratic one about 256 times; the bound sits between,
// three times above the first.
func TestBuildIsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("times plans of 16,000 users")
	}
	small, large := 1000, 16000
	cfgSmall, liveSmall := linearRealm(small)
	cfgLarge, liveLarge := linearRealm(large)
	// Without the collector, whose work starts only once the heap passes a few megabytes and so
	// would weigh on the larger plan alone (for the whole process: this test is not parallel).
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	measure := func(cfg *model.Config, live *model.Live) time.Duration {
		runtime.GC()
		start := cpuTime(t)
		p, err := Build(cfg, live, Options{})
		took := cpuTime(t) - start
		if err != nil {
			t.Fatal(err)
		}
		renames := 0
		for _, c := range p.Changes {
			if c.Action == Rename {
				renames++
			}
		}
		if n := len(live.Users); len(p.Changes) != n/5 || renames != n/10 {
			t.Fatalf("%d users: %d changes, %d of them renames; want %d and %d", n, len(p.Changes), renames, n/5, n/10)
		}
		return took
	}
	var tSmall, tLarge time.Duration
	for i := range 5 {
		s, l := measure(cfgSmall, liveSmall), measure(cfgLarge, liveLarge)
		if i == 0 || s < tSmall {
			tSmall = s
		}
		if i == 0 || l < tLarge {
			tLarge = l
		}
	}
	ratio := float64(tLarge) / float64(max(tSmall, time.Microsecond))
	t.Logf("%d users: %s; %d users: %s; %.1f times as long", small, tSmall, large, tLarge, ratio)
	if bound := 3.0 * float64(large) / float64(small); ratio > bound {
		t.Errorf("planning %d users took %.0f times as long as %d users (%s, %s), more than %.0f: the plan grows faster than the realm",
			large, ratio, small, tLarge, tSmall, bound)
	}
}

// cpuTime is the CPU time the test process has used, its own and the system's on its behalf.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// linearRealm returns a realm of n owned developers and a configuration in which every tenth
// changes its email and every tenth other is renamed, keeping its email and identity link.
func linearRealm(n int) (*model.Config, *model.Live) {
	var users []model.User
	var live []model.LiveUser
	for i := range n {
		name := fmt.Sprintf("user%06d", i)
		lu := owned(member(name, "p1"))
		lu.Email = name + "@example.com"
		live = append(live, lu)
		u := user(name, model.RoleDeveloper, grants("p1"))
		switch i % 10 {
		case 0:
			u.Email = ptr(name + "@new.example.com")
		case 5:
			link := model.FederatedIdentity{Provider: "entra", UserID: fmt.Sprintf("sub-%d", i)}
			live[i].FederatedIdentities = []model.FederatedIdentity{link}
			u.Username = fmt.Sprintf("new%06d", i)
			u.Email = ptr(lu.Email)
			u.FederatedIdentities = []model.FederatedIdentity{link}
		default:
			u.Email = ptr(lu.Email)
		}
		users = append(users, u)
	}
	r := realm(live...)
	r.Login.LoginWithEmailAllowed, r.Login.EditUsernameAllowed = true, true
	return config(users...), r
}
