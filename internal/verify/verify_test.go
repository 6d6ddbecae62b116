package verify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/escape/escapetest"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

func dev(projects ...string) model.Access {
	return model.Access{Role: model.RoleDeveloper, Projects: projects}
}

func TestSampleCoversEveryRole(t *testing.T) {
	var subjects []Subject
	for i := range 20 {
		subjects = append(subjects, Subject{Username: fmt.Sprintf("dev%02d", i), Want: dev("p")})
	}
	subjects = append(subjects,
		Subject{Username: "x-admin", Want: model.Access{Role: model.RoleAdmin}},
		Subject{Username: "x-guest", Want: model.Access{Role: model.RoleDeveloper, External: true}},
		Subject{Username: "x-none", Want: model.Access{}},
		Subject{Username: "x-padmin", Want: model.Access{Role: model.RoleDeveloper, Projects: []string{"p"}, Admin: []string{"p"}}},
	)
	got := Sample(subjects, 6)
	var names []string
	for _, s := range got {
		names = append(names, s.Username)
	}
	want := []string{"dev00", "dev01", "x-admin", "x-guest", "x-none", "x-padmin"}
	if !slices.Equal(names, want) {
		t.Errorf("Sample(6) = %v, want %v", names, want)
	}
	if n := len(Sample(subjects, 0)); n != len(subjects) {
		t.Errorf("Sample(0) kept %d of %d", n, len(subjects))
	}
	if n := len(Sample(subjects, 100)); n != len(subjects) {
		t.Errorf("Sample(100) kept %d of %d", n, len(subjects))
	}
}

func TestReadGroupsTokensThatReadAlike(t *testing.T) {
	ex := keycloak.ExampleClaims{
		AccessToken: map[string]any{"realm_access": map[string]any{"roles": []any{"developer"}}, "applications": "a,b"},
		IDToken:     map[string]any{"applications": "a,b"},
		UserInfo:    map[string]any{"applications": "a"},
	}
	got := Read(model.DefaultCodeMie(), ex, true)
	want := []Reading{
		{Tokens: []model.TokenType{model.TokenAccess, model.TokenID}, Access: dev("a", "b")},
		{Tokens: []model.TokenType{model.TokenUserInfo}, Access: dev("a")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Read (-want +got):\n%s", diff)
	}
	disabled := Read(model.DefaultCodeMie(), ex, false)
	if !disabled[0].Access.Disabled {
		t.Errorf("a disabled user reads as enabled: %+v", disabled[0].Access)
	}
}

// fakeTarget answers ExampleClaims from a table, counting calls and the most at once.
type fakeTarget struct {
	claims          map[string]keycloak.ExampleClaims
	err             error
	calls, now, max atomic.Int32
}

func (f *fakeTarget) ExampleClaims(_ context.Context, _, userID string) (keycloak.ExampleClaims, error) {
	f.calls.Add(1)
	n := f.now.Add(1)
	defer f.now.Add(-1)
	for {
		m := f.max.Load()
		if n <= m || f.max.CompareAndSwap(m, n) {
			break
		}
	}
	if f.err != nil {
		return keycloak.ExampleClaims{}, f.err
	}
	return f.claims[userID], nil
}

func TestRunBoundsParallelismAndStopsOnFailure(t *testing.T) {
	var subjects []Subject
	claims := map[string]keycloak.ExampleClaims{}
	for i := range 40 {
		id := fmt.Sprintf("id%d", i)
		subjects = append(subjects, Subject{Username: fmt.Sprintf("u%02d", i), Want: dev(), User: &model.LiveUser{ID: id, Enabled: true}})
		claims[id] = keycloak.ExampleClaims{AccessToken: map[string]any{"realm_access": map[string]any{"roles": []any{"developer"}}}}
	}
	facts := Facts{Client: &model.LiveCodeMieClient{ID: "c", ClientID: "codemie"}}
	ft := &fakeTarget{claims: claims}
	var progress []int
	results := Run(context.Background(), ft, facts, subjects, Options{Parallelism: 3, Progress: func(done, total int) {
		progress = append(progress, done)
	}})
	for _, r := range results {
		if !r.Match() {
			t.Errorf("%s: %+v", r.Username, r)
		}
	}
	if m := ft.max.Load(); m > 3 {
		t.Errorf("%d users verified at once, want at most 3", m)
	}
	if len(progress) != 40 || progress[39] != 40 {
		t.Errorf("progress %v", progress)
	}

	refused := &fakeTarget{err: &keycloak.APIError{Method: "GET", Path: "/clients", Status: 403, Message: "Forbidden"}}
	results = Run(context.Background(), refused, facts, subjects, Options{Parallelism: 1})
	if c := refused.calls.Load(); c != 1 {
		t.Errorf("after a 403, %d requests were made, want 1", c)
	}
	for _, r := range results {
		var e *keycloak.APIError
		if !errors.As(r.Err, &e) {
			t.Errorf("%s: err %v, want the 403", r.Username, r.Err)
		}
	}
}

func TestCauses(t *testing.T) {
	client := &model.LiveCodeMieClient{ID: "c", ClientID: "codemie", DefaultScopes: []string{"profile", "roles"}}
	attrMapper := func(attr string) model.LiveTokenMapper {
		return model.LiveTokenMapper{Name: attr, Scope: "profile", ProtocolMapper: model.ProtocolMapperUserAttribute,
			Attribute: attr, Claim: attr, JSONType: "String", IDToken: true, AccessToken: true, UserInfo: true}
	}
	roles := model.LiveTokenMapper{Name: "realm roles", Scope: "roles", ProtocolMapper: model.ProtocolMapperRealmRoles,
		Claim: model.ClaimRealmRoles, Multivalued: true, AccessToken: true}
	all := []model.LiveTokenMapper{roles, attrMapper("applications"), attrMapper("applications_admin"), attrMapper("user_type")}
	prefixed := roles
	prefixed.Config = map[string]string{"usermodel.realmRoleMapping.rolePrefix": "kc-"}
	noAccess := attrMapper("applications")
	noAccess.AccessToken = false

	tests := []struct {
		name    string
		mappers []model.LiveTokenMapper
		policy  model.Policy
		user    model.LiveUser
		want    model.Access
		got     model.Access
		tokens  []model.TokenType
		scope   []string // when set, the client's Full scope allowed is off and these are in scope
		kind    Kind
		detail  string
	}{
		{name: "policy drops", mappers: all, policy: model.PolicyDisabled,
			user: model.LiveUser{Roles: []model.Role{model.RoleDeveloper}}, want: dev("a"), got: dev(),
			kind: PolicyDrops, detail: "policy DISABLED hides applications from administrators"},
		{name: "not in the access token", mappers: []model.LiveTokenMapper{roles, noAccess}, policy: model.PolicyAdminEdit,
			user: model.LiveUser{Roles: []model.Role{model.RoleDeveloper}, Attributes: map[string][]string{"applications": {"a"}}},
			want: dev("a"), got: dev(), tokens: []model.TokenType{model.TokenAccess},
			kind: NotInToken, detail: `mapper "applications" for applications is not added to the access token`},
		{name: "roles scope not default", mappers: all[1:], policy: model.PolicyAdminEdit,
			user: model.LiveUser{Roles: []model.Role{model.RoleDeveloper}}, want: dev(), got: model.Access{},
			kind: RoleNotInToken, detail: "client scope roles is not one of its default scopes"},
		{name: "role outside the client's scope", mappers: all, policy: model.PolicyAdminEdit, scope: []string{"developer"},
			user: model.LiveUser{Roles: []model.Role{model.RoleAdmin}}, want: model.Access{Role: model.RoleAdmin}, got: model.Access{},
			kind: RoleNotInToken, detail: `client "codemie" has Full scope allowed off, and no scope mapping of it or of its default client scopes takes in realm role admin`},
		{name: "role prefix", mappers: append([]model.LiveTokenMapper{prefixed}, all[1:]...), policy: model.PolicyAdminEdit,
			user: model.LiveUser{Roles: []model.Role{model.RoleDeveloper}}, want: dev(), got: model.Access{},
			kind: RoleNotInToken, detail: `puts "kc-" before each realm role's name`},
		{name: "role through a group", mappers: all, policy: model.PolicyAdminEdit,
			user: model.LiveUser{Roles: []model.Role{model.RoleDeveloper}}, want: dev(), got: model.Access{Role: model.RoleAdmin},
			kind: RoleIndirect, detail: "holds through a group or a composite role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *client
			c.Mapping.Mappers = tt.mappers
			c.Mapping.Scoped, c.Mapping.Scope = tt.scope != nil, tt.scope
			f := Facts{CodeMie: model.DefaultCodeMie(), Client: &c, Policy: tt.policy,
				Scopes: []model.LiveClientScope{{Name: "profile", Mappers: tt.mappers}}}
			tokens := tt.tokens
			if tokens == nil {
				tokens = model.TokenTypes()
			}
			u := tt.user
			u.Enabled = true
			r := Result{Subject: Subject{Username: "u", Want: tt.want, User: &u}}
			causes := explain(f, r, Reading{Tokens: tokens, Access: tt.got})
			if len(causes) != 1 || causes[0].Kind != tt.kind || !strings.Contains(causes[0].Detail, tt.detail) {
				t.Errorf("causes = %+v, want one %s saying %q", causes, tt.kind, tt.detail)
			}
		})
	}
}

func TestWriteText(t *testing.T) {
	bob := dev("payments")
	got := dev()
	r := Report{Client: "codemie", FromFiles: true, Results: []Result{
		{Subject: Subject{Username: "alice", Want: model.Access{Role: model.RoleAdmin}, User: &model.LiveUser{}},
			Got: []Reading{{Tokens: model.TokenTypes(), Access: model.Access{Role: model.RoleAdmin}}}},
		{Subject: Subject{Username: "bob", Want: bob, User: &model.LiveUser{}},
			Got: []Reading{{Tokens: []model.TokenType{model.TokenAccess}, Access: bob},
				{Tokens: []model.TokenType{model.TokenID, model.TokenUserInfo}, Access: got}},
			Causes: []Cause{{Kind: NotInToken, Detail: `mapper "applications" for applications is not added to the ID token, userinfo`, Fix: "turn them on"}}},
		{Subject: Subject{Username: "carol", Want: dev("x")}, Causes: []Cause{notInRealm(Subject{Username: "carol"})}},
	}}
	var b strings.Builder
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `bob: the files say Regular User (payments); the ID token and userinfo make CodeMie grant Regular User (no projects)
  cause: mapper "applications" for applications is not added to the ID token, userinfo (not-in-token)
  fix: turn them on
carol: the files say Regular User (x); the realm has no such user
  cause: the realm has no user "carol" (not-in-realm)
  fix: run ` + "`roster apply`" + ` with the files (it creates the user)

Verified 3 users through client "codemie": 1 match, 2 differ.
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("WriteText (-want +got):\n%s", diff)
	}
	doc := r.JSON()
	if doc.Summary.Verified != 3 || doc.Summary.Match != 1 || doc.Summary.Differ != 2 || len(doc.Users[2].Got) != 0 || doc.Users[2].Got == nil {
		t.Errorf("JSON summary %+v, carol's got %#v", doc.Summary, doc.Users[2].Got)
	}
}

// TestWriteTextCannotBeForged verifies users whose names, projects and claims are hostile: the
// text must keep one line per mismatch, cause and fix, and hold no control character.
func TestWriteTextCannotBeForged(t *testing.T) {
	var results []Result
	for i, h := range escapetest.Hostile {
		u := &model.LiveUser{Username: h, Attributes: map[string][]string{"applications": {h}}}
		results = append(results, Result{Subject: Subject{Username: h, Want: dev(h), User: u},
			Got:    []Reading{{Tokens: model.TokenTypes(), Access: dev(fmt.Sprint(i))}},
			Causes: []Cause{{Kind: Unexplained, Detail: "the tokens carry " + h}}})
	}
	var b strings.Builder
	if err := WriteText(&b, Report{Client: "codemie\n" + escapetest.Hostile[0], Results: results}); err != nil {
		t.Fatal(err)
	}
	if c := escapetest.Controls(b.String(), false); c != nil {
		t.Errorf("control characters %v in\n%s", c, b.String())
	}
	if lines := strings.Count(b.String(), "\n"); lines != 2*len(results)+2 {
		t.Errorf("%d lines, want %d:\n%s", lines, 2*len(results)+2, b.String())
	}
}
