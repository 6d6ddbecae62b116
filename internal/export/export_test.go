package export

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/schema"
)

func testLive() *model.Live {
	return &model.Live{
		Realm:  "r",
		Policy: model.PolicyAdminEdit,
		Roles:  []model.RealmRole{{Name: "admin", Description: "CodeMie admin"}, {Name: "developer"}, {Name: "offline_access"}},
		Users: []model.LiveUser{
			{Username: "alice", Email: "alice@example.com", Enabled: true, Roles: []model.Role{model.RoleAdmin}},
			{Username: "bob", FirstName: "017", LastName: "yes", Enabled: false, Roles: []model.Role{model.RoleDeveloper},
				Attributes: map[string][]string{
					"applications": {"Pay , search", "codemie"}, "applications_admin": {"pay"},
					"user_type": {"external"}, "department": {"R&D", "Ops"}, "note": {" "}, "roster_managed": {"true"},
				},
				FederatedIdentities: []model.FederatedIdentity{{Provider: "entra", UserID: "1", UserName: "bob@x"}}},
			{Username: "gina", Enabled: true, Attributes: map[string][]string{"applications": {"codemie"}}},
			{Username: "ldap-user", Enabled: true, Roles: []model.Role{model.RoleDeveloper}, FederationLink: "ldap"},
			{Username: "service-account-roster", Enabled: true},
		},
		Identity: "service-account-roster",
	}
}

func TestSingle(t *testing.T) {
	e := Build(testLive(), Options{Server: "http://kc", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Adopt: true})
	got, err := e.Single()
	if err != nil {
		t.Fatal(err)
	}
	want := `# Exported by roster from realm "r" at http://kc on 2026-01-02T03:04:05Z.
# 2 users exported.
# Left out: 1 service account; 1 user from user storage (LDAP, …), which roster never changes.
# Left out: 1 user without the admin or developer role, who cannot sign in to CodeMie.
# Declaring one would grant access (the format requires a role); add them only on purpose:
#   gina
# --adopt: every user declares roster_managed: ["true"]; the next apply marks them as owned by roster.
version: 1
realm: r
settings:
  unmanagedAttributePolicy: ADMIN_EDIT
roles:
  - name: admin
    description: CodeMie admin
  - name: developer
users:
  - username: alice # Admin
    email: alice@example.com
    role: admin
    attributes:
      roster_managed: ["true"]
  - # warning: CodeMie reads "cannot sign in (disabled)" today, the export declares what it would read as "cannot sign in (disabled)": an administered project is missing from applications; apply adds it there; project names with upper case are exported lowercase, which CodeMie reads as other projects
    # attribute "note" is not exported: it has a blank value
    username: bob # cannot sign in (disabled)
    firstName: "017"
    lastName: "yes"
    enabled: false
    role: developer
    external: true
    projects: {admin: [pay], member: [search]}
    attributes:
      department: [R&D, Ops]
      roster_managed: ["true"]
    federatedIdentities:
      - {provider: entra, userId: "1", userName: bob@x}
`
	if string(got) != want {
		t.Errorf("Single:\n%s\nwant:\n%s", got, want)
	}
	if _, diags := schema.LoadFiles([]schema.File{{Name: "x.yaml", Data: got}}, schema.Options{}); diags.HasErrors() {
		t.Errorf("the export does not load:\n%v", diags)
	}
}

func TestSplitAndFilters(t *testing.T) {
	e := Build(testLive(), Options{Roles: []model.Role{model.RoleDeveloper}, Projects: []string{"search"}})
	if len(e.Users) != 1 || e.Users[0].Live.Username != "bob" || e.NotSelected != 1 {
		t.Fatalf("selected %d users, %d not selected; want bob alone and 1 not selected", len(e.Users), e.NotSelected)
	}
	files, err := Build(testLive(), Options{}).Split()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var in []schema.File
	for _, f := range files {
		names = append(names, f.Name)
		in = append(in, schema.File{Name: f.Name, Data: f.Data})
	}
	if got, want := names, []string{"admins.yaml", "project-pay.yaml", "realm.yaml"}; !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	cfg, diags := schema.LoadFiles(in, schema.Options{})
	if diags.HasErrors() {
		t.Fatalf("the split export does not load:\n%v", diags)
	}
	if len(cfg.Users) != 2 {
		t.Errorf("loaded %d users, want 2", len(cfg.Users))
	}
}

// TestIdentityProviders exports an Entra ID provider as its tenant, another with explicit
// endpoints, and names what it leaves out; the result loads, and loads back to the same
// endpoints.
func TestIdentityProviders(t *testing.T) {
	const tenant = "00000000-0000-0000-0000-000000000001"
	ee := model.EntraEndpoints(tenant)
	live := &model.Live{Realm: "r", Policy: model.PolicyAdminEdit, IdentityProviders: []model.LiveIdentityProvider{
		{Alias: "entra-id", DisplayName: "Entra", Enabled: true, ProviderID: "oidc", ClientID: "app",
			Endpoints: ee, DefaultScope: "openid email", SyncMode: "IMPORT",
			Mappers: []model.LiveIdentityProviderMapper{
				{Name: "dept", Type: model.IdPMapperAttributeImporter, Claim: "department", Attribute: "department", SyncMode: "INHERIT"},
				{Name: "dev", Type: model.IdPMapperHardcodedRole, Role: "developer", SyncMode: "IMPORT"},
				{Name: "groups", Type: "oidc-advanced-group-idp-mapper"},
			}},
		{Alias: "github", ProviderID: "github", Enabled: true},
		{Alias: "partner", ProviderID: "oidc", Enabled: false, ClientID: "p",
			Endpoints: model.Endpoints{AuthorizationURL: "https://p/auth", TokenURL: "https://p/token"}},
	}}
	got, err := Build(live, Options{Server: "http://kc", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}).Single()
	if err != nil {
		t.Fatal(err)
	}
	want := `# Exported by roster from realm "r" at http://kc on 2026-01-02T03:04:05Z.
# 0 users exported.
version: 1
realm: r
settings:
  unmanagedAttributePolicy: ADMIN_EDIT
# Not exported:
# identity provider github (github): roster manages OpenID Connect providers only
identityProviders:
  - alias: entra-id
    displayName: Entra
    clientId: app # Keycloak does not show the secret: add clientSecret: {env: ROSTER_SECRET_<NAME>} to send it
    tenant: 00000000-0000-0000-0000-000000000001
    scopes: [openid, email]
    syncMode: IMPORT
    # Not exported:
    # mapper groups (oidc-advanced-group-idp-mapper): roster manages hardcoded-role and attribute-importer mappers only
    mappers:
      - {name: dept, type: attribute-importer, claim: department, attribute: department}
      - {name: dev, type: hardcoded-role, role: developer, syncMode: IMPORT}
  - alias: partner
    enabled: false
    clientId: p # Keycloak does not show the secret: add clientSecret: {env: ROSTER_SECRET_<NAME>} to send it
    authorizationUrl: https://p/auth
    tokenUrl: https://p/token
`
	if string(got) != want {
		t.Errorf("Single:\n%s\nwant:\n%s", got, want)
	}
	cfg, diags := schema.LoadFiles([]schema.File{{Name: "x.yaml", Data: got}}, schema.Options{})
	if diags.HasErrors() {
		t.Fatalf("the export does not load:\n%v", diags)
	}
	if cfg.IdentityProviders[0].Endpoints != ee {
		t.Errorf("entra-id loads back with endpoints %+v, want %+v", cfg.IdentityProviders[0].Endpoints, ee)
	}
}

// TestCodeMieSettingsRoundTrip exports a realm whose CodeMie reads other role names and another
// client: the export names them under settings.codemie, and the file loads with the same.
func TestCodeMieSettingsRoundTrip(t *testing.T) {
	live := testLive()
	live.CodeMie = model.CodeMie{AdminRole: "codemie-admin", DeveloperRole: "developer", ClientID: "ai-run"}
	live.Roles = []model.RealmRole{{Name: "codemie-admin"}, {Name: "developer"}}
	got, err := Build(live, Options{}).Single()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "  codemie:\n    adminRole: codemie-admin\n    clientId: ai-run\n") {
		t.Errorf("the export does not name CodeMie's settings:\n%s", got)
	}
	cfg, diags := schema.LoadFiles([]schema.File{{Name: "x.yaml", Data: got}}, schema.Options{})
	if diags.HasErrors() {
		t.Fatalf("the export does not load:\n%v", diags)
	}
	if cfg.Settings.CodeMie != live.CodeMie {
		t.Errorf("loaded settings.codemie %+v, want %+v", cfg.Settings.CodeMie, live.CodeMie)
	}
}

// TestUnreadRolesAreKept exports through a CodeMie client whose scope takes in developer only,
// and through one whose role mapper puts a prefix before every role: the users still hold their
// roles, so the export declares them, with a warning that CodeMie does not see them, rather than
// leaving them out as users without a role or lowering carol, who holds admin and developer, to
// developer: apply would turn either into taking a role away.
func TestUnreadRolesAreKept(t *testing.T) {
	scoped := model.RecommendedMapping()
	scoped.Scoped, scoped.Scope = true, []string{"developer"}
	prefixed := model.RecommendedMapping()
	prefixed.Mappers[0].Config = map[string]string{"usermodel.realmRoleMapping.rolePrefix": "kc-"}
	for _, tc := range []struct {
		name    string
		mapping model.TokenMapping
		want    []string
	}{
		{"scope", scoped, []string{
			`alice: admin: CodeMie reads "cannot sign in" today, the export declares what it would read as "cannot sign in": client "codemie" has Full scope allowed off, and no scope mapping of it or of its default client scopes takes in realm role admin: Keycloak leaves it out of the client's tokens, and CodeMie sees it for nobody`,
			`bob: developer: `,
			`carol: admin: CodeMie reads "Regular User (no projects)" today, the export declares what it would read as "cannot sign in": client "codemie" has Full scope allowed off, and no scope mapping of it or of its default client scopes takes in realm role admin: Keycloak leaves it out of the client's tokens, and CodeMie sees it for nobody`,
		}},
		{"prefix", prefixed, []string{
			`alice: admin: CodeMie reads "cannot sign in" today, the export declares what it would read as "cannot sign in": mapper "realm roles" (on the client) puts "kc-" before each realm role's name in the token (kc-developer): oauth2-proxy lets nobody into CodeMie`,
			`bob: developer: `,
			`carol: admin: CodeMie reads "cannot sign in" today, the export declares what it would read as "cannot sign in": mapper "realm roles" (on the client) puts "kc-" before each realm role's name in the token (kc-developer): oauth2-proxy lets nobody into CodeMie`,
		}},
	} {
		live := testLive()
		live.Users = append(live.Users, model.LiveUser{Username: "carol", Enabled: true, Roles: []model.Role{model.RoleAdmin, model.RoleDeveloper}})
		live.Client = &model.LiveCodeMieClient{ClientID: "codemie", Mapping: tc.mapping}
		e := Build(live, Options{})
		var got []string
		for _, u := range e.Users {
			line := u.Live.Username + ": " + string(u.Declared.Role) + ": "
			if u.Live.Username != "bob" { // bob's warning is about his projects
				line += u.Misread
			}
			got = append(got, line)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: exported users:\n%s\nwant:\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
		if !slices.Equal(e.NoRole, []string{"gina"}) {
			t.Errorf("%s: NoRole = %v, want [gina]", tc.name, e.NoRole)
		}
	}
}
