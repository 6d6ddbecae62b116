// Package keycloaktest gives acceptance tests a real Keycloak: the server `make test` started (or
// the one KEYCLOAK_URL names), a fresh realm per test that is deleted afterwards, an administrator
// logged in on master, and a service-account client in the realm holding the realm-management
// roles roster needs.
//
// Without KEYCLOAK_URL the tests skip with a message saying how to run them; with
// ROSTER_ACCEPTANCE=require (as `make test` sets) they fail instead.
package keycloaktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak"
)

// Server is the Keycloak the tests run against.
type Server struct {
	URL           string
	AdminUser     string
	AdminPassword string

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// ErrNoServer means the environment names no Keycloak.
var ErrNoServer = errors.New("acceptance test needs a Keycloak: run `make test`, or set KEYCLOAK_URL, KEYCLOAK_ADMIN_USER and KEYCLOAK_ADMIN_PASSWORD")

var (
	serverOnce sync.Once
	server     *Server
)

// FromEnv returns the server the environment names, or ErrNoServer.
func FromEnv() (*Server, error) {
	serverOnce.Do(func() {
		url := strings.TrimRight(os.Getenv("KEYCLOAK_URL"), "/")
		if url == "" {
			return
		}
		server = &Server{URL: url, AdminUser: os.Getenv("KEYCLOAK_ADMIN_USER"),
			AdminPassword: os.Getenv("KEYCLOAK_ADMIN_PASSWORD")}
	})
	if server == nil {
		return nil, ErrNoServer
	}
	return server, nil
}

// Required reports whether a missing server is a failure rather than a reason to skip.
func Required() bool { return os.Getenv("ROSTER_ACCEPTANCE") == "require" }

// Require returns the server from the environment, or skips the test (fails it under
// ROSTER_ACCEPTANCE=require) when none is configured.
func Require(t testing.TB) *Server {
	t.Helper()
	s, err := FromEnv()
	if err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return s
}

// Token returns a master-realm administrator token, logging in again before it expires (master's
// access tokens live 60 seconds by default).
func (s *Server) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && time.Now().Before(s.renewAt) {
		return s.token, nil
	}
	jwt, err := s.requestToken(ctx, "master", url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {s.AdminUser}, "password": {s.AdminPassword}}, "", "")
	if err != nil {
		return "", fmt.Errorf("log in to %s as administrator %q: %w", s.URL, s.AdminUser, err)
	}
	lifetime := time.Duration(jwt.ExpiresIn) * time.Second
	s.token, s.renewAt = jwt.AccessToken, time.Now().Add(lifetime/2)
	return s.token, nil
}

// Realm is a fresh realm for one test.
type Realm struct {
	Server *Server
	Name   string
	// ClientID and ClientSecret are the service account's credentials in this realm.
	ClientID, ClientSecret string
}

// Roles the service account gets: the realm-management client roles roster needs.
var serviceAccountRoles = []string{"manage-users", "view-users", "view-realm", "manage-realm", "manage-identity-providers",
	"view-clients", "manage-clients"}

// NewRealm creates a realm for the test and deletes it when the test ends.
func NewRealm(t testing.TB) *Realm {
	t.Helper()
	r, err := Require(t).CreateRealm(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Delete(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return r
}

// NewCodeMieRealm is NewRealm with what CodeMie and roster need in place, as apply leaves it:
// the unmanaged-attribute policy ADMIN_EDIT and the realm roles admin and developer.
func NewCodeMieRealm(t testing.TB) *Realm {
	t.Helper()
	r := NewRealm(t)
	ctx := context.Background()
	if err := r.SetPolicy(ctx, "ADMIN_EDIT"); err != nil {
		t.Fatal(err)
	}
	if err := r.CreateRoles(ctx, "admin", "developer"); err != nil {
		t.Fatal(err)
	}
	return r
}

// CreateRealm creates a realm with a random name and a service-account client "roster".
func (s *Server) CreateRealm(ctx context.Context) (*Realm, error) {
	suffix, err := randomHex(4)
	if err != nil {
		return nil, err
	}
	secret, err := randomHex(8)
	if err != nil {
		return nil, err
	}
	r := &Realm{Server: s, Name: "roster-test-" + suffix, ClientID: "roster",
		// Characters that break unencoded HTTP Basic auth, to prove roster encodes them.
		ClientSecret: "s3cret%+&=" + secret}
	token, err := s.Token(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := call(ctx, token, http.MethodPost, s.URL+"/admin/realms", map[string]any{"realm": r.Name, "enabled": true}, nil); err != nil {
		return nil, fmt.Errorf("create realm %s: %w", r.Name, err)
	}
	if err := r.addServiceAccount(ctx, r.ClientID, r.ClientSecret, serviceAccountRoles); err != nil {
		return nil, errors.Join(err, r.Delete(ctx))
	}
	return r, nil
}

// AddServiceAccount adds a service-account client to the realm holding exactly the given
// realm-management roles, and returns its secret: for tests of what roster does with other
// credentials than the realm's own service account.
func (r *Realm) AddServiceAccount(ctx context.Context, clientID string, roles ...string) (string, error) {
	secret, err := randomHex(8)
	if err != nil {
		return "", err
	}
	return secret, r.addServiceAccount(ctx, clientID, secret, roles)
}

func (r *Realm) addServiceAccount(ctx context.Context, clientID, secret string, roleNames []string) error {
	h, err := r.Server.AdminRequest(ctx, http.MethodPost, "/"+r.Name+"/clients", map[string]any{
		"clientId": clientID, "secret": secret, "publicClient": false, "serviceAccountsEnabled": true,
		"standardFlowEnabled": false, "directAccessGrantsEnabled": false,
	}, nil)
	if err != nil {
		return fmt.Errorf("create client %s in realm %s: %w", clientID, r.Name, err)
	}
	clientUUID, err := IDFromLocation(h)
	if err != nil {
		return fmt.Errorf("create client %s in realm %s: %w", clientID, r.Name, err)
	}
	var sa struct {
		ID string `json:"id"`
	}
	if err := r.Admin(ctx, http.MethodGet, "/clients/"+clientUUID+"/service-account-user", nil, &sa); err != nil {
		return fmt.Errorf("get service account of client %s: %w", clientID, err)
	}
	if len(roleNames) == 0 {
		return nil
	}
	return r.Server.GrantClientRoles(ctx, r.Name, sa.ID, "realm-management", roleNames...)
}

// GrantClientRoles gives the user with id userID in realm the named roles of the client with
// client id clientID there.
func (s *Server) GrantClientRoles(ctx context.Context, realm, userID, clientID string, roleNames ...string) error {
	var clients []struct {
		ID string `json:"id"`
	}
	if _, err := s.AdminRequest(ctx, http.MethodGet, "/"+realm+"/clients?"+url.Values{"clientId": {clientID}}.Encode(), nil, &clients); err != nil || len(clients) != 1 {
		return fmt.Errorf("find client %s in realm %s: %v (found %d)", clientID, realm, err, len(clients))
	}
	var roles []map[string]any
	for _, rn := range roleNames {
		var role map[string]any
		if _, err := s.AdminRequest(ctx, http.MethodGet, "/"+realm+"/clients/"+clients[0].ID+"/roles/"+url.PathEscape(rn), nil, &role); err != nil {
			return fmt.Errorf("get %s role %s: %w", clientID, rn, err)
		}
		roles = append(roles, role)
	}
	if _, err := s.AdminRequest(ctx, http.MethodPost, "/"+realm+"/users/"+userID+"/role-mappings/clients/"+clients[0].ID, roles, nil); err != nil {
		return fmt.Errorf("grant %s roles to user %s: %w", clientID, userID, err)
	}
	return nil
}

// Delete deletes the realm, unless KEYCLOAK_KEEP_REALMS is set: make test-versions sets it for
// the temporary servers of the older majors, which take the realms with them. There a realm
// deleted while other tests run makes Keycloak answer 500 to requests of the master
// administrator, roster's own included (see exchange): once in CI, and in one of 13 runs of the
// acceptance core on fresh Keycloak 24.0.5 servers, by their logs.
func (r *Realm) Delete(ctx context.Context) error {
	if !strings.HasPrefix(r.Name, "roster-test-") { // never master or anyone's real realm
		return fmt.Errorf("refusing to delete realm %q: not a test realm", r.Name)
	}
	if os.Getenv("KEYCLOAK_KEEP_REALMS") != "" {
		return nil
	}
	if err := r.deleteUsers(ctx); err != nil {
		return fmt.Errorf("delete realm %s: %w", r.Name, err)
	}
	if _, err := r.Server.AdminRequest(ctx, http.MethodDelete, "/"+r.Name, nil, nil); err != nil {
		return fmt.Errorf("delete realm %s: %w", r.Name, err)
	}
	return nil
}

// deleteUsers deletes the users of a realm of more than manyUsers one by one, 8 at a time,
// before the realm goes. Deleting the realm deletes its users' rows with statements like
// "delete from USER_ROLE_MAPPING where USER_ID in (select … where REALM_ID = ?)", which the
// development server's H2 runs in time that grows with the rows of every realm times the
// realm's users: a realm of 10,000 users beside one of 100,000 outlasts the 300 s transaction
// timeout and stays. One user's rows go by index.
func (r *Realm) deleteUsers(ctx context.Context) error {
	var count int
	if err := r.Admin(ctx, http.MethodGet, "/users/count", nil, &count); err != nil || count <= manyUsers {
		return err
	}
	for {
		var page []struct {
			ID string `json:"id"`
		}
		if err := r.Admin(ctx, http.MethodGet, "/users?briefRepresentation=true&first=0&max=500", nil, &page); err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		errs := make([]error, len(page))
		slots := make(chan struct{}, 8)
		var wg sync.WaitGroup
		for i, u := range page {
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				errs[i] = r.Admin(ctx, http.MethodDelete, "/users/"+u.ID, nil, nil)
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
	}
}

// manyUsers is the realm size above which Delete deletes the users first: one by one they go at
// some 130 a second, slower than the realm's own delete while the server's tables are small.
const manyUsers = 5000

// AdminConfig returns a roster keycloak.Config that logs in as the master administrator.
func (r *Realm) AdminConfig() keycloak.Config {
	return keycloak.Config{URL: r.Server.URL, Realm: r.Name, Username: r.Server.AdminUser, Password: r.Server.AdminPassword}
}

// ServiceAccountConfig returns a roster keycloak.Config that logs in as the realm's service account.
func (r *Realm) ServiceAccountConfig() keycloak.Config {
	return keycloak.Config{URL: r.Server.URL, Realm: r.Name, ClientID: r.ClientID, ClientSecret: r.ClientSecret}
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
