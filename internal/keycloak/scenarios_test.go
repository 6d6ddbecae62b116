package keycloak_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

// The adapter's scenarios: each runs against the real server (TestAdapterContract) and against
// the replay of what the server answered (TestAdapterOffline), with the same assertions. The
// realm starts as keycloaktest.NewCodeMieRealm leaves it: policy ADMIN_EDIT, realm roles admin
// and developer, and the service account "roster" with the realm-management roles roster needs.
var scenarios = []scenario{
	{"login", scenarioLogin},
	{"login-password", scenarioLoginPassword},
	{"login-refused", scenarioLoginRefused},
	{"answers", scenarioAnswers},
	{"forbidden", scenarioForbidden},
	{"token-revoked", scenarioTokenRevoked},
	{"token-renewal", scenarioTokenRenewal},
	{"lock", scenarioLock},
	{"paging", scenarioPaging},
	{"read-prerequisites", scenarioReadPrerequisites},
	{"writes", scenarioWrites},
	{"doctor", scenarioDoctor},
	{"codemie-client", scenarioCodeMieClient},
}

// wantError fails the test unless err's message and hints are exactly these.
func (e *env) wantError(err error, want string, hints ...string) {
	e.t.Helper()
	if err == nil {
		e.t.Errorf("no error, want %q", want)
		return
	}
	if err.Error() != want {
		e.t.Errorf("error:\n %s\nwant:\n %s", err, want)
	}
	var h interface{ Hints() []string }
	var got []string
	if errors.As(err, &h) {
		got = h.Hints()
	}
	if diff := cmp.Diff(hints, got); diff != "" {
		e.t.Errorf("hints of %q (-want +got):\n%s", err, diff)
	}
}

// authHeader keeps the Authorization header of the last request that passes.
type authHeader struct {
	base http.RoundTripper
	mu   sync.Mutex
	last string
}

func (a *authHeader) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.last = req.Header.Get("Authorization")
	a.mu.Unlock()
	return a.base.RoundTrip(req)
}

func (a *authHeader) value() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// scenarioLogin logs in as the service account: the realm is read, every credential and token
// is masked in the output, and the server's clock is read off the token.
func scenarioLogin(e *env) {
	t := e.t
	auth := &authHeader{}
	cfg := e.config(func(cfg *keycloak.Config) {
		cfg.Secrets = redact.New()
		auth.base = cfg.Transport
		cfg.Transport = auth
	})
	c, err := keycloak.Dial(e.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	basic := auth.value()
	info, err := c.ReadRealm(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != e.realm() || !info.Enabled {
		t.Errorf("ReadRealm = %+v, want enabled realm %s", info, e.realm())
	}
	masked(t, cfg, "client secret", cfg.ClientSecret)
	masked(t, cfg, "Basic credentials", strings.TrimPrefix(basic, "Basic "))
	masked(t, cfg, "access token", strings.TrimPrefix(auth.value(), "Bearer "))
	if c.Since().IsZero() {
		t.Error("Since is zero after a login: the token's issue time was not read")
	}
	if got, want := c.Identity(), "service-account-roster"; got != want {
		t.Errorf("Identity = %q, want %q", got, want)
	}
	if ok, err := c.RealmExists(e.ctx); !ok || err != nil {
		t.Errorf("RealmExists = %v, %v", ok, err)
	}
	if err := c.Ping(e.ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	clock, err := c.Login(e.ctx)
	if err != nil || clock.Server.IsZero() || clock.Received.Before(clock.Sent) {
		t.Errorf("Login = %+v, %v; want the server's clock read off a fresh token", clock, err)
	}
	if n := e.logins.Load(); n != 2 {
		t.Errorf("%d logins, want 2 (Dial and Login)", n)
	}
}

// scenarioLoginPassword logs in as the master administrator with the password grant.
func scenarioLoginPassword(e *env) {
	t := e.t
	user, password := "admin", "fixture-admin-password"
	if e.live != nil {
		user, password = e.live.Server.AdminUser, e.live.Server.AdminPassword
	}
	cfg := e.config(func(cfg *keycloak.Config) {
		cfg.ClientID, cfg.ClientSecret, cfg.Username, cfg.Password = "", "", user, password
		cfg.Secrets = redact.New()
	})
	c, err := keycloak.Dial(e.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadRealm(e.ctx); err != nil {
		t.Fatal(err)
	}
	masked(t, cfg, "password", password)
	if got := c.Principal().String(); got != fmt.Sprintf("user %q", user) {
		t.Errorf("Principal = %s", got)
	}
	if c.Identity() != strings.ToLower(user) {
		t.Errorf("Identity = %q, want %q", c.Identity(), user)
	}
}

// scenarioLoginRefused logs in with a wrong secret, a wrong password and into a realm that does
// not exist: each is a *ConnError that names the fix, and none is tried again.
func scenarioLoginRefused(e *env) {
	_, err := e.dial(func(cfg *keycloak.Config) { cfg.ClientSecret = "wrong-secret" })
	e.wantError(err, fmt.Sprintf(`failed to log in to realm %q as client "roster": 401 Unauthorized: unauthorized_client: Invalid client or Invalid client credentials`, e.realm()),
		"check the credentials, and that the login realm is right (--auth-realm)")
	var ce *keycloak.ConnError
	if !errors.As(err, &ce) || ce.BadURL {
		e.t.Errorf("wrong secret: %#v, want a *ConnError that does not blame the URL", err)
	}
	_, err = e.dial(func(cfg *keycloak.Config) {
		cfg.ClientID, cfg.ClientSecret, cfg.Username, cfg.Password = "", "", "fixture-nobody", "wrong-password"
	})
	e.wantError(err, `failed to log in to realm "master" as user "fixture-nobody": 400 Bad Request: invalid_grant: Invalid user credentials`,
		"check the credentials, and that the login realm is right (--auth-realm)")
	_, err = e.dial(func(cfg *keycloak.Config) { cfg.AuthRealm = "fixture-no-such-realm" })
	e.wantError(err, `failed to log in to realm "fixture-no-such-realm" as client "roster": 404 Not Found: Realm does not exist`,
		`realm "fixture-no-such-realm" does not exist on this server: check the realm name in the configuration, or --auth-realm`)
	if n := e.logins.Load(); n != 3 {
		e.t.Errorf("%d logins, want 3: a refusal is not tried again", n)
	}
}

// scenarioAnswers provokes the Admin API's error answers roster reports: 404, 409 and the user
// profile's 400 with field errors.
func scenarioAnswers(e *env) {
	t := e.t
	c := e.mustDial(nil)
	const noSuchID = "00000000-0000-0000-0000-000000000000"
	err := c.DeleteUser(e.ctx, noSuchID)
	e.wantError(err, "DELETE /users/"+noSuchID+": 404 User not found")
	if !keycloak.IsNotFound(err) || keycloak.IsConflict(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
	if users, err := c.ReadUsers(e.ctx, []string{noSuchID}); len(users) != 0 || err != nil {
		t.Errorf("ReadUsers(no such id) = %v, %v; want nothing", users, err)
	}

	if _, err := c.CreateUser(e.ctx, model.NewUser{Username: "ann", Email: "ann@example.com", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUser(e.ctx, model.NewUser{Username: "ann", Enabled: true})
	e.wantError(err, "POST /users: 409 User exists with same username")
	if !keycloak.IsConflict(err) {
		t.Errorf("IsConflict(%v) = false", err)
	}
	_, err = c.CreateUser(e.ctx, model.NewUser{Username: "bob", Email: "ann@example.com", Enabled: true})
	e.wantError(err, "POST /users: 409 User exists with same email")

	_, err = c.CreateUser(e.ctx, model.NewUser{Username: "carl", Email: "not-an-email", Enabled: true})
	e.wantError(err, "POST /users: 400 email: error-invalid-email (not-an-email)",
		"Keycloak's user profile refused the fields named: correct them in the configuration; applying again unchanged cannot help")
	var api *keycloak.APIError
	if !errors.As(err, &api) || api.StatusCode() != http.StatusBadRequest {
		t.Errorf("invalid email: %#v, want a 400 *APIError", err)
	}
	_, err = c.CreateUser(e.ctx, model.NewUser{Username: "dave", Email: "not-an-email", FirstName: "<b>Dave</b>", Enabled: true})
	e.wantError(err, "POST /users: 400 email: error-invalid-email (not-an-email); firstName: error-person-name-invalid-character",
		"Keycloak's user profile refused the fields named: correct them in the configuration; applying again unchanged cannot help")

	// Creating a role that exists is not an error: apply may meet a role made meanwhile.
	for range 2 {
		if err := c.CreateRole(e.ctx, model.RealmRole{Name: "fixture-role", Description: "made twice"}); err != nil {
			t.Errorf("CreateRole: %v", err)
		}
	}
	err = c.UpdateRoleDescription(e.ctx, "fixture-no-such-role", "x")
	e.wantError(err, "GET /roles/fixture-no-such-role: 404 Could not find role")
}

// scenarioForbidden logs in as a service account without realm-management roles: the Admin API
// refuses with 403, which roster reports with the roles to grant, and the probes say which are
// missing.
func scenarioForbidden(e *env) {
	secret := e.serviceAccount("weak")
	c := e.mustDial(func(cfg *keycloak.Config) { cfg.ClientID, cfg.ClientSecret = "weak", secret })
	_, err := c.ReadRealm(e.ctx)
	e.wantError(err, "GET /admin/realms/"+e.realm()+": 403 HTTP 403 Forbidden",
		"the account roster logs in with lacks a realm-management role; it needs manage-users, view-users, view-realm, "+
			"manage-realm, manage-identity-providers, and view-clients and manage-clients when the configuration declares "+
			"tokenMappers; `roster doctor` names the missing ones")
	for _, p := range allPermissions {
		if held, err := c.Probe(e.ctx, p); held || err != nil {
			e.t.Errorf("Probe(%s) = %v, %v; want not held", p, held, err)
		}
	}
	if _, err := c.ServerVersion(e.ctx); err == nil {
		e.t.Error("ServerVersion without any role succeeded")
	}
}

// scenarioTokenRevoked revokes the tokens issued so far (the realm's not-before): the next
// request is refused with 401, which roster reports as a connection error, without logging in
// again.
func scenarioTokenRevoked(e *env) {
	c := e.mustDial(nil)
	if _, err := c.ReadRealm(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.admin(http.MethodPut, "", map[string]any{"notBefore": time.Now().Unix() + 1})
	_, err := c.ReadRealm(e.ctx)
	e.wantError(err, "failed to GET /admin/realms/"+e.realm()+": 401 Unauthorized",
		"the server did not accept roster's token: check that the login realm and client are right")
	var ce *keycloak.ConnError
	if !errors.As(err, &ce) {
		e.t.Errorf("401: %#v, want a *ConnError", err)
	}
	if n := e.logins.Load(); n != 1 {
		e.t.Errorf("%d logins, want 1", n)
	}
}

// scenarioTokenRenewal gives the realm 2-second tokens: the client logs in again once four fifths
// of its token's life are over, before a request could be refused.
func scenarioTokenRenewal(e *env) {
	e.admin(http.MethodPut, "", map[string]any{"accessTokenLifespan": 2})
	c := e.mustDial(nil)
	if _, err := c.ReadRealm(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	if n := e.logins.Load(); n != 1 {
		e.t.Errorf("%d logins before the token aged, want 1", n)
	}
	time.Sleep(1700 * time.Millisecond)
	if _, err := c.ReadRealm(e.ctx); err != nil {
		e.t.Fatalf("ReadRealm after 1.7 s of a 2 s token: %v", err)
	}
	if n := e.logins.Load(); n != 2 {
		e.t.Errorf("%d logins, want 2: the first and one renewal", n)
	}
}

// scenarioLock takes and releases the apply lock, and reads the locks it finds: one another run
// holds, one whose holder died, and a role of that name roster did not make. On the way it
// watches the lock and the mark each apply leaves (see watchMark).
func scenarioLock(e *env) {
	t := e.t
	c := e.mustDial(nil)
	watchMark(e, c)
	l, err := c.TryLock(e.ctx, "fixture run", 0)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if err := l.Release(e.ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	lockPath := "/roles/" + url.PathEscape(keycloak.LockRole)

	e.admin(http.MethodPost, "/roles", map[string]string{"name": keycloak.LockRole,
		"description": "Held by roster apply: ops@ci pid 7 #0a0b0c0d0e0f; expires 2099-01-01T00:00:00Z"})
	_, err = c.TryLock(e.ctx, "fixture run", 0)
	e.wantError(err, fmt.Sprintf(`realm %q is locked by another roster apply (ops@ci pid 7 #0a0b0c0d0e0f)`, e.realm()),
		"wait for that apply to finish, or wait for the lock with --lock-timeout 10m; if that run died, its lock expires at 2099-01-01T00:00:00Z")
	var locked *keycloak.LockedError
	if !errors.As(err, &locked) || !locked.Expires.Equal(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("held lock: %#v, want a *LockedError expiring 2099-01-01", err)
	}
	e.admin(http.MethodDelete, lockPath, nil)

	e.admin(http.MethodPost, "/roles", map[string]string{"name": keycloak.LockRole, "description": "made by hand"})
	_, err = c.TryLock(e.ctx, "fixture run", 0)
	e.wantError(err, fmt.Sprintf(`realm %q is locked: it has a role %s that roster did not make ("made by hand")`, e.realm(), keycloak.LockRole),
		"delete the realm role "+keycloak.LockRole+" if nothing uses it, or apply with --lock=false")
	e.admin(http.MethodDelete, lockPath, nil)

	e.admin(http.MethodPost, "/roles", map[string]string{"name": keycloak.LockRole,
		"description": "Held by roster apply: dead run #00; expires 2020-01-01T00:00:00Z"})
	l, err = c.TryLock(e.ctx, "fixture run", 0)
	if err != nil {
		t.Fatalf("Lock over an expired lock: %v", err)
	}
	if err := l.Release(e.ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

// watchMark checks what a watch proves: nothing in a realm no apply has marked, nor after a run
// that did not settle the mark; that no other apply took the lock since, when none did; not so
// when another run took it meanwhile; and a watch while the lock is held sees it. Neither role
// shows in the live read, and a mark roster did not make is refused, not overwritten.
func watchMark(e *env, c *keycloak.Client) {
	t := e.t
	// take takes the lock with c after w, checks what it proves, and settles it or not.
	take := func(c *keycloak.Client, w keycloak.Watch, quiet, settle bool) {
		t.Helper()
		l, err := c.TryLock(e.ctx, "fixture run", 0)
		if err != nil {
			t.Fatalf("Lock: %v", err)
		}
		if got := l.QuietSince(w); got != quiet {
			t.Errorf("QuietSince(%+v) = %v, want %v", w, got, quiet)
		}
		if held, err := c.Watch(e.ctx); err != nil || held.Free {
			t.Errorf("Watch while locked = %+v, %v; want the lock seen", held, err)
		}
		if live, err := c.ReadLive(e.ctx, keycloak.ReadOptions{}); err != nil || slices.ContainsFunc(live.Roles, func(r model.RealmRole) bool {
			return r.Name == keycloak.LockRole || r.Name == keycloak.MarkRole
		}) {
			t.Errorf("ReadLive while locked: %v, or it shows the lock or the mark", err)
		}
		if settle {
			if err := l.Settle(e.ctx); err != nil {
				t.Fatalf("Settle: %v", err)
			}
		}
		if err := l.Release(e.ctx); err != nil {
			t.Fatalf("Release: %v", err)
		}
	}
	watch := func() keycloak.Watch {
		t.Helper()
		w, err := c.Watch(e.ctx)
		if err != nil || !w.Free {
			t.Fatalf("Watch = %+v, %v; want the lock free", w, err)
		}
		return w
	}
	if w := watch(); w.Mark != "" || w.Settled {
		t.Errorf("watch of a realm never applied to = %+v, want no mark", w)
	}
	take(c, watch(), false, true)
	w := watch()
	if !w.Settled || !strings.HasPrefix(w.Mark, "Settled by roster apply: fixture run #") {
		t.Errorf("watch = %+v, want a settled mark naming the last apply", w)
	}
	take(c, w, true, false)
	take(c, watch(), false, true) // the last run did not settle
	w = watch()
	take(e.mustDial(nil), w, true, true) // another run, quiet since w
	take(c, w, false, true)              // the other run took the lock since w

	markPath := "/roles/" + url.PathEscape(keycloak.MarkRole)
	e.admin(http.MethodPut, markPath, map[string]string{"name": keycloak.MarkRole, "description": "made by hand"})
	_, err := c.TryLock(e.ctx, "fixture run", 0)
	e.wantError(err, fmt.Sprintf(`realm %q has a role %s that roster did not make ("made by hand")`, e.realm(), keycloak.MarkRole),
		"delete the realm role "+keycloak.MarkRole+" if nothing uses it, or apply with --lock=false")
	if w := watch(); w.Mark != "made by hand" {
		t.Errorf("mark after a refused apply = %q, want the role left as it was", w.Mark)
	}
	e.admin(http.MethodDelete, markPath, nil)
}

// pagingUsers is more users than one page of the listing holds.
const pagingUsers = 501

// scenarioPaging lists a realm of more users than a page holds, holders of both roles among
// them, and reads some of them back both ways ReadUsers does.
func scenarioPaging(e *env) {
	t := e.t
	if e.live != nil {
		users := make([]map[string]any, pagingUsers)
		for i := range users {
			u := map[string]any{"username": fmt.Sprintf("u%04d", i), "enabled": true}
			switch i % 100 {
			case 0:
				u["realmRoles"] = []string{"admin", "developer"}
			case 1:
				u["realmRoles"] = []string{"developer"}
			}
			users[i] = u
		}
		e.admin(http.MethodPost, "/partialImport", map[string]any{"ifResourceExists": "FAIL", "users": users})
	}
	c := e.mustDial(nil)
	live, err := c.ReadLive(e.ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(live.Users) != pagingUsers {
		t.Fatalf("ReadLive listed %d users, want %d", len(live.Users), pagingUsers)
	}
	admins, developers := 0, 0
	for _, u := range live.Users {
		admins += count(u.Roles, model.RoleAdmin)
		developers += count(u.Roles, model.RoleDeveloper)
	}
	if admins != 6 || developers != 11 {
		t.Errorf("%d admins and %d developers, want 6 and 11", admins, developers)
	}
	ids := []string{live.Users[0].ID, live.Users[500].ID}
	few, err := c.ReadUsers(e.ctx, ids) // one read per user, without a count
	if err != nil || len(few) != 2 {
		t.Fatalf("ReadUsers(2 ids) = %d users, %v", len(few), err)
	}
	ids = nil
	for i := 0; i < len(live.Users); i += 4 { // a quarter of the realm
		ids = append(ids, live.Users[i].ID)
	}
	many, err := c.ReadUsers(e.ctx, ids) // a count, then the listing
	if err != nil || len(many) != len(ids) {
		t.Fatalf("ReadUsers(%d ids) = %d users, %v", len(ids), len(many), err)
	}
}

func count[T comparable](s []T, v T) int {
	if slices.Contains(s, v) {
		return 1
	}
	return 0
}

// scenarioReadPrerequisites reads token mappers, identity providers, their mappers and a user's
// links along with the users.
func scenarioReadPrerequisites(e *env) {
	t := e.t
	c := e.mustDial(nil)
	scope, err := c.ReadClientScope(e.ctx, "profile")
	if err != nil || scope == nil {
		t.Fatalf("ReadClientScope(profile) = %v, %v", scope, err)
	}
	if s, err := c.ReadClientScope(e.ctx, "fixture-no-such-scope"); s != nil || err != nil {
		t.Errorf("ReadClientScope(no such scope) = %v, %v; want nil, nil", s, err)
	}
	mapper := model.LiveTokenMapper{Name: "applications", ProtocolMapper: model.ProtocolMapperUserAttribute,
		Config: map[string]string{"user.attribute": "applications", "claim.name": "applications", "jsonType.label": "String",
			"multivalued": "true", "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "false"}}
	if err := c.CreateTokenMapper(e.ctx, scope.ID, mapper); err != nil {
		t.Fatalf("CreateTokenMapper: %v", err)
	}
	err = c.CreateTokenMapper(e.ctx, scope.ID, mapper)
	e.wantError(err, "POST /client-scopes/"+scope.ID+"/protocol-mappers/models: 409 Protocol mapper exists with same name")
	if err := c.CreateIdentityProvider(e.ctx, model.LiveIdentityProvider{Alias: "entra", DisplayName: "Entra ID", Enabled: true, ProviderID: "oidc",
		Config: map[string]string{"clientId": "app-id", "issuer": "https://idp.example/t/v2.0", "authorizationUrl": "https://idp.example/t/authorize",
			"tokenUrl": "https://idp.example/t/token", "jwksUrl": "https://idp.example/t/keys", "useJwksUrl": "true",
			"defaultScope": "openid email", "syncMode": "IMPORT", "clientAuthMethod": "client_secret_post"}},
		"idp-secret-value"); err != nil {
		t.Fatalf("CreateIdentityProvider: %v", err)
	}
	if err := c.UpdateIdentityProvider(e.ctx, "entra", model.IdentityProviderUpdate{DisplayName: new("Entra"),
		Config: map[string]string{"defaultScope": "openid email profile"}}); err != nil {
		t.Fatalf("UpdateIdentityProvider: %v", err)
	}
	if err := c.CreateIdentityProviderMapper(e.ctx, "entra", model.LiveIdentityProviderMapper{Name: "developer", Type: model.IdPMapperHardcodedRole,
		Config: map[string]string{"role": "developer", "syncMode": "INHERIT"}}); err != nil {
		t.Fatalf("CreateIdentityProviderMapper: %v", err)
	}
	id, err := c.CreateUser(e.ctx, model.NewUser{Username: "linked", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LinkIdentity(e.ctx, id, model.FederatedIdentity{Provider: "entra", UserID: "sub-1", UserName: "linked@idp.example"}); err != nil {
		t.Fatalf("LinkIdentity: %v", err)
	}
	live, err := c.ReadLive(e.ctx, keycloak.ReadOptions{ClientScope: "profile", IdentityProviders: true,
		LinksFor: func(username string) bool { return username == "linked" }})
	if err != nil {
		t.Fatal(err)
	}
	m := live.ClientScope.Mapper("applications")
	if m == nil || m.Claim != "applications" || !m.Multivalued || m.UserInfo {
		t.Fatalf("mapper applications = %+v", m)
	}
	m.Config["userinfo.token.claim"] = "true"
	if err := c.UpdateTokenMapper(e.ctx, scope.ID, *m); err != nil {
		t.Errorf("UpdateTokenMapper: %v", err)
	}
	idps := live.IdentityProviders
	if len(idps) != 1 || idps[0].Alias != "entra" || idps[0].DisplayName != "Entra" || idps[0].DefaultScope != "openid email profile" ||
		len(idps[0].Mappers) != 1 || idps[0].Mappers[0].Role != "developer" {
		t.Fatalf("identity providers = %+v", idps)
	}
	pm := idps[0].Mappers[0]
	pm.Config["syncMode"] = "FORCE"
	if err := c.UpdateIdentityProviderMapper(e.ctx, "entra", pm); err != nil {
		t.Errorf("UpdateIdentityProviderMapper: %v", err)
	}
	want := []model.FederatedIdentity{{Provider: "entra", UserID: "sub-1", UserName: "linked@idp.example"}}
	if len(live.Users) != 1 || !cmp.Equal(live.Users[0].FederatedIdentities, want) {
		t.Errorf("users = %+v, want linked with %v", live.Users, want)
	}
	scopes, err := c.ReadClientScopes(e.ctx)
	if err != nil || len(scopes) == 0 {
		t.Errorf("ReadClientScopes = %d scopes, %v", len(scopes), err)
	}
}

// scenarioWrites changes users, roles and the user profile the ways apply does, and reads the
// result back.
func scenarioWrites(e *env) {
	t := e.t
	c := e.mustDial(nil)
	for _, p := range []model.Policy{model.PolicyEnabled, model.PolicyDisabled, model.PolicyAdminEdit} {
		if err := c.SetPolicy(e.ctx, p); err != nil {
			t.Fatalf("SetPolicy(%s): %v", p, err)
		}
	}
	if p, err := c.Policy(e.ctx); p != model.PolicyAdminEdit || err != nil {
		t.Errorf("Policy = %s, %v", p, err)
	}
	if err := c.UpdateRoleDescription(e.ctx, "developer", "CodeMie user"); err != nil {
		t.Fatalf("UpdateRoleDescription: %v", err)
	}
	id, err := c.CreateUser(e.ctx, model.NewUser{Username: "Bob", Email: "bob@example.com", FirstName: "Bob", Enabled: true,
		Attributes:      map[string][]string{"applications": {"a"}, "department": {"R&D"}},
		InitialPassword: &model.Password{Value: "Initial-123", Temporary: true}})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := c.UpdateUser(e.ctx, id, model.UserPatch{LastName: new("Jones"),
		Attributes: map[string][]string{"applications": {"a,b"}, "applications_admin": {"b"}}}); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if err := c.MapRoles(e.ctx, id, []model.Role{model.RoleDeveloper, model.RoleAdmin}, nil); err != nil {
		t.Fatalf("MapRoles add: %v", err)
	}
	if err := c.MapRoles(e.ctx, id, nil, []model.Role{model.RoleAdmin}); err != nil {
		t.Fatalf("MapRoles remove: %v", err)
	}
	u, ok, err := c.FindUser(e.ctx, "BOB")
	if err != nil || !ok || u.LastName != "Jones" || u.Attributes["applications"][0] != "a,b" {
		t.Errorf("FindUser(BOB) = %+v, %v, %v", u, ok, err)
	}
	if _, ok, err := c.FindUserByEmail(e.ctx, "bob@example.com"); !ok || err != nil {
		t.Errorf("FindUserByEmail = %v, %v", ok, err)
	}
	if _, ok, err := c.FindUser(e.ctx, "bo"); ok || err != nil {
		t.Errorf("FindUser(bo) = %v, %v; the lookup must be exact", ok, err)
	}
	created, err := c.ImportUsers(e.ctx, []model.UserImport{
		{User: model.NewUser{Username: "carol", Email: "carol@example.com", Enabled: true}, Roles: []model.Role{model.RoleDeveloper}},
		{User: model.NewUser{Username: "dan", Enabled: false}},
	})
	if err != nil || len(created) != 2 {
		t.Fatalf("ImportUsers = %v, %v", created, err)
	}
	if err := c.DeleteUser(e.ctx, created["dan"]); err != nil {
		t.Errorf("DeleteUser: %v", err)
	}
	live, err := c.ReadLive(e.ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range live.Users {
		got = append(got, fmt.Sprintf("%s %v", u.Username, u.Roles))
	}
	if want := []string{"bob [developer]", "carol [developer]"}; !cmp.Equal(got, want) {
		t.Errorf("users after the writes = %q, want %q", got, want)
	}
	for _, r := range live.Roles {
		if r.Name == "developer" && r.Description != "CodeMie user" {
			t.Errorf("developer's description = %q", r.Description)
		}
	}
}

// scenarioDoctor asks what `roster doctor` asks: the server's version, the permissions of the
// account, the user profile, and a service client of its own.
func scenarioDoctor(e *env) {
	t := e.t
	c := e.mustDial(nil)
	if _, err := c.ServerVersion(e.ctx); err != nil {
		t.Errorf("ServerVersion: %v", err)
	}
	for _, p := range allPermissions {
		held, err := c.Probe(e.ctx, p)
		if !held || err != nil {
			t.Errorf("Probe(%s) = %v, %v; want held", p, held, err)
		}
	}
	up, err := c.ReadUserProfile(e.ctx)
	if err != nil || up.Policy != model.PolicyAdminEdit || up.Attributes["email"].Edit == nil {
		t.Errorf("ReadUserProfile = %+v, %v", up, err)
	}
	roles, err := c.ReadRoles(e.ctx)
	if err != nil || !slices.ContainsFunc(roles, func(r model.RealmRole) bool { return r.Name == "developer" }) {
		t.Errorf("ReadRoles = %v, %v", roles, err)
	}
	sc, err := c.CreateServiceClient(e.ctx, "fixture-ci", "made by the fixture")
	if err != nil {
		t.Fatalf("CreateServiceClient: %v", err)
	}
	if found, ok, err := c.FindClient(e.ctx, "fixture-ci"); !ok || err != nil || found.ID != sc.ID {
		t.Errorf("FindClient = %+v, %v, %v", found, ok, err)
	}
	if secret, err := c.ClientSecret(e.ctx, sc.ID); secret == "" || err != nil {
		t.Errorf("ClientSecret = %q, %v", secret, err)
	}
	if err := c.GrantServiceAccountRoles(e.ctx, sc.ID, []keycloak.Permission{keycloak.ViewUsers, keycloak.ManageUsers}); err != nil {
		t.Fatalf("GrantServiceAccountRoles: %v", err)
	}
	perms, err := c.ServiceAccountRoles(e.ctx, sc.ID)
	slices.Sort(perms)
	if want := []keycloak.Permission{keycloak.ManageUsers, keycloak.ViewUsers}; err != nil || !cmp.Equal(perms, want) {
		t.Errorf("ServiceAccountRoles = %v, %v; want %v", perms, err, want)
	}
}

// scenarioCodeMieClient reads CodeMie's client with the mappers that reach it, and the claims
// Keycloak would put into a user's tokens through it.
func scenarioCodeMieClient(e *env) {
	t := e.t
	if e.live != nil {
		if _, err := e.live.CodeMieClient(e.ctx, "codemie", "codemie-attributes", false); err != nil {
			t.Fatal(err)
		}
		e.admin(http.MethodPost, "/partialImport", map[string]any{"ifResourceExists": "FAIL", "users": []map[string]any{{
			"username": "alice", "enabled": true, "realmRoles": []string{"developer"},
			"attributes": map[string][]string{"applications": {"proj-a", "proj-b"}, "applications_admin": {"proj-a"}}}}})
	}
	c := e.mustDial(nil)
	live, err := c.ReadLive(e.ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if live.Client == nil || live.Client.ClientID != "codemie" || !slices.Contains(live.Client.DefaultScopes, "codemie-attributes") {
		t.Fatalf("CodeMie's client = %+v", live.Client)
	}
	var claims []string
	for _, m := range live.Client.Mapping.Mappers {
		if m.Scope == "codemie-attributes" {
			claims = append(claims, m.Claim)
		}
	}
	if want := []string{"applications", "applications_admin", "user_type"}; !cmp.Equal(claims, want) {
		t.Errorf("claims mapped through codemie-attributes = %q, want %q", claims, want)
	}
	if len(live.Users) != 1 {
		t.Fatalf("users = %+v", live.Users)
	}
	ex, err := c.ExampleClaims(e.ctx, live.Client.ID, live.Users[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, claims := range map[string]map[string]any{"access token": ex.AccessToken, "ID token": ex.IDToken, "userinfo": ex.UserInfo} {
		if claims["preferred_username"] != "alice" || claims["applications"] != "proj-a" || claims["applications_admin"] != "proj-a" {
			t.Errorf("%s: %v", name, claims)
		}
	}
	_, err = c.ExampleClaims(e.ctx, live.Client.ID, "00000000-0000-0000-0000-000000000000")
	if !keycloak.IsNotFound(err) {
		t.Errorf("ExampleClaims for no such user: %v, want 404", err)
	}
}
