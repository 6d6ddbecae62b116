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
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/rosterhq/roster/internal/keycloak"
)

// Server is the Keycloak the tests run against.
type Server struct {
	URL           string
	AdminUser     string
	AdminPassword string

	gc *gocloak.GoCloak

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

var (
	serverOnce sync.Once
	server     *Server
)

// Require returns the server from the environment, or skips the test (fails it under
// ROSTER_ACCEPTANCE=require) when none is configured.
func Require(t testing.TB) *Server {
	t.Helper()
	serverOnce.Do(func() {
		url := os.Getenv("KEYCLOAK_URL")
		if url == "" {
			return
		}
		server = &Server{
			URL:           strings.TrimRight(url, "/"),
			AdminUser:     os.Getenv("KEYCLOAK_ADMIN_USER"),
			AdminPassword: os.Getenv("KEYCLOAK_ADMIN_PASSWORD"),
			gc:            gocloak.NewClient(strings.TrimRight(url, "/")),
		}
	})
	if server == nil {
		msg := "acceptance test needs a Keycloak: run `make test`, or set KEYCLOAK_URL, KEYCLOAK_ADMIN_USER and KEYCLOAK_ADMIN_PASSWORD"
		if os.Getenv("ROSTER_ACCEPTANCE") == "require" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return server
}

// AdminToken returns a master-realm administrator token, logging in again before it expires
// (master's access tokens live 60 seconds by default).
func (s *Server) AdminToken(t testing.TB) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && time.Now().Before(s.renewAt) {
		return s.token
	}
	jwt, err := s.gc.LoginAdmin(context.Background(), s.AdminUser, s.AdminPassword, "master")
	if err != nil {
		t.Fatalf("log in to %s as administrator %q: %v", s.URL, s.AdminUser, err)
	}
	lifetime := time.Duration(jwt.ExpiresIn) * time.Second
	s.token, s.renewAt = jwt.AccessToken, time.Now().Add(lifetime/2)
	return s.token
}

// GoCloak returns a gocloak client for the server, for tests that set up or inspect state
// outside roster.
func (s *Server) GoCloak() *gocloak.GoCloak { return s.gc }

// Realm is a fresh realm for one test.
type Realm struct {
	Server *Server
	Name   string
	// ClientID and ClientSecret are the service account's credentials in this realm.
	ClientID, ClientSecret string
}

// Roles the service account gets: the realm-management client roles roster needs.
var serviceAccountRoles = []string{"manage-users", "view-users", "view-realm", "manage-realm", "manage-identity-providers"}

// NewRealm creates a realm with a random name and a service-account client, and deletes the realm
// when the test ends.
func NewRealm(t testing.TB) *Realm {
	t.Helper()
	s := Require(t)
	ctx := context.Background()
	name := "roster-test-" + randomHex(t, 4)
	r := &Realm{Server: s, Name: name, ClientID: "roster",
		// Characters that break unencoded HTTP Basic auth, to prove roster encodes them.
		ClientSecret: "s3cret%+&=" + randomHex(t, 8)}

	if _, err := s.gc.CreateRealm(ctx, s.AdminToken(t), gocloak.RealmRepresentation{
		Realm: gocloak.StringP(name), Enabled: gocloak.BoolP(true),
	}); err != nil {
		t.Fatalf("create realm %s: %v", name, err)
	}
	t.Cleanup(func() {
		if name == "master" { // never: names are generated, but a guard costs nothing
			return
		}
		if err := s.gc.DeleteRealm(context.Background(), s.AdminToken(t), name); err != nil {
			t.Errorf("delete realm %s: %v", name, err)
		}
	})

	clientUUID, err := s.gc.CreateClient(ctx, s.AdminToken(t), name, gocloak.Client{
		ClientID:                  gocloak.StringP(r.ClientID),
		Secret:                    gocloak.StringP(r.ClientSecret),
		PublicClient:              gocloak.BoolP(false),
		ServiceAccountsEnabled:    gocloak.BoolP(true),
		StandardFlowEnabled:       gocloak.BoolP(false),
		DirectAccessGrantsEnabled: gocloak.BoolP(false),
	})
	if err != nil {
		t.Fatalf("create client %s in realm %s: %v", r.ClientID, name, err)
	}
	sa, err := s.gc.GetClientServiceAccount(ctx, s.AdminToken(t), name, clientUUID)
	if err != nil {
		t.Fatalf("get service account of client %s: %v", r.ClientID, err)
	}
	mgmt, err := s.gc.GetClients(ctx, s.AdminToken(t), name, gocloak.GetClientsParams{ClientID: gocloak.StringP("realm-management")})
	if err != nil || len(mgmt) != 1 {
		t.Fatalf("find client realm-management in realm %s: %v (found %d)", name, err, len(mgmt))
	}
	var roles []gocloak.Role
	for _, rn := range serviceAccountRoles {
		role, err := s.gc.GetClientRole(ctx, s.AdminToken(t), name, *mgmt[0].ID, rn)
		if err != nil {
			t.Fatalf("get realm-management role %s: %v", rn, err)
		}
		roles = append(roles, *role)
	}
	if err := s.gc.AddClientRolesToUser(ctx, s.AdminToken(t), name, *mgmt[0].ID, *sa.ID, roles); err != nil {
		t.Fatalf("grant realm-management roles to the service account: %v", err)
	}
	return r
}

// AdminConfig returns a roster keycloak.Config that logs in as the master administrator.
func (r *Realm) AdminConfig() keycloak.Config {
	return keycloak.Config{URL: r.Server.URL, Realm: r.Name, Username: r.Server.AdminUser, Password: r.Server.AdminPassword}
}

// ServiceAccountConfig returns a roster keycloak.Config that logs in as the realm's service account.
func (r *Realm) ServiceAccountConfig() keycloak.Config {
	return keycloak.Config{URL: r.Server.URL, Realm: r.Name, ClientID: r.ClientID, ClientSecret: r.ClientSecret}
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// String describes the realm for failure messages.
func (r *Realm) String() string { return fmt.Sprintf("realm %s on %s", r.Name, r.Server.URL) }
