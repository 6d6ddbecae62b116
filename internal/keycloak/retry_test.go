package keycloak_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// TestRetries puts a fault-injecting proxy in front of the real server: reads survive transient
// failures, while a create is never sent twice.
func TestRetries(t *testing.T) {
	realm := keycloaktest.NewRealm(t)
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	cfg := realm.ServiceAccountConfig()
	cfg.URL = proxy.URL
	ctx := context.Background()
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}

	users := "/admin/realms/" + realm.Name + "/users"
	proxy.Fail(http.MethodGet, users, 2, http.StatusServiceUnavailable)
	proxy.Fail(http.MethodGet, "/admin/realms/"+realm.Name+"/users/profile", 1, http.StatusTooManyRequests)
	if _, err := c.ReadLive(ctx, keycloak.ReadOptions{}); err != nil {
		t.Fatalf("ReadLive through 3 transient failures: %v", err)
	}
	if got := proxy.Seen(http.MethodGet, users); got != 3 {
		t.Errorf("user listing reached the proxy %d times, want 3 (2 failures, 1 success)", got)
	}

	proxy.Fail(http.MethodPost, users, 1, http.StatusBadGateway)
	_, err = c.CreateUser(ctx, model.NewUser{Username: "once", Enabled: true})
	if err == nil {
		t.Fatal("CreateUser through a 502 succeeded; want the error reported, not a blind retry")
	}
	if got := proxy.Seen(http.MethodPost, users); got != 1 {
		t.Errorf("the create was sent %d times, want 1", got)
	}
}
