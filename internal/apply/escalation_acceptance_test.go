package apply_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
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
			res := apply.Run(ctx, planFor(t, c, cfg), c, apply.Options{Password: func(*model.SecretRef) (model.Password, error) {
				return model.Password{Value: "Pa55word-e2e"}, nil
			}})
			if err := res.Err(); err != nil {
				t.Fatalf("apply as administrator: %v", err)
			}

			tok, err := realm.SignIn(ctx, "codemie-e2e", "dev", "Pa55word-e2e")
			if err != nil {
				t.Fatal(err)
			}
			err = realm.Account(ctx, tok.AccessToken, http.MethodPost, "", map[string]any{
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

// adminOnlyAttributes declares the CodeMie attributes as managed user-profile attributes that
// only administrators may view and edit. Other attributes stay under ADMIN_EDIT (roster's plan
// reads only the unmanaged-attribute policy, and refuses to write attributes under DISABLED).
func adminOnlyAttributes(ctx context.Context, r *keycloaktest.Realm) error {
	var up map[string]json.RawMessage
	if err := r.Admin(ctx, http.MethodGet, "/users/profile", nil, &up); err != nil {
		return err
	}
	var attrs []any
	if err := json.Unmarshal(up["attributes"], &attrs); err != nil {
		return err
	}
	for _, a := range []string{model.AttrApplications, model.AttrApplicationsAdmin, model.AttrUserType} {
		attrs = append(attrs, map[string]any{"name": a, "displayName": a, "multivalued": false,
			"permissions": map[string][]string{"view": {"admin"}, "edit": {"admin"}}})
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return err
	}
	up["attributes"] = b
	up["unmanagedAttributePolicy"] = json.RawMessage(`"ADMIN_EDIT"`)
	return r.Admin(ctx, http.MethodPut, "/users/profile", up, nil)
}
