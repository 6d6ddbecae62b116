package keycloaktest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
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
	// ClientRoles are client roles by client id, e.g. realm-management's.
	ClientRoles map[string][]string `json:"clientRoles,omitempty"`
	Credentials []Credential        `json:"credentials,omitempty"`
}

// Credential is a password to seed a user with.
type Credential struct {
	Type      string `json:"type"`
	Value     string `json:"value"`
	Temporary bool   `json:"temporary"`
}

// SeedUsers imports users in chunks through the partial-import endpoint, far faster than one
// create and one role mapping per user, seedParallelism chunks at a time. Realm roles the users
// name must exist.
func (r *Realm) SeedUsers(ctx context.Context, users []User) error {
	const chunk = 500
	var (
		wg    sync.WaitGroup
		slots = make(chan struct{}, seedParallelism)
		errs  = make([]error, (len(users)+chunk-1)/chunk)
	)
	for i := 0; i < len(users); i += chunk {
		batch := users[i:min(i+chunk, len(users))]
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			errs[i/chunk] = r.Admin(ctx, http.MethodPost, "/partialImport", map[string]any{"ifResourceExists": "FAIL", "users": batch}, nil)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// seedParallelism is how many partial imports SeedUsers sends at once. Keycloak spends an
// import's time on a few round trips to its database per user; two in flight keep both of a
// small server's cores busy.
const seedParallelism = 3

// CreateRoles creates realm roles.
func (r *Realm) CreateRoles(ctx context.Context, names ...string) error {
	for _, n := range names {
		if err := r.Admin(ctx, http.MethodPost, "/roles", map[string]string{"name": n}, nil); err != nil {
			return err
		}
	}
	return nil
}

// SetPolicy sets the realm's unmanaged-attribute policy ("" disables it), keeping the rest of
// the user-profile configuration.
func (r *Realm) SetPolicy(ctx context.Context, policy string) error {
	var up map[string]any
	if err := r.Admin(ctx, http.MethodGet, "/users/profile", nil, &up); err != nil {
		return err
	}
	if policy == "" {
		delete(up, "unmanagedAttributePolicy")
	} else {
		up["unmanagedAttributePolicy"] = policy
	}
	return r.Admin(ctx, http.MethodPut, "/users/profile", up, nil)
}

// Admin sends an Admin API request for the realm (path below /admin/realms/{realm}) as the
// master administrator, decoding the answer into result when it is non-nil.
func (r *Realm) Admin(ctx context.Context, method, path string, body, result any) error {
	token, err := r.Server.Token(ctx)
	if err != nil {
		return err
	}
	if _, err := call(ctx, token, method, fmt.Sprintf("%s/admin/realms/%s%s", r.Server.URL, r.Name, path), body, result); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
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
