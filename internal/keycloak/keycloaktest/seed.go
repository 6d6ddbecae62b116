package keycloaktest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/Nerzal/gocloak/v13"
)

// User is a user to seed into a realm with partial import.
type User struct {
	Username   string              `json:"username"`
	Email      string              `json:"email,omitempty"`
	FirstName  string              `json:"firstName,omitempty"`
	LastName   string              `json:"lastName,omitempty"`
	Enabled    bool                `json:"enabled"`
	Attributes map[string][]string `json:"attributes,omitempty"`
	RealmRoles []string            `json:"realmRoles,omitempty"`
}

// SeedUsers imports users in chunks through the partial-import endpoint, far faster than one
// create and one role mapping per user. Realm roles the users name must exist.
func (r *Realm) SeedUsers(t testing.TB, users []User) {
	t.Helper()
	const chunk = 1000
	for i := 0; i < len(users); i += chunk {
		batch := users[i:min(i+chunk, len(users))]
		r.admin(t, http.MethodPost, "/partialImport", map[string]any{"ifResourceExists": "FAIL", "users": batch})
	}
}

// CreateRoles creates realm roles.
func (r *Realm) CreateRoles(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := r.Server.gc.CreateRealmRole(context.Background(), r.Server.AdminToken(t), r.Name,
			gocloak.Role{Name: gocloak.StringP(n)}); err != nil {
			t.Fatalf("create realm role %s: %v", n, err)
		}
	}
}

// SetPolicy sets the realm's unmanaged-attribute policy ("" disables it), keeping the rest of
// the user-profile configuration.
func (r *Realm) SetPolicy(t testing.TB, policy string) {
	t.Helper()
	var up map[string]any
	r.adminInto(t, http.MethodGet, "/users/profile", nil, &up)
	if policy == "" {
		delete(up, "unmanagedAttributePolicy")
	} else {
		up["unmanagedAttributePolicy"] = policy
	}
	r.admin(t, http.MethodPut, "/users/profile", up)
}

func (r *Realm) admin(t testing.TB, method, path string, body any) {
	t.Helper()
	r.adminInto(t, method, path, body, nil)
}

// adminInto sends an Admin API request for the realm as the master administrator.
func (r *Realm) adminInto(t testing.TB, method, path string, body, result any) {
	t.Helper()
	req := r.Server.gc.GetRequestWithBearerAuth(context.Background(), r.Server.AdminToken(t))
	if body != nil {
		req.SetBody(body)
	}
	if result != nil {
		req.SetResult(result)
	}
	resp, err := req.Execute(method, fmt.Sprintf("%s/admin/realms/%s%s", r.Server.URL, r.Name, path))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if resp.IsError() {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status(), resp.Body())
	}
}

// CountingTransport counts the requests that pass through it, by method; logins (POSTs to the
// token endpoint) are counted apart, under "token".
type CountingTransport struct {
	Base http.RoundTripper

	mu     sync.Mutex
	counts map[string]int
}

// RoundTrip counts the request and passes it on.
func (c *CountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.counts == nil {
		c.counts = make(map[string]int)
	}
	key := req.Method
	if strings.HasSuffix(req.URL.Path, "/protocol/openid-connect/token") {
		key = "token"
	}
	c.counts[key]++
	c.mu.Unlock()
	base := c.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// Count returns the number of requests with the method (or "token"), or of all requests for "".
func (c *CountingTransport) Count(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if method != "" {
		return c.counts[method]
	}
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Writes returns the number of requests that may change state: neither GET nor HEAD nor login.
func (c *CountingTransport) Writes() int {
	return c.Count("") - c.Count(http.MethodGet) - c.Count(http.MethodHead) - c.Count("token")
}
