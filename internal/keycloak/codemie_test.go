package keycloak_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// codemieStates are live states of a user, as stored, with what CodeMie reads under
// single-valued and under multivalued attribute mappers.
var codemieStates = []struct {
	username     string
	role         string
	attrs        map[string][]string
	single, mult string
}{
	{"two-values", "developer", map[string][]string{"applications": {"proj-a", "proj-b,proj-c"}},
		"Regular User (proj-a)", "Regular User (proj-a, proj-b, proj-c)"},
	{"joined", "developer", map[string][]string{"applications": {"proj-a,proj-b,proj-c"}},
		"Regular User (proj-a, proj-b, proj-c)", "Regular User (proj-a, proj-b, proj-c)"},
	{"upper-case", "developer", map[string][]string{"applications": {"PROJ-D"}},
		"Regular User (PROJ-D)", "Regular User (PROJ-D)"},
	{"admin-only", "developer", map[string][]string{"applications": {"proj-a"}, "applications_admin": {"proj-x"}},
		"Project Admin (proj-x (not in applications)); Regular User (proj-a)",
		"Project Admin (proj-x (not in applications)); Regular User (proj-a)"},
	{"duplicates-spaces", "developer", map[string][]string{"applications": {" proj-b , proj-a ,, proj-a "}},
		"Regular User (proj-a, proj-b)", "Regular User (proj-a, proj-b)"},
	{"type-external", "developer", map[string][]string{"applications": {"proj-a"}, "user_type": {"external"}},
		"External User: Regular User (proj-a)", `cannot sign in: CodeMie refuses user_type ["external"]: not a string`},
	{"type-external-case", "developer", map[string][]string{"user_type": {" External "}},
		"External User: Regular User (no projects)", `cannot sign in: CodeMie refuses user_type [" External "]: not a string`},
	{"type-regular", "developer", map[string][]string{"user_type": {"regular"}},
		"Regular User (no projects)", `cannot sign in: CodeMie refuses user_type ["regular"]: not a string`},
	{"type-service-account", "developer", map[string][]string{"user_type": {"service_account"}},
		"Service Account: Regular User (no projects)", `cannot sign in: CodeMie refuses user_type ["service_account"]: not a string`},
	{"type-guest", "developer", map[string][]string{"user_type": {"guest"}},
		`cannot sign in: CodeMie refuses user_type "guest"`, `cannot sign in: CodeMie refuses user_type ["guest"]: not a string`},
	{"type-two", "developer", map[string][]string{"user_type": {"external", "regular"}},
		"External User: Regular User (no projects)", `cannot sign in: CodeMie refuses user_type ["external","regular"]: not a string`},
	{"type-empty", "developer", map[string][]string{"user_type": {""}},
		`cannot sign in: CodeMie refuses user_type ""`, `cannot sign in: CodeMie refuses user_type [""]: not a string`},
	{"type-blank", "developer", map[string][]string{"user_type": {" "}},
		`cannot sign in: CodeMie refuses user_type " "`, `cannot sign in: CodeMie refuses user_type [" "]: not a string`},
	{"platform-admin", "admin", map[string][]string{"applications": {"proj-a"}}, "Admin", "Admin"},
	{"no-role", "", map[string][]string{"applications": {"proj-a"}}, "cannot sign in", "cannot sign in"},
}

// TestCodeMieReadingMatchesKeycloakTokens seeds every state of codemieStates, asks Keycloak for
// the tokens each user would get through a CodeMie client (evaluate scopes, no password), and
// checks for each token type that the claims roster computes from the stored attributes and the
// live mappers are the ones Keycloak issued, and that the access roster reports for the user is
// CodeMie's reading of the issued access token. It does so under single-valued and under
// multivalued mappers, and checks the reading against the table.
func TestCodeMieReadingMatchesKeycloakTokens(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	var users []keycloaktest.User
	for _, s := range codemieStates {
		u := keycloaktest.User{Username: s.username, Enabled: true, Attributes: s.attrs}
		if s.role != "" {
			u.RealmRoles = []string{s.role}
		}
		users = append(users, u)
	}
	if err := realm.SeedUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	for _, client := range []struct {
		id          string
		multivalued bool
		// scope, when set, are the only realm roles the client lets into its tokens.
		scope []string
		// roleMapper, when set, configures the client's own realm-role mapper, which replaces
		// Keycloak's client scope roles: each of these makes the token name no role CodeMie
		// knows.
		roleMapper map[string]string
	}{{"codemie", false, nil, nil}, {"codemie-multi", true, nil, nil}, {"codemie-scoped", false, []string{"developer"}, nil},
		{"codemie-prefixed", false, nil, map[string]string{"usermodel.realmRoleMapping.rolePrefix": "kc-"}},
		{"codemie-single-role", false, nil, map[string]string{"multivalued": "false"}}} {
		t.Run(client.id, func(t *testing.T) {
			uuid, err := realm.CodeMieClient(ctx, client.id, client.id+"-attributes", client.multivalued)
			if err != nil {
				t.Fatal(err)
			}
			if client.scope != nil {
				if err := realm.LimitScope(ctx, uuid, client.scope...); err != nil {
					t.Fatal(err)
				}
			}
			if client.roleMapper != nil {
				if err := realm.OwnRoleMapper(ctx, uuid, client.roleMapper); err != nil {
					t.Fatal(err)
				}
			}
			cfg := realm.ServiceAccountConfig()
			cfg.CodeMie = model.CodeMie{ClientID: client.id}
			c, err := keycloak.Dial(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if live.Client == nil {
				t.Fatalf("ReadLive did not find client %s", client.id)
			}
			if tm := live.Client.Mapping; tm.Scoped != (client.scope != nil) || !cmp.Equal(tm.Scope, client.scope) {
				t.Errorf("ReadLive: client scope %v %q, want %v %q", tm.Scoped, tm.Scope, client.scope != nil, client.scope)
			}
			byName := map[string]model.LiveUser{}
			for _, lu := range live.Users {
				byName[lu.Username] = lu
			}
			for _, s := range codemieStates {
				lu, ok := byName[s.username]
				if !ok {
					t.Fatalf("user %s not read", s.username)
				}
				got := live.Access(lu)
				for _, tt := range model.TokenTypes() {
					tok, err := realm.ExampleClaims(ctx, uuid, lu.ID, exampleKind[tt])
					if err != nil {
						t.Fatal(err)
					}
					issued := model.ClaimsFromToken(tok)
					computed := live.Mapping().Claims(tt, live.CodeMie.RoleNames(lu.Roles), lu.Attributes)
					// The realm roles in a token are the effective ones (default roles too);
					// roster computes only the CodeMie roles, so only their presence is compared.
					if issued.RealmRoles.Present != computed.RealmRoles.Present {
						t.Errorf("%s, %s token: realm_access.roles present = %v, roster computes %v",
							s.username, tt, issued.RealmRoles.Present, computed.RealmRoles.Present)
					}
					issued.RealmRoles, computed.RealmRoles = model.Claim{}, model.Claim{}
					if diff := cmp.Diff(issued, computed); diff != "" {
						t.Errorf("%s (stored %q), %s token: claims (-issued +roster):\n%s", s.username, lu.Attributes, tt, diff)
					}
					if tt != model.TokenAccess {
						continue
					}
					if read := live.CodeMie.Read(model.ClaimsFromToken(tok)); !read.Equal(got) {
						t.Errorf("%s: CodeMie reads the issued access token as %q, roster reports %q", s.username, read.Summary(), got.Summary())
					}
				}
				want := s.single
				switch {
				case client.multivalued:
					want = s.mult
				case client.scope != nil && s.role == "admin":
					want = "cannot sign in" // admin is not in the client's scope
				case client.roleMapper != nil && !strings.HasPrefix(want, "cannot sign in"):
					want = "cannot sign in" // kc-developer, or one role as a string: none CodeMie knows
				}
				if got.Summary() != want {
					t.Errorf("%s (stored %q): roster reports %q, want %q", s.username, lu.Attributes, got.Summary(), want)
				}
			}
		})
	}
}

// exampleKind is the evaluate-scopes endpoint of each token type.
var exampleKind = map[model.TokenType]string{
	model.TokenAccess: "access-token", model.TokenID: "id-token", model.TokenUserInfo: "userinfo",
}
