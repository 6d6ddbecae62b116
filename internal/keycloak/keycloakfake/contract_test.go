package keycloakfake_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloakfake"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// realm is what the contract covers: the methods of *keycloak.Client the operations call.
type realm interface {
	apply.Target
	ReadRealm(ctx context.Context) (keycloak.RealmInfo, error)
	ReadLive(ctx context.Context, opts keycloak.ReadOptions) (*model.Live, error)
	SendActionsEmail(ctx context.Context, id string, actions []string) error
	Watch(ctx context.Context) (keycloak.Watch, error)
	TryLock(ctx context.Context, holder string, lease time.Duration) (keycloak.HeldLock, error)
}

var (
	_ realm = (*keycloak.Client)(nil)
	_ realm = (*keycloakfake.Realm)(nil)
)

// TestContract runs the same assertions against the fake and against the adapter on a real
// Keycloak (a realm as keycloaktest.NewCodeMieRealm leaves it), so that the fake answers as
// Keycloak does wherever the operations' tests rely on it. Without a server only the fake runs
// (the real half skips, or fails under ROSTER_ACCEPTANCE=require).
func TestContract(t *testing.T) {
	t.Run("fake", func(t *testing.T) {
		t.Parallel()
		f := keycloakfake.New("contract")
		testContract(t, "contract", f, f)
	})
	t.Run("keycloak", func(t *testing.T) {
		t.Parallel()
		r := keycloaktest.NewCodeMieRealm(t)
		dial := func() realm {
			c, err := keycloak.Dial(context.Background(), r.ServiceAccountConfig())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		testContract(t, r.Name, dial(), dial())
	})
}

// testContract checks r, and other, a second client of the same realm (another run).
func testContract(t *testing.T, name string, r, other realm) {
	ctx := context.Background()

	info, err := r.ReadRealm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != name || info.CanSendEmail() {
		t.Errorf("ReadRealm = %+v, want realm %q without an SMTP server", info, name)
	}

	live, err := r.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if live.Realm != name || live.Policy != model.PolicyAdminEdit || live.Identity != keycloakfake.Identity {
		t.Errorf("ReadLive = realm %q, policy %q, identity %q; want %q, ADMIN_EDIT, %s", live.Realm, live.Policy, live.Identity, name, keycloakfake.Identity)
	}
	for _, role := range []string{"admin", "developer"} {
		if !slices.ContainsFunc(live.Roles, func(r model.RealmRole) bool { return r.Name == role }) {
			t.Errorf("ReadLive has no role %s: %v", role, live.Roles)
		}
	}
	if got := usernames(live); len(got) != 0 {
		t.Errorf("users of a new realm = %q, want none (not even the service account)", got)
	}

	// A created user reads back with what was written, and its name is taken.
	id, err := r.CreateUser(ctx, model.NewUser{Username: "alice", Email: "alice@example.com", Enabled: true,
		Attributes: map[string][]string{model.AttrApplications: {"payments"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateUser(ctx, model.NewUser{Username: "alice", Enabled: true}); !keycloak.IsConflict(err) {
		t.Errorf("a second CreateUser alice = %v, want a 409", err)
	}
	if err := r.MapRoles(ctx, id, []model.Role{model.RoleDeveloper}, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateUser(ctx, id, model.UserPatch{Attributes: map[string][]string{"dept": {"sales"}}}); err != nil {
		t.Fatal(err)
	}
	u, ok, err := r.FindUser(ctx, "alice")
	if err != nil || !ok || u.ID != id || u.Email != "alice@example.com" {
		t.Fatalf("FindUser alice = %+v, %v, %v", u, ok, err)
	}
	if _, ok, err := r.FindUser(ctx, "nobody"); ok || err != nil {
		t.Errorf("FindUser nobody = %v, %v; want not found", ok, err)
	}
	read, err := r.ReadUsers(ctx, []string{id, "no-such-id"})
	if err != nil || len(read) != 1 {
		t.Fatalf("ReadUsers = %+v, %v; want alice alone", read, err)
	}
	wantAttrs := map[string][]string{model.AttrApplications: {"payments"}, "dept": {"sales"}}
	if diff := cmp.Diff(wantAttrs, read[0].Attributes); diff != "" {
		t.Errorf("alice's attributes read back (-want +got):\n%s", diff)
	}
	live, err = r.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := usernames(live); !cmp.Equal(got, []string{"alice"}) {
		t.Errorf("users = %q, want alice", got)
	}
	if got := live.Users[0].Roles; !cmp.Equal(got, []model.Role{model.RoleDeveloper}) {
		t.Errorf("alice's roles = %v, want developer", got)
	}

	// Without an SMTP server, an invitation fails.
	if err := r.SendActionsEmail(ctx, id, []string{"UPDATE_PASSWORD"}); err == nil {
		t.Error("SendActionsEmail without an SMTP server succeeded")
	}

	// The lock: held by one run, refused to another at once with the holder's name, seen by a
	// watch, hidden from the live read, free again once released; the mark it leaves proves a
	// quiet read to the next run, which a realm never applied to cannot.
	unmarked, err := r.Watch(ctx)
	if err != nil || !unmarked.Free || unmarked.Mark != "" {
		t.Fatalf("Watch of a realm never applied to = %+v, %v; want the lock free and no mark", unmarked, err)
	}
	held, err := r.TryLock(ctx, "ci-runner pid 1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if held.QuietSince(unmarked) {
		t.Error("QuietSince a watch that found no mark = true, want false")
	}
	if w, err := other.Watch(ctx); err != nil || w.Free {
		t.Errorf("Watch while locked = %+v, %v; want the lock seen", w, err)
	}
	start := time.Now()
	_, err = other.TryLock(ctx, "ci-runner pid 2", time.Minute)
	var locked *keycloak.LockedError
	if !errors.As(err, &locked) || !strings.HasPrefix(locked.Holder, "ci-runner pid 1") || locked.Expires.IsZero() {
		t.Fatalf("TryLock while held = %v, want a LockedError naming ci-runner pid 1", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("TryLock while held took %v, want an answer at once", waited)
	}
	if live, err := other.ReadLive(ctx, keycloak.ReadOptions{}); err != nil || slices.ContainsFunc(live.Roles, func(r model.RealmRole) bool { return r.Name == keycloak.LockRole }) {
		t.Errorf("ReadLive while locked: %v, or it shows the lock role", err)
	}
	if err := held.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := held.Release(ctx); err != nil || held.Err() != nil {
		t.Fatalf("Release = %v, Err = %v", err, held.Err())
	}
	marked, err := other.Watch(ctx)
	if err != nil || !marked.Free || !marked.Settled || !strings.Contains(marked.Mark, "ci-runner pid 1") {
		t.Fatalf("Watch after the release = %+v, %v; want the lock free and a settled mark naming ci-runner pid 1", marked, err)
	}
	next, err := other.TryLock(ctx, "ci-runner pid 2", time.Minute)
	if err != nil {
		t.Fatalf("TryLock after the release: %v", err)
	}
	if !next.QuietSince(marked) {
		t.Error("QuietSince a watch no run took the lock after = false, want true")
	}
	if err := next.Release(ctx); err != nil {
		t.Fatal(err)
	}
	unsettled, err := r.Watch(ctx)
	if err != nil || unsettled.Settled {
		t.Errorf("Watch after a release without Settle = %+v, %v; want the mark not settled", unsettled, err)
	}
	next, err = r.TryLock(ctx, "ci-runner pid 3", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if next.QuietSince(unsettled) {
		t.Error("QuietSince a watch of an unsettled mark = true, want false")
	}
	if err := next.Release(ctx); err != nil {
		t.Fatal(err)
	}

	if err := r.DeleteUser(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := r.FindUser(ctx, "alice"); ok || err != nil {
		t.Errorf("FindUser after DeleteUser = %v, %v; want not found", ok, err)
	}
}

func usernames(live *model.Live) []string {
	var out []string
	for _, u := range live.Users {
		out = append(out, u.Username)
	}
	return out
}
