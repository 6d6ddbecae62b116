package doctor

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

var sa = keycloak.Principal{AuthRealm: "codemie", ClientID: "roster"}

func TestNeeds(t *testing.T) {
	perms := func(w Want) string {
		var s []string
		for _, n := range needs(w) {
			p := string(n.perm)
			if !n.required && !n.excess {
				p += "?"
			}
			if n.excess {
				p += "!"
			}
			s = append(s, p)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name string
		want Want
		perm string
	}{
		{"defaults", Defaults(),
			"view-users manage-users view-realm manage-realm view-clients manage-clients"},
		{"files without mappers", Want{ClientScope: "profile"},
			"view-users manage-users view-realm manage-realm view-clients?"},
		{"files with an identity provider", Want{ClientScope: "profile", MappersDeclared: true, IdentityProviders: []IdentityProvider{{Alias: "entra"}}},
			"view-users manage-users view-realm manage-realm view-clients manage-clients view-identity-providers manage-identity-providers"},
		{"plan, defaults", Want{Job: JobPlan, ClientScope: "profile", MappersDeclared: true},
			"view-users view-realm view-clients manage-users! manage-realm! manage-clients! manage-identity-providers!"},
		{"plan, files without mappers, with an identity provider", Want{Job: JobPlan, ClientScope: "profile", IdentityProviders: []IdentityProvider{{Alias: "entra"}}},
			"view-users view-realm view-clients? view-identity-providers manage-users! manage-realm! manage-clients! manage-identity-providers!"},
		{"access --verify", Want{Job: JobVerify, ClientScope: "profile", MappersDeclared: true},
			"view-users view-realm view-clients"},
	} {
		if got := perms(tc.want); got != tc.perm {
			t.Errorf("%s: needs = %s, want %s", tc.name, got, tc.perm)
		}
	}
}

func TestFromConfig(t *testing.T) {
	cfg := &model.Config{Files: []string{"a.yaml", "b.yaml"}, Realm: "codemie",
		Roles:             []model.RealmRole{{Name: "admin"}, {Name: "auditor"}, {Name: "developer"}},
		TokenMappers:      &model.TokenMappers{ClientScope: "codemie-claims", Attributes: []string{"applications"}},
		IdentityProviders: []model.IdentityProvider{{Alias: "entra"}}}
	want := Want{Files: []string{"a.yaml", "b.yaml"}, Config: cfg, Roles: []string{"admin", "auditor", "developer"},
		ClientScope: "codemie-claims", Attributes: []string{"applications"}, MappersDeclared: true,
		IdentityProviders: []IdentityProvider{{Alias: "entra"}}}
	if diff := cmp.Diff(want, FromConfig(cfg)); diff != "" {
		t.Errorf("FromConfig (-want +got):\n%s", diff)
	}
	// Without tokenMappers the defaults are checked, and roster does not manage them.
	bare := &model.Config{Files: []string{"a.yaml"}, Roles: []model.RealmRole{{Name: "admin"}, {Name: "developer"}}}
	got := FromConfig(bare)
	want = Want{Files: []string{"a.yaml"}, Config: bare, Roles: []string{"admin", "developer"}, ClientScope: "profile",
		Attributes: []string{"applications", "applications_admin", "user_type"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromConfig without tokenMappers (-want +got):\n%s", diff)
	}
}

func TestServerCheck(t *testing.T) {
	const url = "https://kc.example.com"
	for _, tc := range []struct {
		name       string
		version    string
		versionErr error
		noLogin    bool
		want       Check
	}{
		{"version", "26.7.3", nil, false, Check{Name: "server", Status: Pass, Detail: "Keycloak 26.7.3 answers at https://kc.example.com"}},
		{"old version", "23.0.7", nil, false, Check{Name: "server", Status: Warn,
			Detail: "Keycloak 23.0.7 answers at https://kc.example.com; roster is tested with Keycloak 24 to 26",
			Fix:    "upgrade Keycloak to 24 or newer"}},
		{"hidden version", "", nil, false, Check{Name: "server", Status: Pass,
			Detail: "Keycloak answers at https://kc.example.com; it shows its version only to master administrators and to holders of manage-realm"}},
		{"version refused", "", errors.New("GET /admin/serverinfo: 403 Forbidden"), false, Check{Name: "server", Status: Pass,
			Detail: "Keycloak answers at https://kc.example.com; its version could not be read: GET /admin/serverinfo: 403 Forbidden"}},
		{"no login", "", nil, true, Check{Name: "server", Status: Pass, Detail: "Keycloak answers at https://kc.example.com; its version needs a login"}},
	} {
		if diff := cmp.Diff(tc.want, serverCheck(url, tc.version, tc.versionErr, tc.noLogin)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestRealmCheck(t *testing.T) {
	forbidden := &keycloak.APIError{Method: "GET", Path: "", Status: 403, Message: "Forbidden"}
	for _, tc := range []struct {
		exists bool
		err    error
		want   Check
	}{
		{true, nil, Check{Name: "realm", Status: Pass, Detail: `realm "codemie" exists`}},
		{false, nil, Check{Name: "realm", Status: Fail, Detail: `realm "codemie" does not exist`,
			Fix: "create it (console: Manage realms → Create realm → Realm name codemie), or fix the realm name in the files or --realm"}},
		{false, forbidden, Check{Name: "realm", Status: Fail,
			Detail: `Keycloak refused to show realm "codemie" (403): the credentials hold no role of its realm-management client`,
			Fix:    "grant the roles the permission checks below name"}},
	} {
		if diff := cmp.Diff(tc.want, realmCheck("codemie", tc.exists, tc.err)); diff != "" {
			t.Errorf("exists %v, err %v (-want +got):\n%s", tc.exists, tc.err, diff)
		}
	}
}

func TestGrantFix(t *testing.T) {
	for _, tc := range []struct {
		p    keycloak.Principal
		want string
	}{
		{sa, "in the console, realm codemie: Clients → roster → Service account roles → Assign role → Client roles → realm-management view-users"},
		{keycloak.Principal{AuthRealm: "master", Username: "ops"},
			"in the console, realm master: Users → ops → Role mapping → Assign role → Client roles → codemie-realm view-users"},
		{keycloak.Principal{AuthRealm: "codemie", Username: "ops"},
			"in the console, realm codemie: Users → ops → Role mapping → Assign role → Client roles → realm-management view-users"},
	} {
		if got := grantFix("codemie", tc.p, keycloak.ViewUsers); got != tc.want {
			t.Errorf("grantFix(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestPermissionCheck(t *testing.T) {
	n := need{keycloak.ManageUsers, "apply creates and updates users", true, false}
	if diff := cmp.Diff(Check{Name: "permission manage-users", Status: Pass, Detail: "apply creates and updates users"},
		permissionCheck("codemie", sa, n, true, nil)); diff != "" {
		t.Errorf("held (-want +got):\n%s", diff)
	}
	want := Check{Name: "permission manage-users", Status: Fail,
		Detail: "missing: Keycloak refused POST /users (403); apply creates and updates users",
		Fix:    "in the console, realm codemie: Clients → roster → Service account roles → Assign role → Client roles → realm-management manage-users"}
	if diff := cmp.Diff(want, permissionCheck("codemie", sa, n, false, nil)); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	n.required = false
	want.Status = Warn
	if diff := cmp.Diff(want, permissionCheck("codemie", sa, n, false, nil)); diff != "" {
		t.Errorf("missing, not required (-want +got):\n%s", diff)
	}
	excess := need{perm: keycloak.ManageUsers, why: "a plan job needs no manage role", excess: true}
	want = Check{Name: "permission manage-users", Status: Warn,
		Detail: "held, and a plan job needs no manage role: credentials that can write, in a job that runs the code of " +
			"unreviewed pull requests, can change the realm before anyone reviews the change",
		Fix: "give plan jobs credentials holding only the view roles above, and keep manage-users for the apply job after review"}
	if diff := cmp.Diff(want, permissionCheck("codemie", sa, excess, true, nil)); diff != "" {
		t.Errorf("excess, held (-want +got):\n%s", diff)
	}
	want = Check{Name: "permission manage-users", Status: Pass, Detail: "not held: a plan job needs no manage role"}
	if diff := cmp.Diff(want, permissionCheck("codemie", sa, excess, false, nil)); diff != "" {
		t.Errorf("excess, not held (-want +got):\n%s", diff)
	}
}

func profile(policy model.Policy, attrs map[string]model.ProfileAttribute) model.UserProfile {
	return model.UserProfile{Policy: policy, Attributes: attrs}
}

func TestUserProfileCheck(t *testing.T) {
	files := Want{Files: []string{"roster.yaml"}}
	adminOnly := model.ProfileAttribute{View: []string{"admin"}, Edit: []string{"admin"}}
	policyFixFiles := "set settings.unmanagedAttributePolicy: ADMIN_EDIT in the files and run `roster apply roster.yaml`; " +
		"or in the console: Realm settings → General → Unmanaged Attributes → Only administrators can write"
	for _, tc := range []struct {
		name string
		up   model.UserProfile
		w    Want
		want Check
	}{
		{"ADMIN_EDIT", profile(model.PolicyAdminEdit, nil), files, Check{Name: "user profile", Status: Pass,
			Detail: "administrators can write applications, applications_admin, user_type, and users cannot " +
				"(unmanaged-attribute policy ADMIN_EDIT: only administrators may write undeclared attributes)"}},
		{"ENABLED", profile(model.PolicyEnabled, nil), files, Check{Name: "user profile", Status: Warn,
			Detail: "signed-in users can edit their own applications, applications_admin, user_type through the account API, " +
				"so a developer can make themselves Project Admin of any project " +
				"(unmanaged-attribute policy ENABLED: users and administrators may write undeclared attributes)",
			Fix: policyFixFiles}},
		{"DISABLED", profile(model.PolicyDisabled, nil), files, Check{Name: "user profile", Status: Fail,
			Detail: "administrators cannot write applications, applications_admin, user_type, so Keycloak drops what roster writes " +
				"(unmanaged-attribute policy DISABLED: Keycloak drops undeclared attributes)",
			Fix: policyFixFiles}},
		{"ADMIN_VIEW without files", profile(model.PolicyAdminView, nil), Want{}, Check{Name: "user profile", Status: Fail,
			Detail: "administrators cannot write applications, applications_admin, user_type, so Keycloak drops what roster writes " +
				"(unmanaged-attribute policy ADMIN_VIEW: administrators may only view undeclared attributes)",
			Fix: "declare settings.unmanagedAttributePolicy: ADMIN_EDIT in the files and run roster apply; " +
				"or in the console: Realm settings → General → Unmanaged Attributes → Only administrators can write"}},
		{"declared admin-only under DISABLED", profile(model.PolicyDisabled, map[string]model.ProfileAttribute{
			"applications": adminOnly, "applications_admin": adminOnly, "user_type": adminOnly}), files,
			Check{Name: "user profile", Status: Pass, Detail: "administrators can write applications, applications_admin, user_type, " +
				"and users cannot (declared in the user profile, editable by admin)"}},
		{"one declared user-editable", profile(model.PolicyAdminEdit, map[string]model.ProfileAttribute{
			"applications_admin": {Edit: []string{"admin", "user"}}}), files,
			Check{Name: "user profile", Status: Warn,
				Detail: "signed-in users can edit their own applications_admin through the account API, so a developer can make " +
					"themselves Project Admin of any project: applications, user_type (unmanaged-attribute policy ADMIN_EDIT: " +
					"only administrators may write undeclared attributes); applications_admin (declared in the user profile, " +
					"editable by admin and user)",
				Fix: policyFixFiles}},
		{"one declared without admin edit", profile(model.PolicyAdminEdit, map[string]model.ProfileAttribute{
			"user_type": {View: []string{"admin"}}}), files,
			Check{Name: "user profile", Status: Fail,
				Detail: "administrators cannot write user_type, so Keycloak drops what roster writes: applications, applications_admin " +
					"(unmanaged-attribute policy ADMIN_EDIT: only administrators may write undeclared attributes); " +
					"user_type (declared in the user profile, editable by nobody)",
				Fix: "in the console: Realm settings → User profile → user_type → Who can edit → Admin"}},
	} {
		if diff := cmp.Diff(tc.want, userProfileCheck(tc.up, nil, tc.w)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	forbidden := &keycloak.APIError{Method: "GET", Path: "/users/profile", Status: 403, Message: "Forbidden"}
	want := Check{Name: "user profile", Status: Skip, Detail: "not checked: Keycloak refused to show the user profile (403; see permission view-realm)"}
	if diff := cmp.Diff(want, userProfileCheck(model.UserProfile{}, forbidden, files)); diff != "" {
		t.Errorf("refused (-want +got):\n%s", diff)
	}
}

func TestRoleChecks(t *testing.T) {
	roles := []model.RealmRole{{Name: "admin"}, {Name: "offline_access"}}
	w := Want{Files: []string{"roster.yaml"}, Roles: []string{"admin", "developer", "auditor"}}
	want := []Check{
		{Name: "role admin", Status: Pass, Detail: `realm role "admin" exists`},
		{Name: "role developer", Status: Fail, Detail: `realm role "developer" does not exist: nobody can sign in to CodeMie as a standard user`,
			Fix: "run `roster apply roster.yaml` (it creates the roles the files declare); or in the console: Realm roles → Create role → Role name developer"},
		{Name: "role auditor", Status: Fail, Detail: `realm role "auditor" does not exist`,
			Fix: "run `roster apply roster.yaml` (it creates the roles the files declare); or in the console: Realm roles → Create role → Role name auditor"},
	}
	if diff := cmp.Diff(want, roleChecks(roles, nil, w)); diff != "" {
		t.Errorf("roleChecks (-want +got):\n%s", diff)
	}
	want = []Check{{Name: "role admin", Status: Fail, Detail: `realm role "admin" does not exist: nobody can be a CodeMie platform Admin`,
		Fix: "in the console: Realm roles → Create role → Role name admin"}}
	if diff := cmp.Diff(want, roleChecks(nil, nil, Want{Roles: []string{"admin"}})); diff != "" {
		t.Errorf("roleChecks without files (-want +got):\n%s", diff)
	}
}

// mapper is a correct mapper for attr.
func mapper(attr string) model.LiveTokenMapper {
	return model.LiveTokenMapper{Name: attr, ProtocolMapper: model.ProtocolMapperUserAttribute, Attribute: attr, Claim: attr,
		JSONType: "String", IDToken: true, AccessToken: true, UserInfo: true}
}

func TestMapperChecks(t *testing.T) {
	declared := Want{Files: []string{"roster.yaml"}, ClientScope: "profile", Attributes: []string{"applications"}, MappersDeclared: true}
	undeclared := declared
	undeclared.MappersDeclared = false
	multi := mapper("applications")
	multi.Name, multi.Multivalued = "apps", true
	projects := mapper("applications")
	projects.Name, projects.Claim = "projects", "projects"
	odd := model.LiveTokenMapper{Name: "apps", ProtocolMapper: "oidc-hardcoded-claim-mapper", Claim: "applications", JSONType: "JSON", IDToken: true}
	settings := "name, User Attribute and Token Claim Name applications, Claim JSON Type String, Multivalued off, " +
		"Add to ID token, access token and userinfo on"
	for _, tc := range []struct {
		name    string
		mappers []model.LiveTokenMapper
		w       Want
		want    Check
	}{
		{"right", []model.LiveTokenMapper{mapper("user_type"), mapper("applications")}, declared, Check{Name: "token mapper applications", Status: Pass,
			Detail: `mapper "applications" puts applications into ID token, access token and userinfo as one String claim`}},
		{"missing, declared", []model.LiveTokenMapper{mapper("user_type")}, declared, Check{Name: "token mapper applications", Status: Fail,
			Detail: `client scope "profile" has no User Attribute mapper for applications: tokens carry no applications claim, so CodeMie sees no projects`,
			Fix: "run `roster apply roster.yaml` (it creates the mapper); or in the console: Client scopes → profile → Mappers → Add mapper → " +
				"By configuration → User Attribute: " + settings}},
		{"missing, undeclared", nil, undeclared, Check{Name: "token mapper applications", Status: Fail,
			Detail: `client scope "profile" has no User Attribute mapper for applications: tokens carry no applications claim, so CodeMie sees no projects`,
			Fix: "declare tokenMappers in the files and run roster apply; or in the console: Client scopes → profile → Mappers → Add mapper → " +
				"By configuration → User Attribute: " + settings}},
		{"multivalued", []model.LiveTokenMapper{multi}, declared, Check{Name: "token mapper applications", Status: Fail,
			Detail: `mapper "apps" of client scope "profile" is wrong: it is multivalued (a JSON array, where CodeMie reads one comma-joined string)`,
			Fix:    "run `roster apply roster.yaml` (it creates or corrects the mapper); or in the console: Client scopes → profile → Mappers → apps: " + settings}},
		{"another kind of mapper, undeclared", []model.LiveTokenMapper{odd}, undeclared, Check{Name: "token mapper applications", Status: Fail,
			Detail: `mapper "apps" of client scope "profile" is wrong: it is a oidc-hardcoded-claim-mapper mapper, not a User Attribute mapper; ` +
				`its claim JSON type is "JSON", not String; it is not added to the access token, userinfo`,
			Fix: "in the console: Client scopes → profile → Mappers → apps: " + settings}},
		{"right and wrong", []model.LiveTokenMapper{mapper("applications"), multi}, declared, Check{Name: "token mapper applications", Status: Warn,
			Detail: `mapper "applications" is right, but mapper "apps" also writes claim applications ` +
				`(it is multivalued (a JSON array, where CodeMie reads one comma-joined string)): tokens may carry either`,
			Fix: "in the console: Client scopes → profile → Mappers → apps → Delete"}},
		{"right, and another reading the attribute into another claim", []model.LiveTokenMapper{mapper("applications"), projects}, declared,
			Check{Name: "token mapper applications", Status: Pass,
				Detail: `mapper "applications" puts applications into ID token, access token and userinfo as one String claim`}},
		{"only into another claim", []model.LiveTokenMapper{projects}, declared, Check{Name: "token mapper applications", Status: Fail,
			Detail: `mapper "projects" of client scope "profile" is wrong: its claim name is "projects", not "applications"`,
			Fix:    "run `roster apply roster.yaml` (it creates or corrects the mapper); or in the console: Client scopes → profile → Mappers → projects: " + settings}},
	} {
		got := mapperChecks(&model.LiveClientScope{Name: "profile", Mappers: tc.mappers}, nil, true, tc.w)
		if diff := cmp.Diff([]Check{tc.want}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}

	want := []Check{{Name: "client scope profile", Status: Fail,
		Detail: `client scope "profile" does not exist, so no token carries CodeMie's attributes`,
		Fix:    "in the console: Client scopes → Create client scope → Name profile, Type Default; then add it to CodeMie's client (Clients → codemie → Client scopes → Add client scope)"}}
	if diff := cmp.Diff(want, mapperChecks(nil, nil, true, declared)); diff != "" {
		t.Errorf("no scope (-want +got):\n%s", diff)
	}
	// With query-clients alone Keycloak lists no client scopes: not "missing", but unchecked.
	want = []Check{{Name: "token mappers", Status: Skip, Detail: "not checked: the credentials cannot read client scopes (see permission view-clients)"}}
	if diff := cmp.Diff(want, mapperChecks(nil, nil, false, declared)); diff != "" {
		t.Errorf("cannot view (-want +got):\n%s", diff)
	}
}

func TestIdentityProviderChecks(t *testing.T) {
	yes, no := true, false
	w := Want{Files: []string{"roster.yaml"}, IdentityProviders: []IdentityProvider{
		{Alias: "entra"}, {Alias: "okta"}, {Alias: "google"}, {Alias: "github", Enabled: &yes}, {Alias: "old", Enabled: &no}}}
	idps := []model.LiveIdentityProvider{{Alias: "entra", Enabled: true}, {Alias: "okta"}, {Alias: "github"}, {Alias: "old"}}
	want := []Check{
		{Name: "identity provider entra", Status: Pass, Detail: `identity provider "entra" exists and is enabled`},
		{Name: "identity provider okta", Status: Fail, Detail: `identity provider "okta" is disabled: the login page does not offer it`,
			Fix: "declare enabled: true for okta in the files and run roster apply; or in the console: Identity providers → okta → Enabled on"},
		{Name: "identity provider google", Status: Fail, Detail: `identity provider "google" does not exist: nobody can sign in through it`,
			Fix: "run `roster apply roster.yaml` (it creates the identity providers the files declare)"},
		{Name: "identity provider github", Status: Fail, Detail: `identity provider "github" is disabled: the login page does not offer it`,
			Fix: "run `roster apply roster.yaml` (the files enable it); or in the console: Identity providers → github → Enabled on"},
		{Name: "identity provider old", Status: Pass, Detail: `identity provider "old" exists, and is disabled as the files declare`},
	}
	if diff := cmp.Diff(want, identityProviderChecks(idps, nil, w)); diff != "" {
		t.Errorf("identityProviderChecks (-want +got):\n%s", diff)
	}
}

func TestClockCheck(t *testing.T) {
	sent := time.Date(2026, 1, 2, 3, 4, 5, 100_000_000, time.UTC)
	// reading is a login with a 200 ms round trip, the token issued 100 ms in, when the server's
	// clock is skew ahead; the server truncates its time to the second.
	reading := func(skew time.Duration) keycloak.ClockReading {
		return keycloak.ClockReading{Sent: sent, Received: sent.Add(200 * time.Millisecond),
			Server: sent.Add(100 * time.Millisecond).Add(skew).Truncate(time.Second)}
	}
	ntp := "synchronise both clocks with NTP (e.g. timedatectl set-ntp true, or chrony)"
	agree := Check{Name: "clock", Status: Pass, Detail: "the server's clock and this machine's agree, to within a second plus the login's round trip"}
	for _, tc := range []struct {
		skew time.Duration
		want Check
	}{
		{0, agree},
		{600 * time.Millisecond, agree},
		{800 * time.Millisecond, Check{Name: "clock", Status: Pass, Detail: "the server's clock is at least 700ms ahead of this machine's (under 5s)"}},
		{-200 * time.Millisecond, agree},
		{-500 * time.Millisecond, Check{Name: "clock", Status: Pass, Detail: "the server's clock is at least 100ms behind this machine's (under 5s)"}},
		{3 * time.Second, Check{Name: "clock", Status: Pass, Detail: "the server's clock is at least 2.7s ahead of this machine's (under 5s)"}},
		{-10 * time.Second, Check{Name: "clock", Status: Warn,
			Detail: "the server's clock is at least 9.1s behind this machine's: tokens carry issue and expiry times, and master's access tokens live 1m0s",
			Fix:    ntp}},
		{2 * time.Minute, Check{Name: "clock", Status: Fail,
			Detail: "the server's clock is at least 1m59.7s ahead of this machine's: tokens carry issue and expiry times, and master's access tokens live 1m0s",
			Fix:    ntp}},
	} {
		if diff := cmp.Diff(tc.want, clockCheck(reading(tc.skew))); diff != "" {
			t.Errorf("skew %s (-want +got):\n%s", tc.skew, diff)
		}
	}
	if got := clockCheck(keycloak.ClockReading{}); got.Status != Skip {
		t.Errorf("no issue time: %+v", got)
	}
}

// fakeTarget answers Run from fields.
type fakeTarget struct {
	pingErr, loginErr error
	exists            bool
	held              map[keycloak.Permission]bool
	profile           model.UserProfile
	roles             []model.RealmRole
	grants            []keycloak.IndirectGrant
	scope             *model.LiveClientScope
	client            *model.LiveCodeMieClient
	idps              []model.LiveIdentityProvider
	live              *model.Live
	claims            map[string]keycloak.ExampleClaims
}

func (f *fakeTarget) URL() string                                   { return "https://kc.example.com" }
func (f *fakeTarget) Realm() string                                 { return "codemie" }
func (f *fakeTarget) Principal() keycloak.Principal                 { return sa }
func (f *fakeTarget) Ping(context.Context) error                    { return f.pingErr }
func (f *fakeTarget) ServerVersion(context.Context) (string, error) { return "26.7.3", nil }
func (f *fakeTarget) RealmExists(context.Context) (bool, error)     { return f.exists, nil }
func (f *fakeTarget) Login(context.Context) (keycloak.ClockReading, error) {
	now := time.Now()
	return keycloak.ClockReading{Sent: now, Received: now, Server: now.Truncate(time.Second)}, f.loginErr
}
func (f *fakeTarget) Probe(_ context.Context, p keycloak.Permission) (bool, error) {
	return f.held[p], nil
}
func (f *fakeTarget) ReadUserProfile(context.Context) (model.UserProfile, error) {
	return f.profile, nil
}
func (f *fakeTarget) ReadIndirectGrants(context.Context, []string) (keycloak.IndirectGrants, error) {
	return keycloak.IndirectGrants{Grants: f.grants}, nil
}
func (f *fakeTarget) ReadRoles(context.Context) ([]model.RealmRole, error) { return f.roles, nil }
func (f *fakeTarget) ReadClientScope(context.Context, string) (*model.LiveClientScope, error) {
	return f.scope, nil
}
func (f *fakeTarget) ReadCodeMieClient(context.Context) (*model.LiveCodeMieClient, string, error) {
	return f.client, "", nil
}
func (f *fakeTarget) ReadIdentityProviders(context.Context) ([]model.LiveIdentityProvider, error) {
	return f.idps, nil
}
func (f *fakeTarget) ReadLive(context.Context, keycloak.ReadOptions) (*model.Live, error) {
	live := *f.live
	live.Client = f.client
	return &live, nil
}
func (f *fakeTarget) ReadClientScopes(context.Context) ([]model.LiveClientScope, error) {
	return []model.LiveClientScope{*f.scope}, nil
}
func (f *fakeTarget) ExampleClaims(_ context.Context, _, userID string) (keycloak.ExampleClaims, error) {
	return f.claims[userID], nil
}

// ready is a realm that passes every check of Defaults plus identity provider entra.
func ready() *fakeTarget {
	held := map[keycloak.Permission]bool{}
	for _, p := range []keycloak.Permission{keycloak.ViewUsers, keycloak.ManageUsers, keycloak.ViewRealm, keycloak.ManageRealm,
		keycloak.ViewClients, keycloak.ManageClients, keycloak.ViewIdentityProviders, keycloak.ManageIdentityProviders} {
		held[p] = true
	}
	return &fakeTarget{exists: true, held: held, profile: profile(model.PolicyAdminEdit, nil),
		roles: []model.RealmRole{{Name: "admin"}, {Name: "developer"}},
		scope: &model.LiveClientScope{Name: "profile", Mappers: []model.LiveTokenMapper{
			mapper("applications"), mapper("applications_admin"), mapper("user_type")}},
		idps: []model.LiveIdentityProvider{{Alias: "entra", Enabled: true}},
		live: &model.Live{Realm: "codemie", Policy: model.PolicyAdminEdit, Users: []model.LiveUser{{ID: "id-bob", Username: "bob",
			Enabled: true, Roles: []model.Role{model.RoleDeveloper}, Attributes: map[string][]string{"applications": {"a"}}}}},
		client: &model.LiveCodeMieClient{ID: "c", ClientID: "codemie", DefaultScopes: []string{"profile", "roles"},
			Mapping: model.RecommendedMapping()},
		claims: map[string]keycloak.ExampleClaims{"id-bob": {
			AccessToken: map[string]any{"realm_access": map[string]any{"roles": []any{"developer"}}, "applications": "a"},
			IDToken:     map[string]any{"applications": "a"}, UserInfo: map[string]any{"applications": "a"}}},
	}
}

// summary is "status name" per check.
func summary(r Report) []string {
	var s []string
	for _, c := range r.Checks {
		s = append(s, string(c.Status)+" "+c.Name)
	}
	return s
}

func TestRun(t *testing.T) {
	ctx := context.Background()
	w := Defaults()
	w.Files, w.IdentityProviders = []string{"roster.yaml"}, []IdentityProvider{{Alias: "entra"}}
	all := []string{"pass server", "pass login", "pass realm",
		"pass permission view-users", "pass permission manage-users", "pass permission view-realm", "pass permission manage-realm",
		"pass permission view-clients", "pass permission manage-clients",
		"pass permission view-identity-providers", "pass permission manage-identity-providers",
		"pass user profile", "pass role admin", "pass role developer", "pass role grants",
		"pass token mapper applications", "pass token mapper applications_admin", "pass token mapper user_type", "pass client codemie",
		"pass identity provider entra", "pass tokens", "pass clock"}

	r := Run(ctx, ready(), w)
	if diff := cmp.Diff(all, summary(r)); diff != "" || r.Failed() || r.Unreachable {
		t.Errorf("ready realm: failed %v, unreachable %v (-want +got):\n%s", r.Failed(), r.Unreachable, diff)
	}

	// A missing role fails its own check and no other.
	f := ready()
	f.held[keycloak.ManageRealm] = false
	f.roles = f.roles[:1]
	r = Run(ctx, f, w)
	want := append([]string(nil), all...)
	want[6], want[13] = "fail permission manage-realm", "fail role developer"
	if diff := cmp.Diff(want, summary(r)); diff != "" || !r.Failed() || r.Unreachable {
		t.Errorf("broken realm: failed %v, unreachable %v (-want +got):\n%s", r.Failed(), r.Unreachable, diff)
	}

	// A role granted through a group warns; without view-users the check is skipped.
	f = ready()
	f.grants = []keycloak.IndirectGrant{{Role: "developer", Via: `group "/devs"`}}
	r = Run(ctx, f, w)
	if c := r.Checks[14]; c.Name != "role grants" || c.Status != Warn ||
		!strings.HasPrefix(c.Detail, `the realm also grants developer through group "/devs": roster reads only the users a role is mapped to`) {
		t.Errorf("a role through a group: %+v", c)
	}
	f.held[keycloak.ViewRealm] = false
	if c := Run(ctx, f, w).Checks[14]; c.Name != "role grants" || c.Status != Skip {
		t.Errorf("a role through a group, without view-realm: %+v", c)
	}

	f = ready()
	f.pingErr = &keycloak.ConnError{Op: "reach https://kc.example.com", Err: errors.New("connection refused")}
	r = Run(ctx, f, w)
	wantChecks := []Check{
		{Name: "server", Status: Fail, Detail: "no answer from https://kc.example.com: connection refused",
			Fix: "check --server or KEYCLOAK_URL, that Keycloak is running, and that this machine can reach it (proxy, firewall; --ca-file for a private certificate authority)"},
		{Name: "clock", Status: Skip, Detail: "not checked: the server did not answer"},
	}
	if diff := cmp.Diff(wantChecks, r.Checks); diff != "" || !r.Unreachable {
		t.Errorf("unreachable: Unreachable %v (-want +got):\n%s", r.Unreachable, diff)
	}

	f = ready()
	f.loginErr = &keycloak.ConnError{Op: `log in to realm "codemie" as client "roster"`, Err: errors.New("401 Unauthorized"),
		Hint: "check the credentials, and that the login realm is right (--auth-realm)"}
	r = Run(ctx, f, w)
	wantChecks = []Check{
		{Name: "server", Status: Pass, Detail: "Keycloak answers at https://kc.example.com; its version needs a login"},
		{Name: "login", Status: Fail, Detail: `failed to log in to realm "codemie" as client "roster": 401 Unauthorized`,
			Fix: "check the credentials, and that the login realm is right (--auth-realm)"},
		{Name: "realm", Status: Skip, Detail: "not checked: roster could not log in"},
		{Name: "permissions", Status: Skip, Detail: "not checked: roster could not log in"},
		{Name: "user profile", Status: Skip, Detail: "not checked: roster could not log in"},
		{Name: "realm roles", Status: Skip, Detail: "not checked: roster could not log in"},
		{Name: "token mappers", Status: Skip, Detail: "not checked: roster could not log in"},
		{Name: "CodeMie's client", Status: Skip, Detail: "not checked: roster could not log in"},
		{Name: "identity providers", Status: Skip, Detail: "not checked: roster could not log in"},
		{Name: "tokens", Status: Skip, Detail: "not checked: roster could not log in"},
		{Name: "clock", Status: Skip, Detail: "not checked: doctor reads the server's clock off a token's issue time, and roster could not log in"},
	}
	if diff := cmp.Diff(wantChecks, r.Checks); diff != "" || !r.Unreachable {
		t.Errorf("login refused: Unreachable %v (-want +got):\n%s", r.Unreachable, diff)
	}

	// Something answers, but not Keycloak at this URL: the server check fails with the fix.
	f = ready()
	f.loginErr = &keycloak.ConnError{Op: "reach Keycloak at https://kc.example.com/admin",
		Err:  errors.New("the URL ends in /admin, a path of Keycloak's Admin API, which roster adds itself"),
		Hint: "set --server or KEYCLOAK_URL to https://kc.example.com, the server's base URL", BadURL: true}
	r = Run(ctx, f, w)
	if got := r.Checks[0]; got.Status != Fail || got.Fix != f.loginErr.(*keycloak.ConnError).Hint ||
		got.Detail != "https://kc.example.com: the URL ends in /admin, a path of Keycloak's Admin API, which roster adds itself" {
		t.Errorf("bad URL: server check %+v", got)
	}
	for _, c := range r.Checks[1:] {
		if c.Status != Skip || c.Detail != "not checked: the server URL is wrong" {
			t.Errorf("bad URL: %+v", c)
		}
	}
	if !r.Unreachable {
		t.Errorf("bad URL: not Unreachable")
	}

	f = ready()
	f.exists = false
	r = Run(ctx, f, w)
	want = []string{"pass server", "pass login", "fail realm", "skip permissions", "skip user profile", "skip realm roles",
		"skip token mappers", "skip CodeMie's client", "skip identity providers", "skip tokens", "pass clock"}
	if diff := cmp.Diff(want, summary(r)); diff != "" || r.Unreachable {
		t.Errorf("no realm (-want +got):\n%s", diff)
	}
}

func TestTokenChecks(t *testing.T) {
	ctx := context.Background()
	held := map[keycloak.Permission]bool{keycloak.ViewUsers: true, keycloak.ViewRealm: true, keycloak.ViewClients: true}
	f := ready()
	want := []Check{
		{Name: "tokens", Status: Pass, Detail: `the tokens client "codemie" issues to 1 user (Regular User) make CodeMie grant what roster reads in the realm`},
	}
	if diff := cmp.Diff(want, tokenChecks(ctx, f, Defaults(), held)); diff != "" {
		t.Errorf("ready (-want +got):\n%s", diff)
	}

	// The applications mapper is gone: the tokens carry no projects, and the cause says why.
	f.client.Mapping.Mappers = slices.DeleteFunc(f.client.Mapping.Mappers, func(m model.LiveTokenMapper) bool { return m.Claim == "applications" })
	f.scope.Mappers = f.scope.Mappers[1:]
	for _, c := range f.claims {
		delete(c.AccessToken, "applications")
		delete(c.IDToken, "applications")
		delete(c.UserInfo, "applications")
	}
	cfg := &model.Config{Files: []string{"roster.yaml"}, Users: []model.User{{Username: "bob",
		Access: model.Access{Role: model.RoleDeveloper, Projects: []string{"a"}}}}}
	got := tokenChecks(ctx, f, FromConfig(cfg), held)
	if len(got) != 1 || got[0].Name != "tokens bob" || got[0].Status != Fail ||
		got[0].Detail != "the files say Regular User (a); the access token, ID token and userinfo make CodeMie grant Regular User (no projects); "+
			"cause: no client scope has a User Attribute mapper that puts applications into claim applications, so the tokens never carry it" ||
		!strings.HasPrefix(got[0].Fix, "declare tokenMappers in the files") {
		t.Errorf("mapper missing: %+v", got)
	}

	f.client = nil
	want = []Check{{Name: "tokens", Status: Skip, Detail: `not checked: the realm has no client "codemie" to issue them (see client codemie)`}}
	if diff := cmp.Diff(want, tokenChecks(ctx, f, Defaults(), held)); diff != "" {
		t.Errorf("no client (-want +got):\n%s", diff)
	}

	want = []Check{{Name: "tokens", Status: Skip, Detail: "not checked: the credentials cannot read clients (see permission view-clients)"}}
	if diff := cmp.Diff(want, tokenChecks(ctx, f, Defaults(), map[keycloak.Permission]bool{keycloak.ViewUsers: true})); diff != "" {
		t.Errorf("no view-clients (-want +got):\n%s", diff)
	}
}

// TestClientChecks reads CodeMie's client through the model of CodeMie's reading: a missing
// client, and one whose default scopes carry no attribute mapper, fail with the fix.
func TestClientChecks(t *testing.T) {
	w := Defaults()
	got := clientChecks(nil, "", nil, true, w)
	if len(got) != 1 || got[0].Status != Fail || !strings.Contains(got[0].Detail, `the realm has no client "codemie"`) {
		t.Errorf("no client: %+v", got)
	}
	bare := &model.LiveCodeMieClient{ClientID: "codemie", DefaultScopes: []string{"profile", "roles"},
		Mapping: model.TokenMapping{Mappers: model.RecommendedMapping().Mappers[:1]}} // the realm roles only
	var names []string
	for _, c := range clientChecks(bare, "", nil, true, w) {
		names = append(names, string(c.Status)+" "+c.Name)
	}
	want := []string{"fail client codemie: applications", "fail client codemie: applications_admin", "fail client codemie: user_type"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("client without attribute mappers (-want +got):\n%s", diff)
	}
	if got := clientChecks(nil, "roster may not read clients", nil, true, w); len(got) != 1 || got[0].Status != Skip {
		t.Errorf("unread client: %+v", got)
	}

	// A client whose scope takes in developer only: admin fails; without view-realm, Keycloak
	// shows no role in the scope, so the check is skipped rather than failed.
	scoped := &model.LiveCodeMieClient{ClientID: "codemie", DefaultScopes: []string{"profile", "roles"},
		Mapping: model.RecommendedMapping()}
	scoped.Mapping.Scoped, scoped.Mapping.Scope = true, []string{"developer"}
	for _, tc := range []struct {
		viewRealm bool
		want      []string
	}{
		{true, []string{"fail client codemie: realm_access.roles"}},
		{false, []string{"skip client codemie: scope"}},
	} {
		names = nil
		for _, c := range clientChecks(scoped, "", nil, tc.viewRealm, w) {
			names = append(names, string(c.Status)+" "+c.Name)
		}
		if diff := cmp.Diff(tc.want, names); diff != "" {
			t.Errorf("scoped client, view-realm %v (-want +got):\n%s", tc.viewRealm, diff)
		}
	}
}
