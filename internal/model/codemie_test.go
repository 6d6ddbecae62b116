package model

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClaimsFromToken(t *testing.T) {
	t.Parallel()
	var tok map[string]any
	if err := json.Unmarshal([]byte(`{"realm_access": {"roles": ["developer", "offline_access"]},
		"applications": ["a", "b,c"], "applications_admin": "b", "user_type": null, "other": 1}`), &tok); err != nil {
		t.Fatal(err)
	}
	want := Claims{
		RealmRoles:        Claim{Present: true, Value: []any{"developer", "offline_access"}},
		Applications:      Claim{Present: true, Value: []any{"a", "b,c"}},
		ApplicationsAdmin: Claim{Present: true, Value: "b"},
		UserType:          Claim{Present: true, Value: nil},
	}
	if diff := cmp.Diff(want, ClaimsFromToken(tok)); diff != "" {
		t.Errorf("ClaimsFromToken (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Claims{}, ClaimsFromToken(map[string]any{"realm_access": "x"})); diff != "" {
		t.Errorf("ClaimsFromToken of a token without the claims (-want +got):\n%s", diff)
	}
}

func TestTokenMappingClaims(t *testing.T) {
	t.Parallel()
	single := RecommendedMapping()
	multi := RecommendedMapping()
	for i := range multi.Mappers {
		multi.Mappers[i].Multivalued = true
	}
	attrs := map[string][]string{AttrApplications: {"proj-a", "proj-b,proj-c"}, AttrUserType: {"external", "regular"}}
	tests := []struct {
		name string
		tm   TokenMapping
		t    TokenType
		want Claims
	}{
		{"single-valued: the first value only", single, TokenAccess, Claims{
			RealmRoles:   Claim{Present: true, Value: []any{"developer"}},
			Applications: Claim{Present: true, Value: "proj-a"},
			UserType:     Claim{Present: true, Value: "external"},
		}},
		{"multivalued: every value, as a list", multi, TokenAccess, Claims{
			RealmRoles:   Claim{Present: true, Value: []any{"developer"}},
			Applications: Claim{Present: true, Value: []any{"proj-a", "proj-b,proj-c"}},
			UserType:     Claim{Present: true, Value: []any{"external", "regular"}},
		}},
		{"realm roles are not in userinfo", single, TokenUserInfo, Claims{
			Applications: Claim{Present: true, Value: "proj-a"},
			UserType:     Claim{Present: true, Value: "external"},
		}},
		{"no mappers: no claims", TokenMapping{}, TokenAccess, Claims{}},
		{"another claim name is not read", TokenMapping{Mappers: []LiveTokenMapper{{Name: "apps",
			ProtocolMapper: ProtocolMapperUserAttribute, Attribute: AttrApplications, Claim: "projects", AccessToken: true}}},
			TokenAccess, Claims{}},
		{"a JSON type other than String is not predicted", TokenMapping{Mappers: []LiveTokenMapper{{Name: "apps",
			ProtocolMapper: ProtocolMapperUserAttribute, Attribute: AttrApplications, Claim: AttrApplications,
			JSONType: "JSON", AccessToken: true}}},
			TokenAccess, Claims{Applications: Claim{Unknown: `mapper "apps" gives claim applications the JSON type JSON, not String`}}},
		{"two mappers for one claim are not predicted", TokenMapping{Mappers: []LiveTokenMapper{
			{Name: "a1", ProtocolMapper: ProtocolMapperUserAttribute, Attribute: AttrApplications, Claim: AttrApplications, AccessToken: true},
			{Name: "a2", ProtocolMapper: ProtocolMapperUserAttribute, Attribute: "other", Claim: AttrApplications, AccessToken: true}}},
			TokenAccess, Claims{Applications: Claim{Unknown: `mappers "a1", "a2" all fill claim applications`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.tm.Claims(tt.t, []string{"developer"}, attrs)); diff != "" {
				t.Errorf("Claims (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCodeMieRead(t *testing.T) {
	t.Parallel()
	dev := Claim{Present: true, Value: []any{"default-roles-x", "developer"}}
	str := func(s string) Claim { return Claim{Present: true, Value: s} }
	list := func(s ...any) Claim { return Claim{Present: true, Value: s} }
	tests := []struct {
		name string
		c    CodeMie
		in   Claims
		want Access
	}{
		{"no roles claim: cannot sign in", CodeMie{}, Claims{Applications: str("a")}, Access{Projects: []string{"a"}}},
		{"admin wins", CodeMie{}, Claims{RealmRoles: list("developer", "admin")}, Access{Role: RoleAdmin}},
		{"configured role names", CodeMie{AdminRole: "codemie-admin", DeveloperRole: "codemie-user"},
			Claims{RealmRoles: list("admin", "codemie-user")}, Access{Role: RoleDeveloper}},
		{"roles as a string are no roles", CodeMie{}, Claims{RealmRoles: str("admin")}, Access{}},
		{"split, trimmed, case kept, sorted, unique", CodeMie{}, Claims{RealmRoles: dev,
			Applications: list(" PROJ-D , ,b", "b", 7.0, "a")}, Access{Role: RoleDeveloper, Projects: []string{"PROJ-D", "a", "b"}}},
		{"admin-only project stays out of applications", CodeMie{}, Claims{RealmRoles: dev, Applications: str("a"),
			ApplicationsAdmin: str("b")}, Access{Role: RoleDeveloper, Projects: []string{"a"}, Admin: []string{"b"}}},
		{"a number reads as no project", CodeMie{}, Claims{RealmRoles: dev, Applications: Claim{Present: true, Value: 1.0}},
			Access{Role: RoleDeveloper}},
		{"user_type absent", CodeMie{}, Claims{RealmRoles: dev}, Access{Role: RoleDeveloper}},
		{"user_type null", CodeMie{}, Claims{RealmRoles: dev, UserType: Claim{Present: true}}, Access{Role: RoleDeveloper}},
		{"user_type regular", CodeMie{}, Claims{RealmRoles: dev, UserType: str(" Regular")}, Access{Role: RoleDeveloper}},
		{"user_type external, any case", CodeMie{}, Claims{RealmRoles: dev, UserType: str("EXTERNAL ")},
			Access{Role: RoleDeveloper, External: true}},
		{"user_type service_account", CodeMie{}, Claims{RealmRoles: dev, UserType: str("service_account")},
			Access{Role: RoleDeveloper, ServiceAccount: true}},
		{"user_type guest is refused", CodeMie{}, Claims{RealmRoles: dev, UserType: str("guest")},
			Access{Role: RoleDeveloper, Refused: `CodeMie refuses user_type "guest"`}},
		{"user_type empty is refused", CodeMie{}, Claims{RealmRoles: dev, UserType: str("")},
			Access{Role: RoleDeveloper, Refused: `CodeMie refuses user_type ""`}},
		{"user_type list is refused", CodeMie{}, Claims{RealmRoles: dev, UserType: list("external")},
			Access{Role: RoleDeveloper, Refused: `CodeMie refuses user_type ["external"]: not a string`}},
		{"unknown claim", CodeMie{}, Claims{RealmRoles: dev, Applications: Claim{Unknown: "why"}}, Access{Unknown: "why"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.c.Read(tt.in)); diff != "" {
				t.Errorf("Read (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadStoredRoundTripsWhatRosterWrites(t *testing.T) {
	t.Parallel()
	want := NewAccess(RoleDeveloper, true, Grants{Member: []string{"codemie"}, Admin: []string{"pay"}})
	got := CodeMie{}.ReadStored(RecommendedMapping(), []Role{want.Role}, want.Attributes(), true)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadStored(Attributes()) (-want +got):\n%s", diff)
	}
}

func TestMappingProblems(t *testing.T) {
	t.Parallel()
	attr := func(name, attribute, claim string, edit func(*LiveTokenMapper)) LiveTokenMapper {
		m := LiveTokenMapper{Name: name, Scope: "profile", ProtocolMapper: ProtocolMapperUserAttribute, Attribute: attribute,
			Claim: claim, JSONType: "String", IDToken: true, AccessToken: true, UserInfo: true}
		if edit != nil {
			edit(&m)
		}
		return m
	}
	tm := TokenMapping{Mappers: []LiveTokenMapper{
		attr("apps", "applications", "applications", nil),
		attr("apps2", "projects", "applications", func(m *LiveTokenMapper) { m.Scope = "" }),
		attr("type", "user_type", "user_type", func(m *LiveTokenMapper) { m.Multivalued, m.UserInfo = true, false }),
	}}
	var got []string
	for _, p := range tm.Problems("codemie", nil, []string{AttrApplications, AttrApplicationsAdmin, AttrUserType}) {
		got = append(got, fmt.Sprintf("%v %s %v: %s", p.Error, p.Claim, p.Missing, p.Problem))
	}
	want := []string{
		`true realm_access.roles true: no mapper puts the realm roles (realm_access.roles) into the access tokens of client "codemie": oauth2-proxy lets nobody into CodeMie`,
		`true applications false: mappers "apps" (client scope profile), "apps2" (on the client) all fill claim applications: which value the token carries is not defined`,
		`true applications false: mapper "apps2" (on the client) fills claim applications from user attribute "projects", not applications: CodeMie does not read what roster writes`,
		`true applications_admin true: no token mapper puts user attribute applications_admin into claim applications_admin of the access tokens of client "codemie": CodeMie reads Project Admin rights for nobody`,
		`true user_type false: mapper "type" (client scope profile) is multivalued: user_type becomes a JSON list, and CodeMie refuses the sign-in of every user who has one`,
		`false user_type false: mapper "type" (client scope profile) does not add claim user_type to userinfo: CodeMie reads claims from userinfo when it runs with IDP_PROVIDER=keycloak`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
	if p := RecommendedMapping().Problems("codemie", []string{"admin", "developer"}, []string{AttrApplications, AttrApplicationsAdmin, AttrUserType}); len(p) != 0 {
		t.Errorf("the recommended mapping has problems: %v", p)
	}
}

// TestScopedClient pins what a client with Full scope allowed off does to the realm roles: those
// outside its scope are left out of the tokens, and of what CodeMie reads, and Problems names them.
func TestScopedClient(t *testing.T) {
	t.Parallel()
	tm := RecommendedMapping()
	tm.Scoped, tm.Scope = true, []string{"developer", "offline_access"}
	cm := CodeMie{}
	for _, tc := range []struct {
		roles []Role
		want  Role
	}{
		{[]Role{RoleDeveloper}, RoleDeveloper},
		{[]Role{RoleAdmin}, ""}, // admin is out of scope: the token carries no role CodeMie knows
		{[]Role{RoleAdmin, RoleDeveloper}, RoleDeveloper},
	} {
		if got := cm.ReadStored(tm, tc.roles, nil, true).Role; got != tc.want {
			t.Errorf("a holder of %v through a scoped client reads as %q, want %q", tc.roles, got, tc.want)
		}
	}
	var got []string
	for _, p := range tm.Problems("codemie", []string{"admin", "developer"}, nil) {
		got = append(got, fmt.Sprintf("%v %s %v: %s | %s", p.Error, p.Claim, p.Missing, p.Problem, p.Fix))
	}
	want := []string{`true realm_access.roles false: client "codemie" has Full scope allowed off, and no scope mapping of it or of its default client scopes takes in realm role admin: Keycloak leaves it out of the client's tokens, and CodeMie sees it for nobody | ` +
		`turn Full scope allowed on for client "codemie", or assign it realm role admin (Clients → codemie → Client scopes → codemie-dedicated → Scope → Assign role)`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
	if p := tm.Problems("codemie", []string{"developer"}, nil); len(p) != 0 {
		t.Errorf("a scope holding every role used has problems: %v", p)
	}
}

// TestRolePrefix pins a realm-role mapper with a role prefix: the token names every role behind
// it, so CodeMie finds neither admin nor developer, and Problems says so.
func TestRolePrefix(t *testing.T) {
	t.Parallel()
	tm := RecommendedMapping()
	tm.Mappers[0].Config = map[string]string{"usermodel.realmRoleMapping.rolePrefix": "kc-"}
	if got := tm.Claims(TokenAccess, []string{"developer"}, nil).RealmRoles.Value; !cmp.Equal(got, []any{"kc-developer"}) {
		t.Errorf("realm_access.roles = %v, want [kc-developer]", got)
	}
	if got := (CodeMie{}).ReadStored(tm, []Role{RoleAdmin}, nil, true).Summary(); got != "cannot sign in" {
		t.Errorf("an admin through a prefixed mapper reads as %q, want cannot sign in", got)
	}
	var got []string
	for _, p := range tm.Problems("codemie", []string{"developer"}, nil) {
		got = append(got, fmt.Sprintf("%v %s: %s | %s", p.Error, p.Claim, p.Problem, p.Fix))
	}
	want := []string{`true realm_access.roles: mapper "realm roles" (on the client) puts "kc-" before each realm role's name in the token (kc-developer): oauth2-proxy lets nobody into CodeMie | clear the mapper's Realm Role prefix`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Problems (-want +got):\n%s", diff)
	}
}

// TestRoleClaimFromOtherMappers pins the realm roles claim filled otherwise than by one plain
// realm-role mapper: a JSON type other than String is unknown; a User Attribute mapper fills it
// from the attribute, so a user who can write it chooses their role; two mappers are unknown,
// and Problems blames neither.
func TestRoleClaimFromOtherMappers(t *testing.T) {
	t.Parallel()
	typed := RecommendedMapping()
	typed.Mappers[0].JSONType = "boolean"
	byAttribute := TokenMapping{Mappers: []LiveTokenMapper{{Name: "roles", ProtocolMapper: ProtocolMapperUserAttribute,
		Attribute: "my_roles", Claim: ClaimRealmRoles, Multivalued: true, AccessToken: true}}}
	two := RecommendedMapping()
	two.Mappers = append(two.Mappers, LiveTokenMapper{Name: "more roles", ProtocolMapper: ProtocolMapperRealmRoles,
		Claim: ClaimRealmRoles, Multivalued: true, AccessToken: true, Config: map[string]string{"usermodel.realmRoleMapping.rolePrefix": "kc-"}})
	attrs := map[string][]string{"my_roles": {"admin"}}
	for _, tc := range []struct {
		name     string
		tm       TokenMapping
		read     string
		problems int
	}{
		{"JSON type boolean", typed, "unknown: mapper \"realm roles\" gives claim realm_access.roles the JSON type boolean, not String", 1},
		{"attribute mapper", byAttribute, "Admin", 1},
		{"two mappers", two, "unknown: mappers \"realm roles\", \"more roles\" all fill claim realm_access.roles", 0},
	} {
		if got := (CodeMie{}).ReadStored(tc.tm, []Role{RoleDeveloper}, attrs, true).Summary(); got != tc.read {
			t.Errorf("%s: a developer reads as %q, want %q", tc.name, got, tc.read)
		}
		if p := roleMapperProblems(tc.tm.Carrying(ClaimRealmRoles, TokenAccess)); len(p) != tc.problems {
			t.Errorf("%s: role mapper problems %+v, want %d", tc.name, p, tc.problems)
		}
	}
}

// TestSingleValuedRoleMapper pins a realm-role mapper with Multivalued off: Keycloak puts one
// role in as a string, which CodeMie does not read as a role, and Problems says so.
func TestSingleValuedRoleMapper(t *testing.T) {
	t.Parallel()
	tm := RecommendedMapping()
	tm.Mappers[0].Multivalued = false
	if got := (CodeMie{}).ReadStored(tm, []Role{RoleDeveloper}, nil, true).Summary(); got != "cannot sign in" {
		t.Errorf("a developer through a single-valued role mapper reads as %q, want cannot sign in", got)
	}
	p := tm.Problems("codemie", []string{"developer"}, nil)
	if len(p) != 1 || !p[0].Error || !strings.Contains(p[0].Problem, `mapper "realm roles" (on the client) has Multivalued off`) {
		t.Errorf("Problems = %+v, want the single-valued role mapper", p)
	}
}

// TestCodeMieTokenMapper pins the one token mapper CodeMie needs per attribute, and that its
// typed fields are read from the configuration the way Keycloak's are (SetConfig).
func TestCodeMieTokenMapper(t *testing.T) {
	t.Parallel()
	got := CodeMieTokenMapper(AttrApplicationsAdmin)
	want := LiveTokenMapper{Name: "applications_admin", ProtocolMapper: "oidc-usermodel-attribute-mapper",
		Attribute: "applications_admin", Claim: "applications_admin", JSONType: "String",
		IDToken: true, AccessToken: true, UserInfo: true,
		Config: map[string]string{"user.attribute": "applications_admin", "claim.name": "applications_admin",
			"jsonType.label": "String", "multivalued": "false",
			"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CodeMieTokenMapper (-want +got):\n%s", diff)
	}
	var keys []string
	for _, kv := range CodeMieMapperConfig(AttrUserType) {
		keys = append(keys, kv.Key)
	}
	if diff := cmp.Diff([]string{"user.attribute", "claim.name", "jsonType.label", "multivalued",
		"id.token.claim", "access.token.claim", "userinfo.token.claim"}, keys); diff != "" {
		t.Errorf("CodeMieMapperConfig keys (-want +got):\n%s", diff)
	}
	if p := (TokenMapping{Mappers: []LiveTokenMapper{RecommendedMapping().Mappers[0], got}}).Problems("codemie", []string{"developer"}, []string{AttrApplicationsAdmin}); len(p) != 0 {
		t.Errorf("the mapper roster creates has problems: %v", p)
	}

	var m LiveTokenMapper
	m.SetConfig(map[string]string{"user.attribute": "a", "claim.name": "c", "jsonType.label": "JSON",
		"multivalued": "true", "id.token.claim": "false", "access.token.claim": "TRUE", "userinfo.token.claim": "true"})
	if m.Attribute != "a" || m.Claim != "c" || m.JSONType != "JSON" || !m.Multivalued || m.IDToken || m.AccessToken || !m.UserInfo {
		t.Errorf("SetConfig read %+v", m)
	}
}

func TestStringClaim(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		jsonType string
		want     bool
	}{{"", true}, {"String", true}, {"string", false}, {"JSON", false}, {"long", false}, {"boolean", false}} {
		if got := (LiveTokenMapper{JSONType: tc.jsonType}).StringClaim(); got != tc.want {
			t.Errorf("JSON type %q: StringClaim = %v, want %v", tc.jsonType, got, tc.want)
		}
	}
}
