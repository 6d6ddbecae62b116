package keycloak_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// TestReadIndirectGrants finds every way a realm grants admin and developer other than by mapping
// them to users: none in a fresh realm; then a group holding developer, a composite role taking
// in admin and a group holding that composite, and developer among the realm's default roles.
func TestReadIndirectGrants(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	c, err := keycloak.Dial(ctx, realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	roles := []string{"admin", "developer"}
	if got, err := c.ReadIndirectGrants(ctx, roles); err != nil || len(got.Grants)+len(got.Unread) != 0 {
		t.Fatalf("a fresh realm: %v, %v; want none", got, err)
	}

	role := func(name string) []map[string]any {
		var rep map[string]any
		if err := realm.Admin(ctx, http.MethodGet, "/roles/"+name, nil, &rep); err != nil {
			t.Fatal(err)
		}
		return []map[string]any{rep}
	}
	group := func(name, holds string) {
		h, err := realm.Server.AdminRequest(ctx, http.MethodPost, "/"+realm.Name+"/groups", map[string]string{"name": name}, nil)
		if err != nil {
			t.Fatal(err)
		}
		id, err := keycloaktest.IDFromLocation(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := realm.Admin(ctx, http.MethodPost, "/groups/"+id+"/role-mappings/realm", role(holds), nil); err != nil {
			t.Fatal(err)
		}
	}
	group("devs", "developer")
	if err := realm.CreateRoles(ctx, "power"); err != nil {
		t.Fatal(err)
	}
	if err := realm.Admin(ctx, http.MethodPost, "/roles/power/composites", role("admin"), nil); err != nil {
		t.Fatal(err)
	}
	group("ops", "power")
	if err := realm.Admin(ctx, http.MethodPost, "/roles/default-roles-"+realm.Name+"/composites", role("developer"), nil); err != nil {
		t.Fatal(err)
	}

	got, err := c.ReadIndirectGrants(ctx, roles)
	if err != nil || len(got.Unread) != 0 {
		t.Fatal(err, got.Unread)
	}
	want := []keycloak.IndirectGrant{
		{Role: "admin", Via: `composite role "power"`},
		{Role: "admin", Via: `group "/ops" (through composite role "power")`},
		{Role: "developer", Via: `group "/devs"`},
		{Role: "developer", Via: "the realm's default roles, which new users get and most existing users hold"},
	}
	if diff := cmp.Diff(want, got.Grants); diff != "" {
		t.Errorf("ReadIndirectGrants (-want +got):\n%s", diff)
	}
}
