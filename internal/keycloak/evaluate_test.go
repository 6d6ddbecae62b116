package keycloak_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// TestExampleClaims proves ExampleClaims on the real server: each answer is the claims as one
// JSON object; a single-valued mapper carries the first stored value only; the realm roles are
// in the access token alone; they come for a user whose password nobody knows; an unknown user
// is a 404; and Keycloak asks for view-users as well as view-clients.
func TestExampleClaims(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	uuid, err := realm.CodeMieClient(ctx, "codemie", "codemie-attributes", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := realm.SeedUsers(ctx, []keycloaktest.User{{Username: "alice", Enabled: true, RealmRoles: []string{"developer"},
		Attributes: map[string][]string{"applications": {"proj-a", "proj-b,proj-c"}, "applications_admin": {"proj-a"}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := keycloak.Dial(ctx, realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alice := live.Users[0]
	if live.Client == nil || live.Client.ID != uuid {
		t.Fatalf("live.Client = %+v, want client %s", live.Client, uuid)
	}

	ex, err := c.ExampleClaims(ctx, uuid, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, claims := range map[string]map[string]any{"access token": ex.AccessToken, "ID token": ex.IDToken, "userinfo": ex.UserInfo} {
		if claims["sub"] != alice.ID || claims["preferred_username"] != "alice" {
			t.Errorf("%s: sub %v, preferred_username %v", name, claims["sub"], claims["preferred_username"])
		}
		if claims["applications"] != "proj-a" || claims["applications_admin"] != "proj-a" {
			t.Errorf("%s: applications %#v, applications_admin %#v, want the first value only", name,
				claims["applications"], claims["applications_admin"])
		}
	}
	if ex.AccessToken["typ"] != "Bearer" || ex.IDToken["typ"] != "ID" || ex.IDToken["aud"] != "codemie" {
		t.Errorf("typ %v / %v, ID token aud %v", ex.AccessToken["typ"], ex.IDToken["typ"], ex.IDToken["aud"])
	}
	ra, _ := ex.AccessToken["realm_access"].(map[string]any)
	if roles, _ := ra["roles"].([]any); !slices.Contains(roles, any("developer")) {
		t.Errorf("access token realm_access = %v, want developer among the roles", ex.AccessToken["realm_access"])
	}
	if _, ok := ex.IDToken["realm_access"]; ok {
		t.Errorf("ID token carries realm_access: %v", ex.IDToken["realm_access"])
	}

	if _, err := c.ExampleClaims(ctx, uuid, "00000000-0000-0000-0000-000000000000"); !keycloak.IsNotFound(err) {
		t.Errorf("unknown user: err = %v, want a 404", err)
	}

	// view-clients alone is not enough: Keycloak refuses without view-users.
	if err := realm.SetServiceAccountRoles(ctx, "view-clients", "query-users"); err != nil {
		t.Fatal(err)
	}
	c2, err := keycloak.Dial(ctx, realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	var apiErr *keycloak.APIError
	if _, err := c2.ExampleClaims(ctx, uuid, alice.ID); !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Errorf("without view-users: err = %v, want a 403", err)
	}
}
