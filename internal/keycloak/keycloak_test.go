package keycloak_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// TestSmoke logs in with each kind of credential, reads the realm, and creates and deletes a user.
func TestSmoke(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"admin password", "service account"} {
		t.Run(kind, func(t *testing.T) {
			realm := keycloaktest.NewRealm(t)
			cfg := realm.AdminConfig()
			wantIdentity := strings.ToLower(realm.Server.AdminUser)
			if kind == "service account" {
				cfg = realm.ServiceAccountConfig()
				wantIdentity = "service-account-roster"
			}
			ctx := context.Background()
			c, err := keycloak.Dial(ctx, cfg)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			if c.Identity() != wantIdentity {
				t.Errorf("Identity() = %q, want %q", c.Identity(), wantIdentity)
			}
			info, err := c.ReadRealm(ctx)
			if err != nil {
				t.Fatalf("ReadRealm: %v", err)
			}
			if info.Name != realm.Name || !info.Enabled {
				t.Errorf("ReadRealm = %+v, want enabled realm %s", info, realm.Name)
			}

			id, err := c.CreateUser(ctx, model.NewUser{Username: "smoke", Email: "smoke@example.com", Enabled: true})
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			var got struct {
				Username string `json:"username"`
			}
			if err := realm.Admin(ctx, http.MethodGet, "/users/"+id, nil, &got); err != nil || got.Username != "smoke" {
				t.Fatalf("created user %s not found by id: %v", id, err)
			}
			if err := c.DeleteUser(ctx, id); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			if err := realm.Admin(ctx, http.MethodGet, "/users/"+id, nil, nil); err == nil {
				t.Fatalf("user %s still exists after DeleteUser", id)
			}
		})
	}
}

// TestLoginFailures checks that bad credentials and unreachable servers give a ConnError that
// says what failed.
func TestLoginFailures(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()

	bad := realm.ServiceAccountConfig()
	bad.ClientSecret = "wrong"
	_, err := keycloak.Dial(ctx, bad)
	var ce *keycloak.ConnError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), `log in to realm "`+realm.Name+`" as client "roster"`) {
		t.Errorf("Dial with a wrong secret: got %v, want a ConnError naming the realm and client", err)
	}

	down := realm.AdminConfig()
	down.URL = "http://127.0.0.1:1"
	if _, err := keycloak.Dial(ctx, down); !errors.As(err, &ce) || !strings.Contains(err.Error(), "failed to reach http://127.0.0.1:1") {
		t.Errorf("Dial to a closed port: got %v, want a ConnError saying the server is unreachable", err)
	}

	missing := realm.AdminConfig()
	missing.Realm = "no-such-realm"
	c, err := keycloak.Dial(ctx, missing)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if _, err := c.ReadRealm(ctx); err == nil || !strings.Contains(err.Error(), `realm "no-such-realm" does not exist`) {
		t.Errorf("ReadRealm of a missing realm: got %v", err)
	}
}
