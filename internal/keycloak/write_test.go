package keycloak_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

func dial(t *testing.T, realm *keycloaktest.Realm) *keycloak.Client {
	t.Helper()
	c, err := keycloak.Dial(context.Background(), realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialThroughProxy is dial through a fault proxy in front of the server, which it returns.
func dialThroughProxy(t *testing.T, realm *keycloaktest.Realm) (*keycloak.Client, *keycloaktest.FaultProxy) {
	t.Helper()
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	cfg := realm.ServiceAccountConfig()
	cfg.URL = proxy.URL
	c, err := keycloak.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, proxy
}

func readPolicy(t *testing.T, c *keycloak.Client) model.Policy {
	t.Helper()
	live, err := c.ReadLive(context.Background(), keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return live.Policy
}

// TestSetPolicy sets each policy and reads it back; DISABLED is expressed by omitting the field.
func TestSetPolicy(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	c := dial(t, realm)
	ctx := context.Background()
	for _, p := range []model.Policy{model.PolicyEnabled, model.PolicyAdminView, model.PolicyAdminEdit, model.PolicyDisabled} {
		if err := c.SetPolicy(ctx, p); err != nil {
			t.Fatalf("SetPolicy(%s): %v", p, err)
		}
		if got := readPolicy(t, c); got != p {
			t.Errorf("after SetPolicy(%s) the realm has %s", p, got)
		}
	}
	var up map[string]any
	if err := realm.Admin(ctx, http.MethodGet, "/users/profile", nil, &up); err != nil {
		t.Fatal(err)
	}
	if _, ok := up["unmanagedAttributePolicy"]; ok {
		t.Errorf("DISABLED left the field in the user profile: %v", up["unmanagedAttributePolicy"])
	}
	if up["attributes"] == nil {
		t.Error("SetPolicy lost the profile's attributes")
	}
}

// TestUserWrites creates a user, updates only owned fields and checks that a foreign attribute
// and unlisted fields survive, maps and unmaps roles, and finds the user by exact username.
func TestUserWrites(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	c := dial(t, realm)

	id, err := c.CreateUser(ctx, model.NewUser{Username: "Bob", Email: "bob@example.com", FirstName: "Bob", Enabled: true,
		Attributes:      map[string][]string{"applications": {"a"}, "department": {"R&D"}},
		InitialPassword: &model.Password{Value: "Initial-123", Temporary: true}})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if got := fmt.Sprint(model.Password{Value: "Initial-123"}); got != "{(sensitive) false}" {
		t.Errorf("a password prints as %q; the secret must not show", got)
	}
	if err := c.UpdateUser(ctx, id, model.UserPatch{
		LastName:   new("Jones"),
		Attributes: map[string][]string{"applications": {"a,b"}, "applications_admin": {"b"}, "user_type": nil},
	}); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if err := c.MapRoles(ctx, id, []model.Role{model.RoleDeveloper, model.RoleAdmin}, nil); err != nil {
		t.Fatalf("MapRoles add: %v", err)
	}
	if err := c.MapRoles(ctx, id, nil, []model.Role{model.RoleAdmin}); err != nil {
		t.Fatalf("MapRoles remove: %v", err)
	}

	u, ok, err := c.FindUser(ctx, "BOB")
	if err != nil || !ok {
		t.Fatalf("FindUser(BOB) = %v, %v", ok, err)
	}
	live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Roles = live.Users[0].Roles
	if u.Created.IsZero() {
		t.Error("FindUser returned no creation time")
	}
	u.Created = time.Time{}
	want := model.LiveUser{ID: id, Username: "bob", Email: "bob@example.com", FirstName: "Bob", LastName: "Jones", Enabled: true,
		Attributes:      map[string][]string{"applications": {"a,b"}, "applications_admin": {"b"}, "department": {"R&D"}},
		RequiredActions: []string{"UPDATE_PASSWORD"}, Roles: []model.Role{model.RoleDeveloper}}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("user after writes (-want +got):\n%s", diff)
	}
	if _, ok, err := c.FindUser(ctx, "bo"); ok || err != nil {
		t.Errorf("FindUser(bo) found a user (%v, %v): the lookup must be exact", ok, err)
	}
}

// TestCreateRole creates a role, accepts an existing one, and updates a description.
func TestCreateRole(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	c := dial(t, realm)
	ctx := context.Background()
	for range 2 {
		if err := c.CreateRole(ctx, model.RealmRole{Name: "developer", Description: "CodeMie user"}); err != nil {
			t.Fatalf("CreateRole: %v", err)
		}
	}
	if err := c.UpdateRoleDescription(ctx, "developer", "CodeMie standard user"); err != nil {
		t.Fatalf("UpdateRoleDescription: %v", err)
	}
	live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range live.Roles {
		if r.Name == "developer" && r.Description != "CodeMie standard user" {
			t.Errorf("developer description = %q", r.Description)
		}
	}
}

// editingTransport lets a test act between an UpdateUser's read and its write: after the first
// GET of a user's own path, it runs edit (once) before handing the answer back.
type editingTransport struct {
	base http.RoundTripper
	once sync.Once
	edit func()
}

func (e *editingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := e.base.RoundTrip(r)
	if err == nil && r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/users/") && !strings.Contains(r.URL.Path, "/users/count") {
		e.once.Do(e.edit)
	}
	return resp, err
}

// TestUpdateKeepsEditsMadeDuringIt edits a user's unmanaged attribute and name through the admin
// API exactly between UpdateUser's read and its write (an administrator in the console during an
// apply). An update that changes no attribute must keep the edited attribute.
func TestUpdateKeepsEditsMadeDuringIt(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	if err := realm.SetPolicy(ctx, "ADMIN_EDIT"); err != nil {
		t.Fatal(err)
	}
	if err := realm.SeedUsers(ctx, []keycloaktest.User{{Username: "bob", Email: "bob@example.com", Enabled: true,
		Attributes: map[string][]string{"department": {"sales"}}}}); err != nil {
		t.Fatal(err)
	}
	var users []struct {
		ID string `json:"id"`
	}
	if err := realm.Admin(ctx, http.MethodGet, "/users?exact=true&username=bob", nil, &users); err != nil || len(users) != 1 {
		t.Fatalf("find bob: %v", err)
	}
	id := users[0].ID
	tr := &editingTransport{base: http.DefaultTransport, edit: func() {
		var u map[string]any
		if err := realm.Admin(ctx, http.MethodGet, "/users/"+id, nil, &u); err != nil {
			t.Error(err)
			return
		}
		u["attributes"] = map[string][]string{"department": {"research"}}
		if err := realm.Admin(ctx, http.MethodPut, "/users/"+id, u, nil); err != nil {
			t.Error(err)
		}
	}}
	cfg := realm.ServiceAccountConfig()
	cfg.Transport = tr
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateUser(ctx, id, model.UserPatch{Email: new("robert@example.com")}); err != nil {
		t.Fatal(err)
	}
	bob, _, err := c.FindUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if bob.Email != "robert@example.com" || !cmp.Equal(bob.Attributes["department"], []string{"research"}) {
		t.Errorf("after the update: email %q, department %q; want robert@example.com and the edit made meanwhile, research",
			bob.Email, bob.Attributes["department"])
	}
}
