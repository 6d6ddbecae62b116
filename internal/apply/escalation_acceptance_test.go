package apply_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// TestSelfServiceEscalation is the hole the policy lint warns about, verified on the server: a
// developer signs in and, through the account API, writes their own applications_admin.
// Under ENABLED Keycloak stores it; under ADMIN_EDIT it answers 204 and ignores it; with the
// CodeMie attributes declared as managed user-profile attributes only admins may view and edit,
// it refuses them as read-only. roster, as an administrator, writes them in every case.
func TestSelfServiceEscalation(t *testing.T) {
	for _, tt := range []struct {
		name     string
		setup    func(ctx context.Context, realm *keycloaktest.Realm) error
		accepted bool // the account API stores the attribute
		refused  bool // the account API answers with an error
	}{
		{name: "ENABLED", accepted: true,
			setup: func(ctx context.Context, r *keycloaktest.Realm) error { return r.SetPolicy(ctx, "ENABLED") }},
		{name: "ADMIN_EDIT",
			setup: func(ctx context.Context, r *keycloaktest.Realm) error { return r.SetPolicy(ctx, "ADMIN_EDIT") }},
		{name: "managed admin-only", refused: true, setup: adminOnlyAttributes},
	} {
		t.Run(tt.name, func(t *testing.T) {
			realm, c := prepared(t)
			ctx := context.Background()
			if err := realm.CreateLoginClient(ctx, "codemie-e2e"); err != nil {
				t.Fatal(err)
			}
			cfg := load(t, fmt.Sprintf(`version: 1
realm: %s
users:
  - username: dev
    email: dev@example.com
    firstName: Dev
    lastName: One
    role: developer
    projects: {member: [codemie]}
    initialPassword: {env: ROSTER_SECRET_UNUSED, temporary: false}
`, realm.Name))
			if err := tt.setup(ctx, realm); err != nil {
				t.Fatal(err)
			}
			tok := applyAndSignInAsDev(t, realm, c, cfg)
			err := realm.Account(ctx, tok.AccessToken, http.MethodPost, "", map[string]any{
				"username": "dev", "email": "dev@example.com", "firstName": "Dev", "lastName": "One",
				"attributes": map[string][]string{"applications": {"codemie,payments"}, "applications_admin": {"codemie,payments"}},
			}, nil)
			if (err != nil) != tt.refused {
				t.Errorf("account API update: err = %v, want refused = %v", err, tt.refused)
			}
			var users []struct {
				Attributes map[string][]string `json:"attributes"`
			}
			if err := realm.Admin(ctx, http.MethodGet, "/users?exact=true&username=dev", nil, &users); err != nil || len(users) != 1 {
				t.Fatalf("read dev: %v (%d users)", err, len(users))
			}
			got := users[0].Attributes[model.AttrApplicationsAdmin]
			if changed := slices.Equal(got, []string{"codemie,payments"}); changed != tt.accepted {
				t.Errorf("after the user's own update applications_admin = %q; want it stored: %v", got, tt.accepted)
			}
		})
	}
}

// TestUserCannotEscapePrune is the other self-service hole, verified on the server: a user roster
// created signs in and, through the account API, sends their attributes without the ownership
// marker. Under ENABLED Keycloak deletes the marker, so prune would never find the user: plan
// refuses to prune there. Under ADMIN_EDIT, or under ENABLED with the marker declared in the user
// profile for administrators only, the marker is out of the user's reach and prune disables the
// user once the file drops them.
func TestUserCannotEscapePrune(t *testing.T) {
	for _, policy := range []string{"ENABLED", "ADMIN_EDIT", "ENABLED, marker declared admin-only"} {
		t.Run(policy, func(t *testing.T) {
			realm, c := prepared(t)
			ctx := context.Background()
			if err := realm.CreateLoginClient(ctx, "codemie-e2e"); err != nil {
				t.Fatal(err)
			}
			if err := realm.SetPolicy(ctx, strings.TrimSuffix(policy, ", marker declared admin-only")); err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(policy, "admin-only") {
				if err := declareAdminOnly(ctx, realm, model.DefaultOwnerAttribute); err != nil {
					t.Fatal(err)
				}
			}
			keeper := "  - {username: keeper, role: developer}\n"
			cfg := load(t, fmt.Sprintf("version: 1\nrealm: %s\nusers:\n", realm.Name)+keeper+`  - username: dev
    email: dev@example.com
    firstName: Dev
    lastName: One
    role: developer
    initialPassword: {env: ROSTER_SECRET_UNUSED, temporary: false}
`)
			tok := applyAndSignInAsDev(t, realm, c, cfg)
			// The user's own update, with every attribute but the marker. Keycloak may refuse it
			// (a declared attribute the user may not edit); what counts is the marker after it.
			aerr := realm.Account(ctx, tok.AccessToken, http.MethodPost, "", map[string]any{
				"username": "dev", "email": "dev@example.com", "firstName": "Dev", "lastName": "One",
				"attributes": map[string][]string{},
			}, nil)
			var users []struct {
				Attributes map[string][]string `json:"attributes"`
			}
			if err := realm.Admin(ctx, http.MethodGet, "/users?exact=true&username=dev", nil, &users); err != nil || len(users) != 1 {
				t.Fatalf("read dev: %v (%d users)", err, len(users))
			}
			marked := slices.Equal(users[0].Attributes[model.DefaultOwnerAttribute], []string{"true"})
			t.Logf("%s: the user's own update: %v; the marker is still there: %v", policy, aerr, marked)

			live, err := c.ReadLive(ctx, keycloak.ReadOptionsFor(cfg))
			if err != nil {
				t.Fatal(err)
			}
			pruning := load(t, fmt.Sprintf("version: 1\nrealm: %s\nsettings: {prune: disable}\nusers:\n", realm.Name)+keeper)
			p, err := plan.Build(pruning, live, plan.Options{}) // dev leaves the file
			switch policy {
			case "ENABLED":
				var unsafe *plan.PruneUnsafeError
				if marked || !errors.As(err, &unsafe) {
					t.Errorf("marker kept: %v (want false); plan: %v, want a PruneUnsafeError", marked, err)
				}
			default: // the marker is out of the user's reach
				if !marked || err != nil || len(p.Changes) != 1 || p.Changes[0].Action != plan.Disable || p.Changes[0].Addr.Name != "dev" {
					t.Errorf("marker kept: %v (want true); plan: %v, %+v; want dev disabled", marked, err, p)
				}
			}
		})
	}
}

// declareAdminOnly declares the attributes in the realm's user profile as ones only
// administrators may view and edit, keeping the rest of the profile.
func declareAdminOnly(ctx context.Context, r *keycloaktest.Realm, names ...string) error {
	var up map[string]json.RawMessage
	if err := r.Admin(ctx, http.MethodGet, "/users/profile", nil, &up); err != nil {
		return err
	}
	var attrs []any
	if err := json.Unmarshal(up["attributes"], &attrs); err != nil {
		return err
	}
	for _, name := range names {
		attrs = append(attrs, map[string]any{"name": name, "displayName": name, "multivalued": false,
			"permissions": map[string][]string{"view": {"admin"}, "edit": {"admin"}}})
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return err
	}
	up["attributes"] = b
	return r.Admin(ctx, http.MethodPut, "/users/profile", up, nil)
}

// adminOnlyAttributes declares the CodeMie attributes as managed user-profile attributes that
// only administrators may view and edit. Other attributes stay under ADMIN_EDIT (roster's plan
// reads only the unmanaged-attribute policy, and refuses to write attributes under DISABLED).
func adminOnlyAttributes(ctx context.Context, r *keycloaktest.Realm) error {
	if err := r.SetPolicy(ctx, "ADMIN_EDIT"); err != nil {
		return err
	}
	return declareAdminOnly(ctx, r, model.AttrApplications, model.AttrApplicationsAdmin, model.AttrUserType)
}

// applyAndSignInAsDev applies cfg, which declares the user dev with an initial password, as the
// administrator, and signs dev in through the client codemie-e2e.
func applyAndSignInAsDev(t *testing.T, realm *keycloaktest.Realm, c *keycloak.Client, cfg *model.Config) keycloaktest.Tokens {
	t.Helper()
	ctx := context.Background()
	res := apply.Run(ctx, planFor(t, c, cfg), c, withPassword("Pa55word-e2e"))
	if err := res.Err(); err != nil {
		t.Fatalf("apply as administrator: %v", err)
	}
	tok, err := realm.SignIn(ctx, "codemie-e2e", "dev", "Pa55word-e2e")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
