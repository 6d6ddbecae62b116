package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak/keycloakfake"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

func TestBatchCreates(t *testing.T) {
	entra := model.FederatedIdentity{Provider: "entra-id", UserID: "e-1"}
	p := planOf(
		create("alice", model.RoleAdmin, "codemie"),
		create("bob", model.RoleDeveloper, "codemie", entra),
		withPassword(create("carol", model.RoleDeveloper, ""), "CAROL_PASSWORD"),
		create("dan", model.RoleDeveloper, ""),
		create("erin", model.RoleDeveloper, "payments"),
		create("frank", model.RoleDeveloper, "payments"),
	)
	f := newFake()
	pw := func(*model.SecretRef) (model.Password, error) { return model.Password{Value: "s3cret"}, nil }
	r := Run(t.Context(), p, f, Options{Parallelism: 1, BatchSize: 2, Password: pw})
	if err := r.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	// Batches first, in plan order; a user with a password, and the last batch's lone user, on
	// their own.
	want := []string{
		"ImportUsers alice bob", "LinkIdentity id-bob entra-id",
		"ImportUsers dan erin",
		"CreateUser frank", "MapRoles id-frank +developer",
		"CreateUser carol", "MapRoles id-carol +developer",
	}
	writes := slices.DeleteFunc(f.Calls(""), func(c string) bool { return c == "ReadUsers" })
	if diff := cmp.Diff(want, writes); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	// Each batch read back whole beside what follows it, and the single creates at the end.
	reads := [][]string{{"id-alice", "id-bob"}, {"id-carol", "id-frank"}, {"id-dan", "id-erin"}}
	got := f.Reads()
	slices.SortFunc(got, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	if diff := cmp.Diff(reads, got); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
	for name, role := range map[string]model.Role{"alice": model.RoleAdmin, "bob": model.RoleDeveloper, "dan": model.RoleDeveloper} {
		u, ok := f.User(name)
		if !ok || !cmp.Equal(u.Roles, []model.Role{role}) {
			t.Errorf("%s: exists %v, roles %v; want roles [%s]", name, ok, u.Roles, role)
		}
	}
	if got, want := r.Summary(), "Apply complete: 6 added, 0 changed, 0 removed, 0 failed."; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

// TestBatchReadBackEveryUser checks that every user of a batch is read back right after the
// batch, not one user of each shape: a user edited by someone else between the import and the
// read is reported, never "created" unread; and that the users of a batch that did not read
// back as sent are then read and judged on their own.
func TestBatchReadBackEveryUser(t *testing.T) {
	changes := []plan.Change{
		create("alice", model.RoleDeveloper, "a"),
		create("bob", model.RoleDeveloper, "b"),
		create("carol", model.RoleDeveloper, ""), // no applications
		create("dan", model.RoleAdmin, "d"),      // the plan says nothing of access
		create("erin", model.RoleDeveloper, "e"),
		create("frank", model.RoleDeveloper, "f"), // the second batch
	}
	batch := []string{"id-alice", "id-bob", "id-carol", "id-dan", "id-erin"}
	t.Run("as sent", func(t *testing.T) {
		f := newFake()
		r := Run(t.Context(), planOf(changes...), f, Options{Parallelism: 1, BatchSize: 5})
		if err := r.Err(); err != nil {
			t.Fatalf("Err() = %v", err)
		}
		// The batch, right after it; then frank, created on his own.
		want := [][]string{batch, {"id-frank"}}
		if diff := cmp.Diff(want, f.Reads()); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
		if got, want := r.Summary(), "Apply complete: 6 added, 0 changed, 0 removed, 0 failed."; got != want {
			t.Errorf("Summary() = %q, want %q", got, want)
		}
	})
	t.Run("dropped", func(t *testing.T) {
		f := newFake()
		f.Drop(model.AttrApplications)
		r := Run(t.Context(), planOf(changes...), f, Options{Parallelism: 1, BatchSize: 5})
		// The batch, right after it; then those that did not read back as sent and frank, as
		// verify reads single changes, and those that still do not, twice more (the re-reads).
		failing := []string{"id-alice", "id-bob", "id-dan", "id-erin", "id-frank"}
		want := [][]string{batch, failing, failing, failing}
		if diff := cmp.Diff(want, f.Reads()); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
		want2 := []string{"user.alice failed", "user.bob failed", "user.carol applied", "user.dan failed", "user.erin failed", "user.frank failed"}
		if diff := cmp.Diff(want2, statuses(r)); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
	})
	t.Run("edited after the import", func(t *testing.T) {
		f := newFake()
		var once sync.Once
		f.SetHook(func(_ context.Context, call string) error {
			if strings.HasPrefix(call, "ReadUsers") {
				once.Do(func() {
					f.EditUser("id-erin", func(u *model.LiveUser) {
						u.Attributes[model.AttrApplications] = []string{"console-edit"}
					})
				})
			}
			return nil
		})
		r := Run(t.Context(), planOf(changes...), f, Options{Parallelism: 1, BatchSize: 5})
		var erin string
		for _, o := range r.Outcomes {
			if o.Addr.Name == "erin" {
				erin = o.String()
			}
		}
		if !strings.Contains(erin, "not verified") {
			t.Errorf("erin, edited between the import and the read-back: %q, want not verified", erin)
		}
		if got, want := r.Summary(), "Apply complete: 6 added, 0 changed, 0 removed, 0 failed; 1 applied but not verified."; got != want {
			t.Errorf("Summary() = %q, want %q", got, want)
		}
	})
}

// TestReadBackTogether pins the other way of reading created users back: all at once, after the
// last batch, in one ReadUsers call with the single creates; and every user is still read, and
// a dropped attribute still fails its user.
func TestReadBackTogether(t *testing.T) {
	changes := []plan.Change{
		create("alice", model.RoleDeveloper, "a"),
		create("bob", model.RoleDeveloper, "b"),
		create("carol", model.RoleDeveloper, ""),
		create("dan", model.RoleDeveloper, "d"),
		create("erin", model.RoleDeveloper, "e"), // on its own: the last batch's lone user
	}
	all := []string{"id-alice", "id-bob", "id-carol", "id-dan", "id-erin"}
	t.Run("as sent", func(t *testing.T) {
		f := newFake()
		r := Run(t.Context(), planOf(changes...), f, Options{Parallelism: 2, BatchSize: 2, ReadBackTogether: true})
		if err := r.Err(); err != nil {
			t.Fatalf("Err() = %v", err)
		}
		if diff := cmp.Diff([][]string{all}, f.Reads()); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
		if got, want := r.Summary(), "Apply complete: 5 added, 0 changed, 0 removed, 0 failed."; got != want {
			t.Errorf("Summary() = %q, want %q", got, want)
		}
	})
	t.Run("dropped", func(t *testing.T) {
		f := newFake()
		f.Drop(model.AttrApplications)
		r := Run(t.Context(), planOf(changes...), f, Options{Parallelism: 2, BatchSize: 2, ReadBackTogether: true})
		failing := []string{"id-alice", "id-bob", "id-dan", "id-erin"}
		// All of them once, then those that did not read back as sent, twice more (the re-reads).
		if diff := cmp.Diff([][]string{all, failing, failing}, f.Reads()); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
		want := []string{"user.alice failed", "user.bob failed", "user.carol applied", "user.dan failed", "user.erin failed"}
		if diff := cmp.Diff(want, statuses(r)); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
	})
}

func TestBatchFallsBackToSingleCreates(t *testing.T) {
	connReset := errors.New("POST /partialImport: connection reset by peer")
	for _, tc := range []struct {
		name  string
		setup func(f *keycloakfake.Realm)
		calls []string
		// statuses are alice's and bob's.
		statuses []string
		bobErr   string
	}{{
		name: "one bad user fails the batch: the other is created, the bad one reports its own error",
		setup: func(f *keycloakfake.Realm) {
			f.Fail("ImportUsers alice bob", errors.New("POST /partialImport: 409 User exists with same email"))
			f.Fail("CreateUser bob", errors.New("POST /users: 409 User exists with same email"))
		},
		calls: []string{"ImportUsers alice bob", "CreateUser alice", "MapRoles id-alice +developer",
			"CreateUser bob", "FindUser bob", "ReadUsers"},
		statuses: []string{"user.alice applied", "user.bob failed"},
		bobErr:   "failed to create: POST /users: 409 User exists with same email",
	}, {
		name:  "the batch took effect but the answer was lost: each user is found and adopted",
		setup: func(f *keycloakfake.Realm) { f.FailAfter("ImportUsers alice bob", connReset) },
		calls: []string{"ImportUsers alice bob",
			"CreateUser alice", "FindUser alice", "MapRoles id-alice +developer -admin",
			"CreateUser bob", "FindUser bob", "MapRoles id-bob +developer -admin", "ReadUsers"},
		statuses: []string{"user.alice applied", "user.bob applied"},
	}, {
		name: "a user made by hand since the plan is skipped by the batch, then refused, not adopted",
		setup: func(f *keycloakfake.Realm) {
			u := live("bob", map[string][]string{"dept": {"x"}}, model.RoleAdmin)
			f.AddUser(u)
		},
		calls:    []string{"ImportUsers alice bob", "CreateUser bob", "FindUser bob", "ReadUsers"},
		statuses: []string{"user.alice applied", "user.bob failed"},
		bobErr:   `failed to create: POST /users: 409 User exists with same username; a user "bob" (id id-bob) exists already and this run did not create it, so roster leaves it alone`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			tc.setup(f)
			start := time.Now()
			r := Run(t.Context(), planOf(create("alice", model.RoleDeveloper, "codemie"), create("bob", model.RoleDeveloper, "codemie")),
				f, Options{Parallelism: 1, BatchSize: 50})
			if diff := cmp.Diff(tc.calls, f.Calls("")); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.statuses, statuses(r)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if o := outcome(t, r, "user.bob"); tc.bobErr != "" && (o.Err == nil || o.Err.Error() != tc.bobErr) {
				t.Errorf("bob's error = %v, want %q", o.Err, tc.bobErr)
			}
			for _, name := range []string{"alice", "bob"} {
				if u, ok := f.User(name); ok && u.Created.After(start) && !cmp.Equal(u.Roles, []model.Role{model.RoleDeveloper}) {
					t.Errorf("%s's roles = %v, want [developer]", name, u.Roles)
				}
			}
		})
	}
}

func TestInterruptDuringARefusedBatchStartsNoSingleCreate(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := newFake()
	f.SetHook(func(_ context.Context, call string) error {
		if call == "ImportUsers alice bob" {
			cancel()
			return errors.New("POST /partialImport: 500 Internal Server Error")
		}
		return nil
	})
	r := Run(ctx, planOf(create("alice", model.RoleDeveloper, ""), create("bob", model.RoleDeveloper, "")),
		f, Options{Parallelism: 1, BatchSize: 50})
	if diff := cmp.Diff([]string{"ImportUsers alice bob"}, f.Calls("")); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"user.alice not-started", "user.bob not-started"}, statuses(r)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if !r.Interrupted {
		t.Error("Interrupted is false")
	}
}

// TestBatchReadBacksKeepToParallelism: the read-backs of batches run beside the next batches,
// but no more of them at once than --parallelism, even when reading is slower than importing.
func TestBatchReadBacksKeepToParallelism(t *testing.T) {
	var changes []plan.Change
	for i := range 40 {
		changes = append(changes, create(fmt.Sprintf("u%02d", i), model.RoleDeveloper, "p"))
	}
	f := newFake()
	f.SetHook(func(_ context.Context, call string) error {
		if strings.HasPrefix(call, "ReadUsers") {
			time.Sleep(20 * time.Millisecond)
		}
		return nil
	})
	r := Run(t.Context(), planOf(changes...), f, Options{Parallelism: 1, BatchSize: 2})
	if err := r.Err(); err != nil {
		t.Fatalf("Err() = %v", err)
	}
	// One worker importing, and one read-back beside it.
	if n := f.MaxInflight(); n > 2 {
		t.Errorf("%d calls at once with --parallelism 1, want at most 2", n)
	}
}
