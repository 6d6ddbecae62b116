package keycloak_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// TestReleaseRenames gives the lock back without deleting a role, since deleting one empties
// Keycloak's cache of the realm's users: the lock's name is free again and the role carries
// the released name and who gave it back, out of the live read. The renamed roles gather up to
// ten; the apply that finds ten deletes them as it gives its own back, but not a role of such a
// name that roster did not give back.
func TestReleaseRenames(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	c := dial(t, realm)
	for _, foreign := range []map[string]string{
		{"name": model.ApplyReleasedPrefix + "by-hand", "description": "made by hand"},
		// roster's description, but not the tag of the name
		{"name": model.ApplyReleasedPrefix + "0123456789ab", "description": "Released by roster apply: someone #ffffffffffff at 2026-01-01T00:00:00Z"},
	} {
		if err := realm.Admin(ctx, http.MethodPost, "/roles", foreign, nil); err != nil {
			t.Fatal(err)
		}
	}
	// released lists the roles of the released prefix: the ones roster gave back, and the others.
	released := func() (ours, others int) {
		t.Helper()
		var roles []struct{ Name, Description string }
		if err := realm.Admin(ctx, http.MethodGet, "/roles?first=0&max=100&search="+model.ApplyReleasedPrefix, nil, &roles); err != nil {
			t.Fatal(err)
		}
		for _, r := range roles {
			switch {
			case !strings.HasPrefix(r.Name, model.ApplyReleasedPrefix):
			case strings.HasPrefix(r.Description, "Released by roster apply: ci-runner pid 1 #"):
				ours++
			default:
				others++
			}
		}
		return ours, others
	}
	for i := 1; i <= 11; i++ {
		l, err := c.TryLock(ctx, "ci-runner pid 1", 0)
		if err != nil {
			t.Fatalf("TryLock %d: %v", i, err)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatalf("Release %d: %v", i, err)
		}
		if err := realm.Admin(ctx, http.MethodGet, "/roles/"+keycloak.LockRole, nil, nil); err == nil || !strings.Contains(err.Error(), "404 Not Found") {
			t.Fatalf("after release %d, GET the lock role: %v, want 404", i, err)
		}
		want := i
		if i == 11 {
			want = 1 // the eleventh found ten and deleted them
		}
		if ours, others := released(); ours != want || others != 2 {
			t.Errorf("after release %d: %d locks given back and %d other roles of the prefix, want %d and 2", i, ours, others, want)
		}
	}
	live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range live.Roles {
		if model.IsApplyRole(r.Name) {
			t.Errorf("the live read shows %s", r.Name)
		}
	}
}

// TestLock takes the apply lock, shows a second taker at once that it is held and by whom, hides
// it from the live read, releases it, and takes over a lock whose holder stopped renewing it.
func TestLock(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	c := dial(t, realm)

	first, err := c.TryLock(ctx, "ci-runner pid 1", 0)
	if err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	_, err = dial(t, realm).TryLock(ctx, "ci-runner pid 2", 0)
	var locked *keycloak.LockedError
	if !errors.As(err, &locked) || !strings.HasPrefix(locked.Holder, "ci-runner pid 1 #") {
		t.Fatalf("second TryLock = %v, want a LockedError naming the first holder", err)
	}
	if got, want := err.Error(), `realm "`+realm.Name+`" is locked by another roster apply (`+locked.Holder+`)`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range live.Roles {
		if r.Name == keycloak.LockRole {
			t.Errorf("the live read shows the lock role %s", r.Name)
		}
	}

	// A second taker gets the lock once the first releases it.
	if err := first.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	second, err := dial(t, realm).TryLock(ctx, "ci-runner pid 3", 0)
	if err != nil {
		t.Fatalf("TryLock after the release: %v", err)
	}
	if err := second.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// A lock whose holder died (its lease ran out) is taken over.
	stale := map[string]string{"name": keycloak.LockRole,
		"description": "Held by roster apply: dead-runner pid 9 #00; expires 2020-01-01T00:00:00Z"}
	if err := realm.Admin(ctx, http.MethodPost, "/roles", stale, nil); err != nil {
		t.Fatal(err)
	}
	l, err := c.TryLock(ctx, "ci-runner pid 4", 0)
	if err != nil {
		t.Fatalf("TryLock over an expired lock: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// A role of that name that roster did not make is never taken over.
	foreign := map[string]string{"name": keycloak.LockRole, "description": "made by hand"}
	if err := realm.Admin(ctx, http.MethodPost, "/roles", foreign, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TryLock(ctx, "ci-runner pid 5", 0); !errors.As(err, &locked) || !locked.Expires.IsZero() {
		t.Errorf("TryLock over a foreign role = %v, want a LockedError without expiry", err)
	}
}

// TestLockIsRenewed holds a lock for longer than its lease: renewals keep it held.
func TestLockIsRenewed(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	// Renewed every 2.5 s: the lock lapses only if four renewals in a row are late, which a
	// loaded machine does not make happen by accident, as it could with a shorter lease.
	l, err := dial(t, realm).TryLock(ctx, "long run", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(12 * time.Second)
	var locked *keycloak.LockedError
	if _, err := dial(t, realm).TryLock(ctx, "next run", 0); !errors.As(err, &locked) {
		t.Errorf("TryLock after the first lease ran out = %v, want it still held (renewed)", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLockThroughFaults takes the lock when its create fails without taking effect (502, a reset
// before the server saw it) and when it takes effect but the answer is lost (a reset after).
func TestLockThroughFaults(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	c, proxy := dialThroughProxy(t, realm)
	ctx := context.Background()
	roles := "/admin/realms/" + realm.Name + "/roles"
	proxy.Fail(http.MethodPost, roles, 1, http.StatusBadGateway)
	proxy.FailWith(http.MethodPost, roles, 1, keycloaktest.ResetBefore)
	proxy.FailWith(http.MethodPost, roles, 1, keycloaktest.ResetAfter)
	l, err := c.TryLock(ctx, "flaky network", 0)
	if err != nil {
		t.Fatalf("TryLock: %v", err)
	}
	if n := proxy.Seen(http.MethodPost, roles); n != 4 {
		t.Errorf("%d POSTs made the lock and the mark, want 4: for the lock two that failed and one whose answer was lost, then the mark", n)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFailedRenewalLosesTheLock makes every renewal of a held lock fail (500 through a proxy): the
// lock is lost, and the client then refuses every write with a *LockLostError instead of writing
// while another run may hold the lock.
func TestFailedRenewalLosesTheLock(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	c, proxy := dialThroughProxy(t, realm)
	ctx := context.Background()
	l, err := c.TryLock(ctx, "renewal fails", 4*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var role struct {
		ID string `json:"id"`
	}
	if err := realm.Admin(ctx, http.MethodGet, "/roles/"+keycloak.LockRole, nil, &role); err != nil {
		t.Fatal(err)
	}
	proxy.Fail(http.MethodPut, "/admin/realms/"+realm.Name+"/roles-by-id/"+role.ID, 100, http.StatusInternalServerError)
	select {
	case <-l.Lost():
	case <-time.After(30 * time.Second):
		t.Fatal("the lock is still held after its renewals failed")
	}
	err = c.CreateRole(ctx, model.RealmRole{Name: "after-the-loss"})
	var lost *keycloak.LockLostError
	if !errors.As(err, &lost) {
		t.Fatalf("a write after the loss: %v, want a LockLostError", err)
	}
	t.Logf("write refused: %v", err)
	if n := proxy.Seen(http.MethodPost, "/admin/realms/"+realm.Name+"/roles"); n != 2 {
		t.Errorf("%d role creations reached the server, want 2 (the lock and the mark)", n)
	}
	if err := l.Release(ctx); !errors.As(err, &lost) {
		t.Errorf("Release: %v, want the loss reported", err)
	}
}

// TestTryLockDoesNotSpin plays a lock that is taken and released between each create and each
// read (the create finds it, 409; the read does not, 404): TryLock gives up after a few attempts,
// each after a pause, where it used to try again at once, for ever.
func TestTryLockDoesNotSpin(t *testing.T) {
	realm := keycloaktest.NewRealm(t)
	c, proxy := dialThroughProxy(t, realm)
	ctx := context.Background()
	other := map[string]string{"name": keycloak.LockRole,
		"description": "Held by roster apply: ci-runner pid 7 #00; expires 2099-01-01T00:00:00Z"}
	if err := realm.Admin(ctx, http.MethodPost, "/roles", other, nil); err != nil {
		t.Fatal(err)
	}
	read := "/admin/realms/" + realm.Name + "/roles/" + keycloak.LockRole
	proxy.Answer(http.MethodGet, read, 1000, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"error":"Could not find role"}`, http.StatusNotFound)
	})
	start := time.Now()
	_, err := c.TryLock(ctx, "ci-runner pid 8", 0)
	if err == nil || !strings.Contains(err.Error(), "other runs took and released it 5 times in a row") {
		t.Fatalf("TryLock = %v, want it to give up", err)
	}
	if n := proxy.Seen(http.MethodGet, read); n != 5 {
		t.Errorf("%d reads of the lock, want 5", n)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("5 attempts took %v: they did not pause", took)
	}
}
