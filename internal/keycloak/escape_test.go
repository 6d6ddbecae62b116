package keycloak_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// recorder keeps the escaped path of every request.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.EscapedPath())
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// TestNamesAreEscaped sends a realm name and a role name full of URL syntax to the real server and
// checks that they travel as one escaped path segment each, so they can neither reach another
// resource nor start a query.
func TestNamesAreEscaped(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	rec := &recorder{}
	cfg := realm.AdminConfig()
	cfg.Realm = "../x/y?z#w%v"
	cfg.Transport = rec
	ctx := context.Background()
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ReadRealm(ctx)
	if err == nil || !strings.Contains(err.Error(), `realm "../x/y?z#w%v" does not exist`) {
		t.Errorf("ReadRealm of a realm named with URL syntax: got %v, want it not to exist", err)
	}
	if err := c.UpdateRoleDescription(ctx, "a/b?c", "x"); !keycloak.IsNotFound(err) {
		t.Errorf("UpdateRoleDescription of role a/b?c in that realm: got %v, want 404", err)
	}
	want := []string{"/admin/realms/..%2Fx%2Fy%3Fz%23w%25v", "/admin/realms/..%2Fx%2Fy%3Fz%23w%25v/roles/a%2Fb%3Fc"}
	got := rec.paths[1:] // after the login
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("request paths %q, want %q", got, want)
	}
}
