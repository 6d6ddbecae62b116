package apply_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/schema"
)

// These tests run apply against the real Keycloak (make test starts one).

func load(t *testing.T, yaml string) *model.Config {
	t.Helper()
	cfg, diags := schema.LoadFiles([]schema.File{{Name: "roster.yaml", Data: []byte(yaml)}}, schema.Options{})
	if diags.HasErrors() {
		t.Fatalf("configuration: %v", diags)
	}
	return cfg
}

// prepared returns a fresh realm at policy ADMIN_EDIT with the roles admin and developer, and a
// client logged in as its service account.
func prepared(t *testing.T) (*keycloaktest.Realm, *keycloak.Client) {
	t.Helper()
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	c, err := keycloak.Dial(ctx, realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	return realm, c
}

// planFor reads the realm through c and plans cfg against it.
func planFor(t *testing.T, c *keycloak.Client, cfg *model.Config) *plan.Plan {
	t.Helper()
	live, err := c.ReadLive(context.Background(), keycloak.ReadOptionsFor(cfg))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(cfg, live, plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// withPassword is apply's options with every initial password resolved to pw.
func withPassword(pw string) apply.Options {
	return apply.Options{Password: func(*model.SecretRef) (model.Password, error) {
		return model.Password{Value: model.Secret(pw)}, nil
	}}
}

// converge plans and applies through client c, creating users in batches as the CLI does, and
// returns the result.
func converge(t *testing.T, c *keycloak.Client, cfg *model.Config) (*plan.Plan, *apply.Result) {
	t.Helper()
	p := planFor(t, c, cfg)
	return p, apply.Run(context.Background(), p, c, apply.Options{BatchSize: apply.DefaultBatchSize})
}

func usersYAML(realm string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm)
	for i := range n {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "  - {username: u%02d, email: u%02d@example.com, role: admin}\n", i, i)
		case 1:
			fmt.Fprintf(&b, "  - {username: u%02d, role: developer, projects: {member: [codemie], admin: [p%d]}}\n", i, i)
		default:
			fmt.Fprintf(&b, "  - {username: u%02d, role: developer, external: true, projects: {member: [codemie]}}\n", i)
		}
	}
	return b.String()
}

// TestSecondApplyWritesNothing applies a configuration, then runs the whole second apply —
// read, plan, apply — through a counting transport: it must make no write request.
func TestSecondApplyWritesNothing(t *testing.T) {
	realm := keycloaktest.NewRealm(t)
	cfg := load(t, usersYAML(realm.Name, 30))
	ctx := context.Background()
	first, err := keycloak.Dial(ctx, realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, r := converge(t, first, cfg); r.Err() != nil {
		t.Fatalf("first apply: %v", r.Err())
	}

	counter := &keycloaktest.CountingTransport{}
	sc := realm.ServiceAccountConfig()
	sc.Transport = counter
	second, err := keycloak.Dial(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	p, r := converge(t, second, cfg)
	if p.HasChanges() {
		t.Errorf("second plan has %d changes, want none", len(p.Changes))
	}
	if r.Err() != nil {
		t.Errorf("second apply: %v", r.Err())
	}
	if w := counter.Writes(); w != 0 {
		t.Errorf("second apply made %d write requests, want 0", w)
	}
}

// TestCreateConflictDoesNotAdoptHandMadeUser plans a create, lets someone make the user by hand
// first (with other project access and the admin role), and checks that apply does not take the
// account over: no ownership marker (a later prune would remove the account), no change to its
// access, and an error that names the account and says what to do.
func TestCreateConflictDoesNotAdoptHandMadeUser(t *testing.T) {
	realm, c := prepared(t)
	ctx := context.Background()
	cfg := load(t, fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ADMIN_EDIT}
users:
  - {username: bob, email: bob@example.com, role: developer, projects: {member: [codemie]}}
`, realm.Name))
	p := planFor(t, c, cfg)

	// Between plan and apply, someone creates bob by hand.
	if err := realm.SeedUsers(ctx, []keycloaktest.User{{Username: "bob", Enabled: true, RealmRoles: []string{"admin"},
		Attributes: map[string][]string{"applications": {"secret-project"}, "department": {"R&D"}}}}); err != nil {
		t.Fatal(err)
	}

	r := apply.Run(ctx, p, c, apply.Options{Since: c.Since()})
	var exists *apply.ExistsError
	if !errors.As(r.Err(), &exists) || r.Outcomes[0].Adopted {
		t.Fatalf("apply: %v (outcomes %+v), want an ExistsError and no adoption", r.Err(), r.Outcomes)
	}
	bob, _, err := c.FindUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	wantErr := fmt.Sprintf(`user "bob": failed to create: POST /users: 409 User exists with same username; a user "bob" (id %s, created %s) exists already and this run did not create it, so roster leaves it alone`,
		bob.ID, bob.Created.Format(time.RFC3339))
	if got := r.Err().(*apply.Error).Errs[0].Error(); got != wantErr {
		t.Errorf("error:\n%s\nwant:\n%s", got, wantErr)
	}
	want := map[string][]string{"applications": {"secret-project"}, "department": {"R&D"}}
	if diff := cmp.Diff(want, bob.Attributes); diff != "" {
		t.Errorf("bob's attributes changed (-want +got):\n%s", diff)
	}
	if again := planFor(t, c, cfg); len(again.Changes) != 1 || again.Changes[0].Action != plan.Update {
		t.Errorf("the next plan: %+v, want one update of the existing bob", again.Changes)
	}
}

// TestReadBackCatchesDroppedAttributes makes Keycloak drop attributes silently (the policy is
// disabled between plan and apply) and checks that apply reports it for each user: created one
// by one, and created in one batch, where only amy and bob (one user of each shape) are read
// first and cat, of bob's shape, fails too.
func TestReadBackCatchesDroppedAttributes(t *testing.T) {
	for _, batch := range []int{0, 3} {
		t.Run(fmt.Sprintf("batch size %d", batch), func(t *testing.T) {
			realm, c := prepared(t)
			ctx := context.Background()
			cfg := load(t, fmt.Sprintf(`version: 1
realm: %s
users:
  - {username: bob, role: developer, projects: {member: [codemie]}}
  - {username: cat, role: developer, projects: {member: [other]}}
  - {username: amy, role: admin}
`, realm.Name))
			p := planFor(t, c, cfg)
			if err := realm.SetPolicy(ctx, ""); err != nil { // the console resets the policy
				t.Fatal(err)
			}

			r := apply.Run(ctx, p, c, apply.Options{BatchSize: batch})
			var verr *apply.VerifyError
			if !errors.As(r.Err(), &verr) {
				t.Fatalf("apply error = %v, want a VerifyError", r.Err())
			}
			var lines []string
			for _, o := range r.Outcomes {
				lines = append(lines, o.String())
			}
			got := strings.Join(lines, "\n")
			want := "user \"amy\": Keycloak did not store `roster_managed` for amy: the realm's unmanaged-attribute policy does not allow it\n" +
				"user \"bob\": Keycloak did not store `applications`, `roster_managed` for bob: the realm's unmanaged-attribute policy does not allow them; " +
				"CodeMie reads Regular User (no projects), not Regular User (codemie)\n" +
				"user \"cat\": Keycloak did not store `applications`, `roster_managed` for cat: the realm's unmanaged-attribute policy does not allow them; " +
				"CodeMie reads Regular User (no projects), not Regular User (other)"
			if got != want {
				t.Errorf("outcomes:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
