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

// TestLock takes the apply lock, shows a second taker that it is held and by whom, hides it from
// the live read, releases it, and takes over a lock whose holder stopped renewing it.
func TestLock(t *testing.T) {
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	c := dial(t, realm)

	first, err := c.Lock(ctx, "ci-runner pid 1", keycloak.LockOptions{})
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	start := time.Now()
	_, err = dial(t, realm).Lock(ctx, "ci-runner pid 2", keycloak.LockOptions{Timeout: 3 * time.Second})
	var locked *keycloak.LockedError
	if !errors.As(err, &locked) || !strings.HasPrefix(locked.Holder, "ci-runner pid 1 #") {
		t.Fatalf("second Lock = %v, want a LockedError naming the first holder", err)
	}
	if waited := time.Since(start); waited < 3*time.Second {
		t.Errorf("second Lock gave up after %v, want it to wait the 3 s it was given", waited)
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

	// A second taker that waits gets the lock once the first releases it.
	got := make(chan error, 1)
	go func() {
		l, err := dial(t, realm).Lock(ctx, "ci-runner pid 3", keycloak.LockOptions{Timeout: time.Minute})
		if err == nil {
			err = l.Release(ctx)
		}
		got <- err
	}()
	time.Sleep(time.Second)
	if err := first.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if err := <-got; err != nil {
		t.Errorf("a waiting Lock after the release: %v", err)
	}

	// A lock whose holder died (its lease ran out) is taken over.
	stale := map[string]string{"name": keycloak.LockRole,
		"description": "Held by roster apply: dead-runner pid 9 #00; expires 2020-01-01T00:00:00Z"}
	if err := realm.Admin(ctx, http.MethodPost, "/roles", stale, nil); err != nil {
		t.Fatal(err)
	}
	l, err := c.Lock(ctx, "ci-runner pid 4", keycloak.LockOptions{})
	if err != nil {
		t.Fatalf("Lock over an expired lock: %v", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}

	// A role of that name that roster did not make is never taken over.
	foreign := map[string]string{"name": keycloak.LockRole, "description": "made by hand"}
	if err := realm.Admin(ctx, http.MethodPost, "/roles", foreign, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lock(ctx, "ci-runner pid 5", keycloak.LockOptions{}); !errors.As(err, &locked) || !locked.Expires.IsZero() {
		t.Errorf("Lock over a foreign role = %v, want a LockedError without expiry", err)
	}
}

// TestLockIsRenewed holds a lock for longer than its lease: renewals keep it held.
func TestLockIsRenewed(t *testing.T) {
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	l, err := dial(t, realm).Lock(ctx, "long run", keycloak.LockOptions{Lease: 4 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	var locked *keycloak.LockedError
	if _, err := dial(t, realm).Lock(ctx, "next run", keycloak.LockOptions{}); !errors.As(err, &locked) {
		t.Errorf("Lock after the first lease ran out = %v, want it still held (renewed)", err)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestLockThroughFaults takes the lock when its create fails without taking effect (502, a reset
// before the server saw it) and when it takes effect but the answer is lost (a reset after).
func TestLockThroughFaults(t *testing.T) {
	realm := keycloaktest.NewRealm(t)
	c, proxy := dialThroughProxy(t, realm)
	ctx := context.Background()
	roles := "/admin/realms/" + realm.Name + "/roles"
	proxy.Fail(http.MethodPost, roles, 1, http.StatusBadGateway)
	proxy.FailWith(http.MethodPost, roles, 1, keycloaktest.ResetBefore)
	proxy.FailWith(http.MethodPost, roles, 1, keycloaktest.ResetAfter)
	l, err := c.Lock(ctx, "flaky network", keycloak.LockOptions{})
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if n := proxy.Seen(http.MethodPost, roles); n != 3 {
		t.Errorf("the lock was created with %d POSTs, want 3: two that failed, one whose answer was lost", n)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestFailedRenewalLosesTheLock makes every renewal of a held lock fail (500 through a proxy): the
// lock is lost, and the client then refuses every write with a *LockLostError instead of writing
// while another run may hold the lock.
func TestFailedRenewalLosesTheLock(t *testing.T) {
	realm := keycloaktest.NewRealm(t)
	c, proxy := dialThroughProxy(t, realm)
	ctx := context.Background()
	l, err := c.Lock(ctx, "renewal fails", keycloak.LockOptions{Lease: 4 * time.Second})
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
	if n := proxy.Seen(http.MethodPost, "/admin/realms/"+realm.Name+"/roles"); n != 1 {
		t.Errorf("%d role creations reached the server, want 1 (the lock's own)", n)
	}
	if err := l.Release(ctx); !errors.As(err, &lost) {
		t.Errorf("Release: %v, want the loss reported", err)
	}
}
