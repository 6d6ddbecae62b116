package keycloak_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

var allPermissions = []keycloak.Permission{keycloak.ViewUsers, keycloak.ManageUsers, keycloak.ViewRealm, keycloak.ManageRealm,
	keycloak.ViewClients, keycloak.ManageClients, keycloak.ViewIdentityProviders, keycloak.ManageIdentityProviders}

// dialWith gives the realm's service account exactly roles and logs in afresh.
func dialWith(t *testing.T, realm *keycloaktest.Realm, roles ...string) *keycloak.Client {
	t.Helper()
	ctx := context.Background()
	if err := realm.SetServiceAccountRoles(ctx, roles...); err != nil {
		t.Fatal(err)
	}
	c, err := keycloak.Dial(ctx, realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestProbe proves each probe on the real server: it fails without the role (and without the
// manage-* role that includes a view-* one), passes with the role alone, and is not fooled by the
// query-* roles, under which Keycloak lists nothing instead of refusing.
func TestProbe(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	for _, p := range allPermissions {
		t.Run(string(p), func(t *testing.T) {
			var others []string
			for _, q := range allPermissions {
				if q != p && string(q) != strings.Replace(string(p), "view-", "manage-", 1) {
					others = append(others, string(q))
				}
			}
			held, err := dialWith(t, realm, others...).Probe(ctx, p)
			if err != nil || held {
				t.Errorf("without %s: Probe = %v, %v; want false", p, held, err)
			}
			held, err = dialWith(t, realm, string(p)).Probe(ctx, p)
			if err != nil || !held {
				t.Errorf("with %s alone: Probe = %v, %v; want true", p, held, err)
			}
		})
	}
	for _, tc := range []struct {
		role string
		p    keycloak.Permission
	}{{"query-users", keycloak.ViewUsers}, {"query-clients", keycloak.ViewClients}, {"query-clients", keycloak.ManageClients}} {
		held, err := dialWith(t, realm, tc.role).Probe(ctx, tc.p)
		if err != nil || held {
			t.Errorf("with %s alone: Probe(%s) = %v, %v; want false", tc.role, tc.p, held, err)
		}
	}
	// The probes changed nothing: no user, no role and no identity provider appeared.
	var users, idps []map[string]any
	var roles []struct {
		Name string `json:"name"`
	}
	for path, into := range map[string]any{"/users": &users, "/roles": &roles, "/identity-provider/instances": &idps} {
		if err := realm.Admin(ctx, "GET", path, nil, into); err != nil {
			t.Fatal(err)
		}
	}
	if len(users) != 0 || len(idps) != 0 || len(roles) != 3 { // offline_access, uma_authorization, default-roles-*
		t.Errorf("after the probes: %d users, %d identity providers, roles %v", len(users), len(idps), roles)
	}
}

func TestServerVersion(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	admin, err := keycloak.Dial(ctx, realm.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	version, err := admin.ServerVersion(ctx)
	if err != nil || !regexp.MustCompile(`^\d+\.\d+`).MatchString(version) {
		t.Fatalf("ServerVersion as administrator = %q, %v", version, err)
	}
	if got, err := dialWith(t, realm, "manage-realm").ServerVersion(ctx); err != nil || got != version {
		t.Errorf("ServerVersion with manage-realm = %q, %v; want %q", got, err, version)
	}
	if strings.HasPrefix(version, "26.") { // Keycloak 26 hides it from holders of other roles
		if got, err := dialWith(t, realm, "view-realm", "view-users").ServerVersion(ctx); err != nil || got != "" {
			t.Errorf("ServerVersion with view-realm = %q, %v; want it hidden", got, err)
		}
	}
}

func TestLoginReadsTheClock(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	c, err := keycloak.Open(realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The server runs on this machine: its time, to the second, lies within the round trip.
	if r.Server.Before(r.Sent.Truncate(time.Second)) || r.Server.After(r.Received) {
		t.Errorf("server time %s outside the round trip %s – %s", r.Server, r.Sent, r.Received)
	}
}

func TestPingAndRealmExists(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	cfg := realm.AdminConfig()
	cfg.Realm = "no-such-realm"
	c, err := keycloak.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if ok, err := c.RealmExists(ctx); ok || err != nil {
		t.Errorf("RealmExists(no-such-realm) = %v, %v; want false", ok, err)
	}
	cfg.URL = "http://127.0.0.1:1"
	c, err = keycloak.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ce *keycloak.ConnError
	if err := c.Ping(ctx); !errors.As(err, &ce) {
		t.Errorf("Ping on a closed port = %v, want a ConnError", err)
	}
}

func TestReadUserProfile(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	c := dialWith(t, realm, "view-realm")
	up, err := c.ReadUserProfile(ctx)
	if err != nil || up.Policy != model.PolicyDisabled {
		t.Fatalf("ReadUserProfile = %+v, %v; want policy DISABLED", up, err)
	}
	if err := realm.SetPolicy(ctx, "ADMIN_EDIT"); err != nil {
		t.Fatal(err)
	}
	up, err = c.ReadUserProfile(ctx)
	if err != nil || up.Policy != model.PolicyAdminEdit {
		t.Fatalf("ReadUserProfile = %+v, %v; want policy ADMIN_EDIT", up, err)
	}
	if email := up.Attributes["email"]; strings.Join(email.Edit, ",") != "admin,user" {
		t.Errorf("attribute email = %+v, want edit by admin and user", email)
	}
}

// TestPermissionSets pins the view and manage roles roster uses: each manage role pairs with the
// view role of the same object, in the same order.
func TestPermissionSets(t *testing.T) {
	t.Parallel()
	view, manage := keycloak.ViewPermissions(), keycloak.ManagePermissions()
	if len(view) != 4 || len(manage) != len(view) {
		t.Fatalf("%d view and %d manage roles, want 4 each", len(view), len(manage))
	}
	for i := range view {
		if "view"+strings.TrimPrefix(string(manage[i]), "manage") != string(view[i]) {
			t.Errorf("manage role %s pairs with view role %s", manage[i], view[i])
		}
	}
	keycloak.ViewPermissions()[0] = "changed"
	if keycloak.ViewPermissions()[0] != keycloak.ViewUsers {
		t.Error("ViewPermissions returned a slice shared by every caller")
	}
}
