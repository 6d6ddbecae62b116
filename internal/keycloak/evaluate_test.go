package keycloak_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// TestExampleClaims proves the shapes of the evaluate-scopes answers on the real server: each is
// the claims as one JSON object; a single-valued mapper carries the first stored value only, a
// multivalued one an array; the realm roles are in the access token only; and they come for a
// user whose password nobody knows, through a client found by its client id.
func TestExampleClaims(t *testing.T) {
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	if _, err := realm.CreateCodeMieClient(ctx, "codemie"); err != nil {
		t.Fatal(err)
	}
	if err := realm.AddAttributeMapper(ctx, "profile", "applications", false); err != nil {
		t.Fatal(err)
	}
	if err := realm.AddAttributeMapper(ctx, "profile", "applications_admin", true); err != nil {
		t.Fatal(err)
	}
	if err := realm.SeedUsers(ctx, []keycloaktest.User{{Username: "alice", Enabled: true, RealmRoles: []string{"developer"},
		Attributes: map[string][]string{"applications": {"proj-a", "proj-b,proj-c"}, "applications_admin": {"proj-a", "proj-b"}}}}); err != nil {
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

	client, err := c.ReadCodeMieClient(ctx, "codemie")
	if err != nil || client == nil {
		t.Fatalf("ReadCodeMieClient(codemie) = %v, %v", client, err)
	}
	if client.ClientID != "codemie" || client.ID == "" {
		t.Errorf("client = %+v", client)
	}
	// The mappers that reach the client: those of its default scopes, each naming its scope.
	apps := client.Mapping.Carrying("applications", model.TokenAccess)
	if len(apps) != 1 || apps[0].Scope != "profile" || apps[0].Multivalued {
		t.Errorf("mappers carrying applications = %+v, want the single-valued one of profile", apps)
	}
	if roles := client.Mapping.Carrying(model.ClaimRealmRoles, model.TokenAccess); len(roles) != 1 || roles[0].Scope != "roles" {
		t.Errorf("mappers carrying realm roles = %+v, want the one of scope roles", roles)
	}
	if want := []string{"acr", "basic", "email", "profile", "roles", "web-origins"}; !cmp.Equal(client.DefaultScopes, want) {
		t.Errorf("default scopes = %v, want %v", client.DefaultScopes, want)
	}
	if none, err := c.ReadCodeMieClient(ctx, "codemi"); none != nil || err != nil {
		t.Errorf("ReadCodeMieClient(codemi) = %v, %v; want nil, nil", none, err)
	}

	ex, err := c.ExampleClaims(ctx, client.ID, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	admin := []any{"proj-a", "proj-b"}
	for name, claims := range map[string]map[string]any{"access token": ex.AccessToken, "ID token": ex.IDToken, "userinfo": ex.UserInfo} {
		if claims["sub"] != alice.ID || claims["preferred_username"] != "alice" {
			t.Errorf("%s: sub %v, preferred_username %v", name, claims["sub"], claims["preferred_username"])
		}
		if claims["applications"] != "proj-a" {
			t.Errorf("%s: applications = %#v, want the first value only", name, claims["applications"])
		}
		if !cmp.Equal(claims["applications_admin"], admin) {
			t.Errorf("%s: applications_admin = %#v, want %v", name, claims["applications_admin"], admin)
		}
	}
	if ex.AccessToken["typ"] != "Bearer" || ex.IDToken["typ"] != "ID" || ex.IDToken["aud"] != "codemie" {
		t.Errorf("typ %v / %v, ID token aud %v", ex.AccessToken["typ"], ex.IDToken["typ"], ex.IDToken["aud"])
	}
	roles, _ := ex.AccessToken["realm_access"].(map[string]any)["roles"].([]any)
	if !slices.Contains(roles, any("developer")) {
		t.Errorf("access token realm roles = %v, want developer among them", roles)
	}
	if _, ok := ex.IDToken["realm_access"]; ok {
		t.Errorf("ID token carries realm_access: %v", ex.IDToken["realm_access"])
	}

	if _, err := c.ExampleClaims(ctx, client.ID, "00000000-0000-0000-0000-000000000000"); !keycloak.IsNotFound(err) {
		t.Errorf("unknown user: err = %v, want a 404", err)
	}

	// view-users and view-clients are both needed: with one of them, Keycloak refuses.
	if err := realm.SetServiceAccountRoles(ctx, "view-clients", "query-users"); err != nil {
		t.Fatal(err)
	}
	c2, err := keycloak.Dial(ctx, realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	var apiErr *keycloak.APIError
	if _, err := c2.ExampleClaims(ctx, client.ID, alice.ID); !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
		t.Errorf("without view-users: err = %v, want a 403", err)
	}
}
