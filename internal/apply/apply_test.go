package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloakfake"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// Plans are built by hand: these tests pin what apply does with a plan, whatever Build puts in.

const owner = "roster_managed"

func policyChange(p model.Policy) plan.Change {
	return plan.Change{Addr: plan.AddrPolicy(), Action: plan.Update,
		Policy: &plan.PolicyChange{Before: model.PolicyDisabled, After: p}}
}

func roleChange(action plan.Action, name, description string) plan.Change {
	return plan.Change{Addr: plan.Address{Kind: plan.KindRole, Name: name}, Action: action,
		Role: &plan.RoleChange{After: &model.RealmRole{Name: name, Description: description}}}
}

// create plans a new user with the given role and CodeMie applications, and links.
func create(name string, role model.Role, apps string, links ...model.FederatedIdentity) plan.Change {
	attrs := map[string][]string{owner: {"true"}}
	if apps != "" {
		attrs[model.AttrApplications] = []string{apps}
	}
	return plan.Change{
		Addr:   plan.Address{Kind: plan.KindUser, Name: name},
		Action: plan.Create,
		User: &plan.UserChange{
			After:    &model.User{Username: name, Role: role, FederatedIdentities: links},
			New:      &model.NewUser{Username: name, Enabled: true, Attributes: attrs},
			AddRoles: []model.Role{role},
			Links:    links,
		},
	}
}

// withPassword gives a planned create an initial password from the environment variable env.
func withPassword(c plan.Change, env string) plan.Change {
	c.User.After.InitialPassword = &model.InitialPassword{SecretRef: model.SecretRef{Env: env}, Temporary: true}
	return c
}

func update(name string, patch model.UserPatch, add, remove []model.Role) plan.Change {
	return plan.Change{
		Addr:   plan.Address{Kind: plan.KindUser, Name: name},
		Action: plan.Update,
		User: &plan.UserChange{Before: &model.LiveUser{ID: "id-" + name, Username: name},
			After: &model.User{Username: name}, Patch: patch, AddRoles: add, RemoveRoles: remove},
	}
}

func removal(action plan.Action, name string) plan.Change {
	c := plan.Change{
		Addr:   plan.Address{Kind: plan.KindUser, Name: name},
		Action: action,
		User:   &plan.UserChange{Before: &model.LiveUser{ID: "id-" + name, Username: name}},
	}
	if action == plan.Disable {
		c.User.Patch.Enabled = new(false)
	}
	return c
}

func live(name string, attrs map[string][]string, roles ...model.Role) model.LiveUser {
	if attrs == nil {
		attrs = map[string][]string{}
	}
	return model.LiveUser{ID: "id-" + name, Username: name, Enabled: true, Attributes: attrs, Roles: roles}
}

func planOf(changes ...plan.Change) *plan.Plan { return &plan.Plan{Realm: "codemie", Changes: changes} }

// statuses returns "address status" for every outcome, in order.
func statuses(r *Result) []string {
	var out []string
	for _, o := range r.Outcomes {
		out = append(out, o.Addr.String()+" "+o.Status.String())
	}
	return out
}

// outcome returns the outcome of the change at the address "kind.name".
func outcome(t *testing.T, r *Result, addr string) Outcome {
	t.Helper()
	for _, o := range r.Outcomes {
		if o.Addr.String() == addr {
			return o
		}
	}
	t.Fatalf("no outcome for %s", addr)
	return Outcome{}
}

func TestEmptyPlanMakesNoCalls(t *testing.T) {
	f := newFake(live("bob", nil, model.RoleDeveloper))
	r := Run(t.Context(), planOf(), f, Options{})
	if calls := f.Calls(""); len(calls) != 0 {
		t.Errorf("calls = %q, want none", calls)
	}
	if got, want := r.Summary(), "Apply complete: 0 added, 0 changed, 0 removed, 0 failed."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if err := r.Err(); err != nil {
		t.Errorf("Err() = %v, want nil", err)
	}
}

func TestPhasesRunInOrder(t *testing.T) {
	entra := model.FederatedIdentity{Provider: "entra-id", UserID: "e-1"}
	p := planOf(
		policyChange(model.PolicyAdminEdit),
		roleChange(plan.Create, "admin", "CodeMie admin"),
		roleChange(plan.Update, "developer", "CodeMie user"),
		create("alice", model.RoleAdmin, "codemie"),
		create("bob", model.RoleDeveloper, "codemie", entra),
		update("carol", model.UserPatch{Attributes: map[string][]string{model.AttrApplications: {"payments"}}},
			[]model.Role{model.RoleAdmin}, []model.Role{model.RoleDeveloper}),
		create("dan", model.RoleDeveloper, ""),
		removal(plan.Disable, "eve"),
		removal(plan.Delete, "frank"),
	)
	f := newFake(live("carol", nil, model.RoleDeveloper), live("eve", nil), live("frank", nil))
	f.SetDelay(time.Millisecond)
	r := Run(t.Context(), p, f, Options{Parallelism: 4})

	if err := r.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	if got, want := r.Summary(), "Apply complete: 4 added, 3 changed, 2 removed, 0 failed."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}

	phase := func(call string) int {
		switch {
		case strings.HasPrefix(call, "SetPolicy"):
			return 1
		case strings.HasPrefix(call, "CreateRole"), strings.HasPrefix(call, "UpdateRoleDescription"):
			return 2
		case call == "ReadUsers":
			return 4
		case call == "UpdateUser id-eve", call == "DeleteUser id-frank":
			return 5
		}
		return 3
	}
	calls := f.Calls("")
	for k := 1; k < len(calls); k++ {
		if phase(calls[k-1]) > phase(calls[k]) {
			t.Errorf("%q (phase %d) ran before %q (phase %d); calls:\n%s",
				calls[k-1], phase(calls[k-1]), calls[k], phase(calls[k]), strings.Join(calls, "\n"))
		}
	}
	if n := len(f.Calls("ReadUsers")); n != 1 {
		t.Errorf("ReadUsers called %d times, want once", n)
	}

	// Each user's own steps run in sequence.
	want := map[string][]string{
		"id-alice": {"CreateUser alice", "MapRoles id-alice +admin"},
		"id-bob":   {"CreateUser bob", "MapRoles id-bob +developer", "LinkIdentity id-bob entra-id"},
		"id-carol": {"UpdateUser id-carol", "MapRoles id-carol +admin -developer"},
	}
	for id, steps := range want {
		name := strings.TrimPrefix(id, "id-")
		var got []string
		for _, c := range calls {
			if strings.Contains(c, " "+id) || strings.HasSuffix(c, " "+name) {
				got = append(got, c)
			}
		}
		if diff := cmp.Diff(steps, got); diff != "" {
			t.Errorf("calls for %s (-want +got):\n%s", name, diff)
		}
	}
	if u, _ := f.User("eve"); u.Enabled {
		t.Error("eve is still enabled after Disable")
	}
	if _, ok := f.User("frank"); ok {
		t.Error("frank still exists after Delete")
	}
}

func TestParallelismIsBounded(t *testing.T) {
	for _, tc := range []struct {
		parallelism, bound int
	}{{1, 1}, {3, 3}, {0, DefaultParallelism}} {
		t.Run(fmt.Sprint(tc.parallelism), func(t *testing.T) {
			var changes []plan.Change
			for i := range 40 {
				changes = append(changes, create(fmt.Sprintf("user%02d", i), model.RoleDeveloper, ""))
			}
			for i := range 20 {
				changes = append(changes, removal(plan.Delete, fmt.Sprintf("old%02d", i)))
			}
			f := newFake()
			for i := range 20 {
				u := live(fmt.Sprintf("old%02d", i), nil)
				f.AddUser(u)
			}
			f.SetDelay(2 * time.Millisecond)
			r := Run(t.Context(), planOf(changes...), f, Options{Parallelism: tc.parallelism})
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			if f.MaxInflight() > tc.bound {
				t.Errorf("%d calls ran at once, want at most %d", f.MaxInflight(), tc.bound)
			}
			if tc.bound > 1 && f.MaxInflight() < 2 {
				t.Errorf("calls never overlapped with parallelism %d", tc.parallelism)
			}
		})
	}
}

func TestProgressReportsEachFinishedChangeOnce(t *testing.T) {
	var changes []plan.Change
	for i := range 30 {
		changes = append(changes, create(fmt.Sprintf("user%02d", i), model.RoleDeveloper, "codemie"))
	}
	changes = append(changes, update("zed", model.UserPatch{}, []model.Role{model.RoleAdmin}, nil))
	f := newFake(live("zed", nil))
	var (
		inside   atomic.Int32
		overlaps atomic.Int32
		events   []Event
	)
	r := Run(t.Context(), planOf(changes...), f, Options{Parallelism: 8, Progress: func(e Event) {
		if inside.Add(1) > 1 {
			overlaps.Add(1)
		}
		events = append(events, e)
		time.Sleep(100 * time.Microsecond)
		inside.Add(-1)
	}})
	if n := overlaps.Load(); n > 0 {
		t.Errorf("Progress calls overlapped %d times", n)
	}
	// A user counts when its write lands: each create is reported written before the read-back
	// starts, and the read-back finishes them.
	var phases []Phase
	written := 0
	all := events
	events = nil
	for _, e := range all {
		switch e.Kind {
		case PhaseStarted:
			phases = append(phases, e.Phase)
		case UserWritten:
			written++
			if slices.Contains(phases, PhaseReadBack) {
				t.Errorf("%s reported written after the read-back started", e.Addr)
			}
		default:
			events = append(events, e)
		}
	}
	if want := []Phase{PhaseUsers, PhaseReadBack}; !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
	if written != 30 {
		t.Errorf("%d users reported written, want 30", written)
	}
	if len(events) != len(changes) {
		t.Fatalf("%d events, want %d", len(events), len(changes))
	}
	seen := map[string]bool{}
	for k, e := range events {
		if e.Finished != k+1 || e.Total != len(changes) {
			t.Errorf("event %d: Finished/Total = %d/%d, want %d/%d", k, e.Finished, e.Total, k+1, len(changes))
		}
		if seen[e.Addr.String()] {
			t.Errorf("%s reported twice", e.Addr)
		}
		seen[e.Addr.String()] = true
		if e.Status != Applied {
			t.Errorf("%s: status %s", e.Addr, e.Status)
		}
	}
	if got := r.Outcomes[0].String(); got != `user "user00": created` {
		t.Errorf("Outcome.String() = %q", got)
	}
}

func TestNoAttributeWritesNoReadBack(t *testing.T) {
	p := planOf(
		update("bob", model.UserPatch{FirstName: new("Bob")}, []model.Role{model.RoleAdmin}, []model.Role{model.RoleDeveloper}),
		update("carol", model.UserPatch{}, nil, nil),
	)
	p.Changes[1].User.Links = []model.FederatedIdentity{{Provider: "entra-id", UserID: "c"}}
	f := newFake(live("bob", nil, model.RoleDeveloper), live("carol", nil))
	r := Run(t.Context(), p, f, Options{})
	want := []string{"UpdateUser id-bob", "MapRoles id-bob +admin -developer", "LinkIdentity id-carol entra-id"}
	got := f.Calls("")
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if err := r.Err(); err != nil {
		t.Error(err)
	}
}

func TestCreateIsNeverSentTwice(t *testing.T) {
	entra := model.FederatedIdentity{Provider: "entra-id", UserID: "e-1"}
	connReset := errors.New("POST /users: connection reset by peer")
	for _, tc := range []struct {
		name  string
		setup func(f *keycloakfake.Realm)
		calls []string
		// status, err and adopted are bob's outcome; attrs are bob's stored attributes after.
		status  Status
		err     string
		adopted bool
		attrs   map[string][]string
		roles   []model.Role
		email   string // bob's email in the file
	}{{
		name: "409: someone made the user since the plan, so it is not adopted",
		setup: func(f *keycloakfake.Realm) {
			u := live("bob", map[string][]string{model.AttrApplications: {"secret"}, model.AttrUserType: {"external"}, "dept": {"x"}}, model.RoleAdmin)
			f.AddUser(u)
		},
		calls:  []string{"CreateUser bob", "FindUser bob"},
		status: Failed,
		err:    `failed to create: POST /users: 409 User exists with same username; a user "bob" (id id-bob) exists already and this run did not create it, so roster leaves it alone`,
	}, {
		name:  "the create took effect before the connection broke",
		setup: func(f *keycloakfake.Realm) { f.FailAfter("CreateUser bob", connReset) },
		calls: []string{"CreateUser bob", "FindUser bob", "MapRoles id-bob +developer -admin",
			"LinkIdentity id-bob entra-id", "ReadUsers"},
		status: Applied, adopted: true,
		attrs: map[string][]string{model.AttrApplications: {"codemie"}, owner: {"true"}},
		roles: []model.Role{model.RoleDeveloper},
	}, {
		name: "the create failed and the user does not exist",
		setup: func(f *keycloakfake.Realm) {
			f.Fail("CreateUser bob", errors.New("POST /users: 400 email: error-invalid-email"))
		},
		calls:  []string{"CreateUser bob", "FindUser bob"},
		status: Failed, err: "failed to create: POST /users: 400 email: error-invalid-email",
	}, {
		name: "the create failed and so did the lookup",
		setup: func(f *keycloakfake.Realm) {
			f.Fail("CreateUser bob", connReset)
			f.Fail("FindUser bob", errors.New("GET /users: 503 Service Unavailable"))
		},
		calls:  []string{"CreateUser bob", "FindUser bob"},
		status: Failed,
		err:    "failed to create: POST /users: connection reset by peer; looking the user up afterwards failed too: GET /users: 503 Service Unavailable",
	}, {
		name: "the user exists but comes from user storage",
		setup: func(f *keycloakfake.Realm) {
			u := live("bob", nil)
			u.FederationLink = "ldap"
			f.AddUser(u)
		},
		calls:  []string{"CreateUser bob", "FindUser bob"},
		status: Failed,
		err:    `failed to create: POST /users: 409 User exists with same username; the user exists but comes from user storage (federation link "ldap"), which roster never changes`,
	}, {
		name: "409 on the email: the holder is named",
		setup: func(f *keycloakfake.Realm) {
			u := live("robert", nil)
			u.Email = "bob@example.com"
			f.AddUser(u)
			f.Fail("CreateUser bob", &keycloak.APIError{Method: "POST", Path: "/users", Status: 409, Message: "User exists with same email"})
		},
		email:  "bob@example.com",
		calls:  []string{"CreateUser bob", "FindUser bob", "FindUserByEmail bob@example.com"},
		status: Failed,
		err:    `failed to create: POST /users: 409 User exists with same email: user "robert" has the email bob@example.com`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			tc.setup(f)
			c := create("bob", model.RoleDeveloper, "codemie", entra)
			c.User.New.Email = tc.email
			r := Run(t.Context(), planOf(c), f, Options{})
			if diff := cmp.Diff(tc.calls, f.Calls("")); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			o := r.Outcomes[0]
			if o.Status != tc.status || o.Adopted != tc.adopted {
				t.Errorf("status %s, adopted %v; want %s, %v (err: %v)", o.Status, o.Adopted, tc.status, tc.adopted, o.Err)
			}
			if tc.err != "" && (o.Err == nil || o.Err.Error() != tc.err) {
				t.Errorf("err = %v\nwant   %s", o.Err, tc.err)
			}
			if tc.status == Applied {
				if r.Added != 1 || r.Summary() != "Apply complete: 1 added, 0 changed, 0 removed, 0 failed." {
					t.Errorf("Added = %d, Summary() = %q", r.Added, r.Summary())
				}
				u, _ := f.User("bob")
				if diff := cmp.Diff(tc.attrs, u.Attributes); diff != "" {
					t.Errorf("bob's attributes (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tc.roles, u.Roles); diff != "" {
					t.Errorf("bob's roles (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestOneFailingUserDoesNotStopOthers(t *testing.T) {
	f := newFake()
	f.Fail("MapRoles id-bob +developer", errors.New("POST /users/id-bob/role-mappings/realm: 404 Role not found"))
	r := Run(t.Context(), planOf(
		create("alice", model.RoleAdmin, "codemie"),
		create("bob", model.RoleDeveloper, "codemie"),
		create("carol", model.RoleDeveloper, "codemie"),
	), f, Options{})
	want := []string{"user.alice applied", "user.bob failed", "user.carol applied"}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got, want := outcome(t, r, "user.bob").String(),
		`user "bob": failed to map roles: POST /users/id-bob/role-mappings/realm: 404 Role not found`; got != want {
		t.Errorf("bob: %q\nwant %q", got, want)
	}
	if got, want := r.Summary(), "Apply complete: 2 added, 0 changed, 0 removed, 1 failed."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	err := r.Err()
	if err == nil || err.Error() != "1 change failed" {
		t.Fatalf("Err() = %v, want 1 change failed", err)
	}
	var ce *ChangeError
	if !errors.As(err, &ce) || ce.Addr.Name != "bob" {
		t.Errorf("errors.As(Err(), *ChangeError) = %v", ce)
	}
}

func TestVerificationCatchesDroppedAttributes(t *testing.T) {
	f := newFake(live("carol", nil), live("dan", map[string][]string{"dept": {"x"}}))
	f.Drop(model.AttrApplications)
	f.Drop("dept")
	dan := update("dan", model.UserPatch{Attributes: map[string][]string{"dept": nil}}, nil, nil)
	dan.User.Before.Attributes = map[string][]string{"dept": {"x"}}
	r := Run(t.Context(), planOf(
		create("alice", model.RoleDeveloper, ""),
		create("bob", model.RoleDeveloper, "codemie"),
		update("carol", model.UserPatch{Attributes: map[string][]string{model.AttrApplications: {"payments"}, "dept": {"y"}}}, nil, nil),
		dan,
	), f, Options{})

	// Once, then twice more for the users that did not match, before they fail.
	if n := len(f.Calls("ReadUsers")); n != 1+len(rereadAfter) {
		t.Errorf("ReadUsers called %d times, want %d", n, 1+len(rereadAfter))
	}
	want := []string{"user.alice applied", "user.bob failed", "user.carol failed", "user.dan failed"}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	for name, msg := range map[string]string{
		"bob":   "Keycloak did not store `applications` for bob: the realm's unmanaged-attribute policy does not allow it",
		"carol": "Keycloak did not store `applications`, `dept` for carol: the realm's unmanaged-attribute policy does not allow them",
		"dan":   "Keycloak did not remove `dept` for dan: the realm's unmanaged-attribute policy does not allow it",
	} {
		o := outcome(t, r, "user."+name)
		if o.Err == nil || o.Err.Error() != msg {
			t.Errorf("%s: err = %v\nwant     %s", name, o.Err, msg)
		}
	}
	var h interface{ Hints() []string }
	if !errors.As(r.Err(), &h) || !strings.Contains(strings.Join(h.Hints(), "\n"), "settings.unmanagedAttributePolicy: ADMIN_EDIT") {
		t.Errorf("Err() has no hint about the policy")
	}
}

// TestVerificationRereadsStaleReads reads the users back from a target whose first answers
// show the users as they were before the run (a node behind a load balancer whose cache lags):
// while a later read shows the writes, nothing fails; when every read is stale, the change
// fails as a dropped one would.
func TestVerificationRereadsStaleReads(t *testing.T) {
	for _, tc := range []struct {
		stale int
		want  []string
	}{
		{stale: 1, want: []string{"user.bob applied", "user.carol applied"}},
		{stale: len(rereadAfter), want: []string{"user.bob applied", "user.carol applied"}},
		{stale: len(rereadAfter) + 1, want: []string{"user.bob failed", "user.carol failed"}},
	} {
		t.Run(fmt.Sprintf("stale=%d", tc.stale), func(t *testing.T) {
			f := newFake(live("carol", nil))
			f.StaleReads(tc.stale)
			r := Run(t.Context(), planOf(
				create("bob", model.RoleDeveloper, "codemie"),
				update("carol", model.UserPatch{Attributes: map[string][]string{model.AttrApplications: {"payments"}}}, nil, nil),
			), f, Options{})
			if diff := cmp.Diff(tc.want, statuses(r)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if n, want := len(f.Calls("ReadUsers")), min(tc.stale, len(rereadAfter))+1; n != want {
				t.Errorf("ReadUsers called %d times, want %d", n, want)
			}
			if tc.stale > len(rereadAfter) {
				want := "Keycloak did not return bob when roster read the users back to verify its attributes"
				if o := outcome(t, r, "user.bob"); o.Err == nil || o.Err.Error() != want {
					t.Errorf("bob: err = %v, want %s", o.Err, want)
				}
			}
		})
	}
}

// TestVerificationTellsAnEditSinceFromADrop: an attribute that reads back as neither what was
// sent nor what it held before was changed by someone else after the write (an administrator in
// the console), and so was one that reads back as before while the policy lets administrators
// write it (the console wrote back what it had read): the change landed, and the outcome says so
// instead of blaming the policy.
func TestVerificationTellsAnEditSinceFromADrop(t *testing.T) {
	for _, edit := range []string{"console", "old"} {
		f := newFake(live("carol", map[string][]string{model.AttrApplications: {"old"}}))
		f.SetHook(func(_ context.Context, call string) error {
			if call == "ReadUsers" { // the console's edit, after roster's write
				f.EditUser("id-carol", func(u *model.LiveUser) { u.Attributes[model.AttrApplications] = []string{edit} })
			}
			return nil
		})
		carol := update("carol", model.UserPatch{Attributes: map[string][]string{model.AttrApplications: {"payments"}}}, nil, nil)
		carol.User.Before.Attributes = map[string][]string{model.AttrApplications: {"old"}}
		r := Run(t.Context(), planOf(carol), f, Options{})
		want := "user \"carol\": updated (not verified: `applications` changed after roster wrote it, by someone else; roster plan shows the difference)"
		if got := r.Outcomes[0].String(); got != want {
			t.Errorf("edited to %q: %s\nwant %s", edit, got, want)
		}
	}
}

func TestFailedReadBackReportsWhatLanded(t *testing.T) {
	f := newFake()
	f.Fail("ReadUsers", errors.New("GET /users: 503 Service Unavailable"))
	r := Run(t.Context(), planOf(create("bob", model.RoleDeveloper, "codemie")), f, Options{})
	want := `user "bob": created (not verified: reading the users back failed: GET /users: 503 Service Unavailable)`
	if got := r.Outcomes[0].String(); got != want {
		t.Errorf("bob: %s\nwant %s", got, want)
	}
	if got := r.Summary(); got != "Apply complete: 1 added, 0 changed, 0 removed, 0 failed; 1 applied but not verified." {
		t.Errorf("Summary() = %q", got)
	}
	if r.Err() == nil || r.Err().Error() != "1 applied but not verified" {
		t.Errorf("Err() = %v, want 1 applied but not verified", r.Err())
	}
}

// TestInterruptedReadBackReportsWhatLanded interrupts the run while it reads the users back, and
// lets the grace period run out before the read-back ends: every change landed, so each is
// reported applied, not failed, and says it was not verified.
func TestInterruptedReadBackReportsWhatLanded(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := newFake()
	f.SetHook(func(ctx context.Context, call string) error {
		if call == "ReadUsers" {
			cancel()     // Ctrl-C during the read-back
			<-ctx.Done() // which outlasts the grace period
		}
		return nil
	})
	var changes []plan.Change
	for _, name := range []string{"amy", "bob", "cyd"} {
		changes = append(changes, create(name, model.RoleDeveloper, "codemie"))
	}
	r := Run(ctx, planOf(changes...), f, Options{Grace: 50 * time.Millisecond})
	var lines []string
	for _, o := range r.Outcomes {
		lines = append(lines, o.String())
	}
	lines = append(lines, r.Summary())
	want := []string{
		`user "amy": created (not verified: reading the users back was cut off: the grace period after the interrupt ran out)`,
		`user "bob": created (not verified: reading the users back was cut off: the grace period after the interrupt ran out)`,
		`user "cyd": created (not verified: reading the users back was cut off: the grace period after the interrupt ran out)`,
		"Apply complete: 3 added, 0 changed, 0 removed, 0 failed; 3 applied but not verified.",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestRealmFailureLeavesUsersNotStarted(t *testing.T) {
	f := newFake(live("carol", nil))
	f.Fail("SetPolicy ADMIN_EDIT", errors.New("PUT /users/profile: 403 Forbidden"))
	r := Run(t.Context(), planOf(
		policyChange(model.PolicyAdminEdit),
		roleChange(plan.Create, "admin", ""),
		create("bob", model.RoleDeveloper, "codemie"),
		update("carol", model.UserPatch{FirstName: new("C")}, nil, nil),
		removal(plan.Delete, "dan"),
	), f, Options{})

	if diff := cmp.Diff([]string{"SetPolicy ADMIN_EDIT", "CreateRole admin"}, f.Calls("")); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	want := []string{"realm.unmanagedAttributePolicy failed", "role.admin applied",
		"user.bob not-started", "user.carol not-started", "user.dan not-started"}
	if diff := cmp.Diff(want, statuses(r)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got, want := r.Summary(), "Apply stopped: 1 added, 0 changed, 0 removed, 1 failed, 3 not started."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if got, want := r.Err().Error(), "1 change failed, 3 not started"; got != want {
		t.Errorf("Err() = %q, want %q", got, want)
	}
	if got, want := outcome(t, r, "user.bob").String(), `user "bob": not started: a policy or role change it depends on failed`; got != want {
		t.Errorf("bob: %q, want %q", got, want)
	}
	if got, want := outcome(t, r, "realm.unmanagedAttributePolicy").String(),
		"realm.unmanagedAttributePolicy: failed to set the policy to ADMIN_EDIT: PUT /users/profile: 403 Forbidden"; got != want {
		t.Errorf("policy: %q, want %q", got, want)
	}
}

func TestInterruptFinishesInFlightAndStartsNothingNew(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := newFake(live("eve", nil))
	f.SetHook(func(_ context.Context, call string) error {
		if call == "CreateUser bob" {
			cancel()
		}
		return nil
	})
	r := Run(ctx, planOf(
		create("alice", model.RoleDeveloper, "codemie"),
		create("bob", model.RoleDeveloper, "codemie"),
		create("carol", model.RoleDeveloper, "codemie"),
		create("dan", model.RoleDeveloper, "codemie"),
		removal(plan.Delete, "eve"),
	), f, Options{Parallelism: 1})

	want := []string{"CreateUser alice", "MapRoles id-alice +developer", "CreateUser bob", "MapRoles id-bob +developer", "ReadUsers"}
	if diff := cmp.Diff(want, f.Calls("")); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if len(f.DoneCtx()) > 0 {
		t.Errorf("calls ran on a done context: %q", f.DoneCtx())
	}
	wantStatus := []string{"user.alice applied", "user.bob applied", "user.carol not-started", "user.dan not-started", "user.eve not-started"}
	if diff := cmp.Diff(wantStatus, statuses(r)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if !r.Interrupted {
		t.Error("Interrupted is false")
	}
	if got, want := r.Summary(), "Apply interrupted: 2 added, 0 changed, 0 removed, 0 failed, 3 not started."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	if got, want := r.Err().Error(), "apply interrupted: 3 not started"; got != want {
		t.Errorf("Err() = %q, want %q", got, want)
	}
}

func TestInterruptBeforeStartStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f := newFake()
	r := Run(ctx, planOf(policyChange(model.PolicyAdminEdit), roleChange(plan.Create, "admin", ""),
		create("bob", model.RoleDeveloper, "")), f, Options{})
	if calls := f.Calls(""); len(calls) != 0 {
		t.Errorf("calls = %q, want none", calls)
	}
	if got, want := r.Summary(), "Apply interrupted: 0 added, 0 changed, 0 removed, 0 failed, 3 not started."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	for _, o := range r.Outcomes {
		if !errors.Is(o.Err, errInterrupted) {
			t.Errorf("%s: err = %v, want %v", o.Addr, o.Err, errInterrupted)
		}
	}
}

func TestGracePeriodBoundsInFlightWork(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := newFake()
	f.SetHook(func(ctx context.Context, call string) error {
		if call != "CreateUser bob" {
			return nil
		}
		cancel()
		select { // a request that hangs until its context is done
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("the work context outlived the grace period")
		}
	})
	start := time.Now()
	r := Run(ctx, planOf(create("bob", model.RoleDeveloper, "")), f, Options{Grace: 50 * time.Millisecond})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %s with a 50ms grace period", d)
	}
	o := r.Outcomes[0]
	if o.Status != Failed || !strings.Contains(o.Err.Error(), "the grace period after the interrupt ran out") {
		t.Errorf("bob: %s, %v; want failed, saying the grace period ran out", o.Status, o.Err)
	}
	if diff := cmp.Diff([]string{"CreateUser bob", "FindUser bob"}, f.Calls("")); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestPasswords(t *testing.T) {
	secret := model.Secret("s3cret-Pa55")
	passwords := func(ref *model.SecretRef) (model.Password, error) {
		if ref.Env == "BOB_PASSWORD" {
			return model.Password{Value: secret, Temporary: true}, nil
		}
		return model.Password{}, fmt.Errorf("environment variable %s is not set", ref.Env)
	}
	for _, tc := range []struct {
		name     string
		password func(*model.SecretRef) (model.Password, error)
		bob      Status
		carolErr string
	}{
		{"resolved", passwords, Applied, "failed to read the initial password: environment variable CAROL_PASSWORD is not set"},
		{"no resolver", nil, Failed, "failed to read the initial password: no way to resolve passwords was given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			r := Run(t.Context(), planOf(
				create("alice", model.RoleDeveloper, ""),
				withPassword(create("bob", model.RoleDeveloper, ""), "BOB_PASSWORD"),
				withPassword(create("carol", model.RoleDeveloper, ""), "CAROL_PASSWORD"),
			), f, Options{Password: tc.password})
			if o := outcome(t, r, "user.alice"); o.Status != Applied {
				t.Errorf("alice: %s, %v", o.Status, o.Err)
			}
			if o := outcome(t, r, "user.bob"); o.Status != tc.bob {
				t.Errorf("bob: %s, %v; want %s", o.Status, o.Err, tc.bob)
			}
			if o := outcome(t, r, "user.carol"); o.Status != Failed || o.Err.Error() != tc.carolErr {
				t.Errorf("carol: %s, %v; want failed, %s", o.Status, o.Err, tc.carolErr)
			}
			if calls := f.Calls("CreateUser carol"); len(calls) > 0 {
				t.Errorf("carol was created without her password")
			}
			if _, ok := f.Password("alice"); ok {
				t.Error("alice, who has no initial password, was created with one")
			}
			if tc.bob == Applied {
				if got, _ := f.Password("bob"); got.Value != secret || !got.Temporary {
					t.Errorf("bob was created with password %q (temporary %v)", string(got.Value), got.Temporary)
				}
			}
		})
	}
}

func TestSecretsNeverShow(t *testing.T) {
	const secret = "s3cret-Pa55"
	f := newFake()
	f.Fail("CreateUser bob", errors.New("POST /users: 400 invalidPasswordMinLengthMessage"))
	f.FailAfter("CreateUser carol", errors.New("POST /users: connection reset by peer"))
	f.Drop(owner)
	var (
		mu     sync.Mutex
		events []Event
	)
	r := Run(t.Context(), planOf(
		withPassword(create("bob", model.RoleDeveloper, ""), "PW"),
		withPassword(create("carol", model.RoleDeveloper, ""), "PW"),
		withPassword(create("dan", model.RoleDeveloper, ""), "PW"),
	), f, Options{
		Password: func(*model.SecretRef) (model.Password, error) { return model.Password{Value: secret}, nil },
		Progress: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() },
	})
	if password(f, "dan") != secret {
		t.Fatal("the password did not reach the target")
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%v %+v %#v %s %s %v %+v %#v\n", r, r, r, r.Summary(), js, r.Err(), r.Err(), r.Err())
	for _, e := range events {
		fmt.Fprintf(&out, "%v %+v %#v %s\n", e, e, e, e.Outcome)
	}
	for _, o := range r.Outcomes {
		fmt.Fprintf(&out, "%v %+v %#v %s\n", o.Err, o.Err, o.Err, o)
	}
	if strings.Contains(out.String(), secret) {
		t.Errorf("the password shows in the output:\n%s", out.String())
	}
	if r.Failed != 3 { // bob's create failed, carol's and dan's marker was dropped
		t.Errorf("Failed = %d, want 3:\n%s", r.Failed, strings.Join(statuses(r), "\n"))
	}
}

func TestInvalidChangesFail(t *testing.T) {
	noBefore := update("bob", model.UserPatch{FirstName: new("B")}, nil, nil)
	noBefore.User.Before = nil
	f := newFake()
	r := Run(t.Context(), planOf(noBefore), f, Options{})
	o := r.Outcomes[0]
	if o.Status != Failed || o.Err.Error() != "invalid plan: this update change lacks what apply needs" {
		t.Errorf("bob: %s, %v", o.Status, o.Err)
	}
	if calls := f.Calls(""); len(calls) != 0 {
		t.Errorf("calls = %q, want none", calls)
	}
}

// TestVerificationSaysWhatCodeMieReads reads a user whose attributes Keycloak dropped through
// the plan's model of CodeMie's reading, and says what CodeMie reads instead of what was planned.
func TestVerificationSaysWhatCodeMieReads(t *testing.T) {
	f := newFake()
	f.Drop(model.AttrApplications)
	c := create("bob", model.RoleDeveloper, "codemie")
	c.Access = &plan.AccessChange{After: model.NewAccess(model.RoleDeveloper, false, model.Grants{Member: []string{"codemie"}})}
	p := planOf(c)
	p.Mapping = model.RecommendedMapping()
	r := Run(t.Context(), p, f, Options{})
	want := "Keycloak did not store `applications` for bob: the realm's unmanaged-attribute policy does not allow it; " +
		"CodeMie reads Regular User (no projects), not Regular User (codemie)"
	if o := outcome(t, r, "user.bob"); o.Err == nil || o.Err.Error() != want {
		t.Errorf("bob: err = %v\nwant     %s", o.Err, want)
	}
}

// newFake is a realm whose only role is developer: the tests' plans create admin and update
// developer.
func newFake(users ...model.LiveUser) *keycloakfake.Realm {
	f := keycloakfake.New("codemie", users...)
	f.SetRoles(model.RealmRole{Name: string(model.RoleDeveloper)})
	return f
}

// password is the initial password the fake's user was created with.
func password(f *keycloakfake.Realm, username string) string {
	p, _ := f.Password(username)
	return string(p.Value)
}
