package doctor_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// kc sends an Admin API request for the realm as the master administrator, failing the test on error.
func kc(t *testing.T, realm *keycloaktest.Realm, method, path string, body, result any) {
	t.Helper()
	if err := realm.Admin(context.Background(), method, path, body, result); err != nil {
		t.Fatal(err)
	}
}

// codeMieMapper is the protocol mapper CodeMie needs for attr.
func codeMieMapper(attr string, multivalued bool) map[string]any {
	return map[string]any{"name": attr, "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
		"config": map[string]string{"user.attribute": attr, "claim.name": attr, "jsonType.label": "String",
			"multivalued": fmt.Sprint(multivalued), "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}}
}

var entra = map[string]any{"alias": "entra", "providerId": "oidc", "enabled": true,
	"config": map[string]string{"clientId": "codemie", "clientSecret": "secret", "clientAuthMethod": "client_secret_post",
		"authorizationUrl": "https://login.example.com/authorize", "tokenUrl": "https://login.example.com/token"}}

// readyRealm is a realm that meets every prerequisite: policy ADMIN_EDIT, roles admin and
// developer, the three mappers on client scope profile, and identity provider entra. It returns
// the id of client scope profile.
func readyRealm(t *testing.T) (*keycloaktest.Realm, string) {
	t.Helper()
	realm := keycloaktest.NewCodeMieRealm(t)
	var scopes []struct{ ID, Name string }
	kc(t, realm, http.MethodGet, "/client-scopes", nil, &scopes)
	var profile string
	for _, s := range scopes {
		if s.Name == "profile" {
			profile = s.ID
		}
	}
	for _, a := range []string{"applications", "applications_admin", "user_type"} {
		kc(t, realm, http.MethodPost, "/client-scopes/"+profile+"/protocol-mappers/models", codeMieMapper(a, false), nil)
	}
	kc(t, realm, http.MethodPost, "/identity-provider/instances", entra, nil)
	ctx := context.Background()
	if _, err := realm.BareCodeMieClient(ctx, "codemie"); err != nil {
		t.Fatal(err)
	}
	must(t, realm.SeedUsers(ctx, []keycloaktest.User{{Username: "carol", Enabled: true, RealmRoles: []string{"developer"}}}))
	return realm, profile
}

func run(t *testing.T, realm *keycloaktest.Realm, w doctor.Want) doctor.Report {
	t.Helper()
	c, err := keycloak.Open(realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	return doctor.Run(context.Background(), c, w)
}

// expect checks that r holds want among its checks and that every other check passed.
func expect(t *testing.T, r doctor.Report, want ...doctor.Check) {
	t.Helper()
	byName := map[string]doctor.Check{}
	for _, c := range want {
		byName[c.Name] = c
	}
	for _, c := range r.Checks {
		w, ok := byName[c.Name]
		if !ok {
			if c.Status != doctor.Pass {
				t.Errorf("unexpected %s %s: %s", c.Status, c.Name, c.Detail)
			}
			continue
		}
		delete(byName, c.Name)
		if diff := cmp.Diff(w, c); diff != "" {
			t.Errorf("check %s (-want +got):\n%s", c.Name, diff)
		}
	}
	for name := range byName {
		t.Errorf("no check %s", name)
	}
}

// TestDoctor breaks a ready realm one prerequisite at a time, and proves doctor names each
// problem and its fix, and nothing else.
func TestDoctor(t *testing.T) {
	realm, profile := readyRealm(t)
	w := doctor.Defaults()
	w.Files, w.IdentityProviders = []string{"roster.yaml"}, []doctor.IdentityProvider{{Alias: "entra"}}

	r := run(t, realm, w)
	expect(t, r)
	if r.Failed() || r.Unreachable || len(r.Checks) != 22 {
		t.Fatalf("ready realm: failed %v, unreachable %v, %d checks", r.Failed(), r.Unreachable, len(r.Checks))
	}

	ctx := context.Background()
	policyFix := "set settings.unmanagedAttributePolicy: ADMIN_EDIT in the files and run `roster apply roster.yaml`; " +
		"or in the console: Realm settings → General → Unmanaged Attributes → Only administrators can write"
	mapperFixes := "Mappers → Add mapper → By configuration → User Attribute: name, User Attribute and Token Claim Name applications, " +
		"Claim JSON Type String, Multivalued off, Add to ID token, access token and userinfo on"
	for _, tc := range []struct {
		name           string
		breakIt, fixIt func(t *testing.T)
		want           doctor.Check
		also           []doctor.Check
	}{
		{"policy DISABLED",
			func(t *testing.T) { must(t, realm.SetPolicy(ctx, "")) },
			func(t *testing.T) { must(t, realm.SetPolicy(ctx, "ADMIN_EDIT")) },
			doctor.Check{Name: "user profile", Status: doctor.Fail,
				Detail: "administrators cannot write applications, applications_admin, user_type, so Keycloak drops what roster writes " +
					"(unmanaged-attribute policy DISABLED: Keycloak drops undeclared attributes)",
				Fix: policyFix}, nil},
		{"policy ENABLED",
			func(t *testing.T) { must(t, realm.SetPolicy(ctx, "ENABLED")) },
			func(t *testing.T) { must(t, realm.SetPolicy(ctx, "ADMIN_EDIT")) },
			doctor.Check{Name: "user profile", Status: doctor.Warn,
				Detail: "signed-in users can edit their own applications, applications_admin, user_type through the account API, " +
					"so a developer can make themselves Project Admin of any project " +
					"(unmanaged-attribute policy ENABLED: users and administrators may write undeclared attributes)",
				Fix: policyFix}, nil},
		{"role developer missing",
			func(t *testing.T) { kc(t, realm, http.MethodDelete, "/roles/developer", nil, nil) },
			func(t *testing.T) { must(t, realm.CreateRoles(ctx, "developer")) },
			doctor.Check{Name: "role developer", Status: doctor.Fail,
				Detail: `realm role "developer" does not exist: nobody can sign in to CodeMie as a standard user`,
				Fix:    "run `roster apply roster.yaml` (it creates the roles the files declare); or in the console: Realm roles → Create role → Role name developer"}, nil},
		{"mapper applications missing",
			func(t *testing.T) {
				kc(t, realm, http.MethodDelete, mapperPath(t, realm, profile, "applications"), nil, nil)
			},
			func(t *testing.T) {
				kc(t, realm, http.MethodPost, "/client-scopes/"+profile+"/protocol-mappers/models", codeMieMapper("applications", false), nil)
			},
			doctor.Check{Name: "token mapper applications", Status: doctor.Fail,
				Detail: `client scope "profile" has no User Attribute mapper for applications: tokens carry no applications claim, so CodeMie sees no projects`,
				Fix:    "run `roster apply roster.yaml` (it creates the mapper); or in the console: Client scopes → profile → " + mapperFixes},
			// profile is a default scope of CodeMie's client, so its tokens lose the claim too.
			[]doctor.Check{{Name: "client codemie: applications", Status: doctor.Fail,
				Detail: `no token mapper puts user attribute applications into claim applications of the access tokens of client "codemie": CodeMie reads projects for nobody`,
				Fix:    `declare tokenMappers in the files (roster creates the mappers in client scope profile), or add a User Attribute mapper to a default client scope of client "codemie"`}}},
		{"mapper applications multivalued",
			func(t *testing.T) { putMapper(t, realm, profile, "applications", true) },
			func(t *testing.T) { putMapper(t, realm, profile, "applications", false) },
			doctor.Check{Name: "token mapper applications", Status: doctor.Fail,
				Detail: `mapper "applications" of client scope "profile" is wrong: it is multivalued (a JSON array, where CodeMie reads one comma-joined string)`,
				Fix: "run `roster apply roster.yaml` (it creates or corrects the mapper); or in the console: Client scopes → profile → Mappers → applications: " +
					"name, User Attribute and Token Claim Name applications, Claim JSON Type String, Multivalued off, Add to ID token, access token and userinfo on"}, nil},
		{"identity provider disabled",
			func(t *testing.T) { putIdP(t, realm, false) },
			func(t *testing.T) { putIdP(t, realm, true) },
			doctor.Check{Name: "identity provider entra", Status: doctor.Fail,
				Detail: `identity provider "entra" is disabled: the login page does not offer it`,
				Fix:    "declare enabled: true for entra in the files and run roster apply; or in the console: Identity providers → entra → Enabled on"}, nil},
		{"identity provider missing",
			func(t *testing.T) { kc(t, realm, http.MethodDelete, "/identity-provider/instances/entra", nil, nil) },
			func(t *testing.T) { kc(t, realm, http.MethodPost, "/identity-provider/instances", entra, nil) },
			doctor.Check{Name: "identity provider entra", Status: doctor.Fail,
				Detail: `identity provider "entra" does not exist: nobody can sign in through it`,
				Fix:    "run `roster apply roster.yaml` (it creates the identity providers the files declare)"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.breakIt(t)
			defer tc.fixIt(t)
			r := run(t, realm, w)
			expect(t, r, append([]doctor.Check{tc.want}, tc.also...)...)
			if r.Failed() != (tc.want.Status == doctor.Fail) {
				t.Errorf("Failed() = %v", r.Failed())
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mapperPath(t *testing.T, realm *keycloaktest.Realm, scope, name string) string {
	t.Helper()
	var mappers []struct{ ID, Name string }
	kc(t, realm, http.MethodGet, "/client-scopes/"+scope+"/protocol-mappers/models", nil, &mappers)
	for _, m := range mappers {
		if m.Name == name {
			return "/client-scopes/" + scope + "/protocol-mappers/models/" + m.ID
		}
	}
	t.Fatalf("no mapper %s", name)
	return ""
}

func putMapper(t *testing.T, realm *keycloaktest.Realm, scope, attr string, multivalued bool) {
	path := mapperPath(t, realm, scope, attr)
	m := codeMieMapper(attr, multivalued)
	m["id"] = path[strings.LastIndex(path, "/")+1:]
	kc(t, realm, http.MethodPut, path, m, nil)
}

func putIdP(t *testing.T, realm *keycloaktest.Realm, enabled bool) {
	var idp map[string]any
	kc(t, realm, http.MethodGet, "/identity-provider/instances/entra", nil, &idp)
	idp["enabled"] = enabled
	kc(t, realm, http.MethodPut, "/identity-provider/instances/entra", idp, nil)
}

// TestDoctorPermissions takes each role roster needs from the service account in turn, and proves
// doctor names it and how to grant it.
func TestDoctorPermissions(t *testing.T) {
	realm, _ := readyRealm(t)
	w := doctor.Defaults()
	w.Files, w.IdentityProviders = []string{"roster.yaml"}, []doctor.IdentityProvider{{Alias: "entra"}}
	ctx := context.Background()
	all := []string{"view-users", "manage-users", "view-realm", "manage-realm", "view-clients", "manage-clients",
		"view-identity-providers", "manage-identity-providers"}
	why := map[string]string{
		"view-users":                "plan reads the users and the members of the realm roles",
		"manage-users":              "apply creates and updates users and grants their realm roles",
		"view-realm":                "plan reads the realm roles and the user profile",
		"manage-realm":              "apply creates realm roles and sets the user-profile policy",
		"view-clients":              `plan reads the token mappers of client scope "profile"`,
		"manage-clients":            "apply creates and corrects the token mappers",
		"view-identity-providers":   "plan reads the identity providers and their mappers",
		"manage-identity-providers": "apply creates and updates the identity providers and their mappers",
	}
	t.Run("none", func(t *testing.T) {
		if err := realm.SetServiceAccountRoles(ctx); err != nil {
			t.Fatal(err)
		}
		r := run(t, realm, w)
		want := doctor.Check{Name: "realm", Status: doctor.Fail,
			Detail: fmt.Sprintf("Keycloak refused to show realm %q (403): the credentials hold no role of its realm-management client", realm.Name),
			Fix:    "grant the roles the permission checks below name"}
		if diff := cmp.Diff(want, r.Checks[2]); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		// The realm and every permission fail; what needs a permission is skipped, not failed.
		if fail, skip := r.Count(doctor.Fail), r.Count(doctor.Skip); fail != 1+len(all) || skip != 7 {
			t.Errorf("%d checks failed and %d skipped, want %d and 7", fail, skip, 1+len(all))
		}
	})
	for _, role := range all {
		t.Run(role, func(t *testing.T) {
			var others []string
			for _, r := range all {
				if r != role && r != strings.Replace(role, "view-", "manage-", 1) {
					others = append(others, r)
				}
			}
			if err := realm.SetServiceAccountRoles(ctx, others...); err != nil {
				t.Fatal(err)
			}
			r := run(t, realm, w)
			want := doctor.Check{Name: "permission " + role, Status: doctor.Fail,
				Detail: fmt.Sprintf("missing: Keycloak refused %s (403); %s", keycloak.ProbeRequest(keycloak.Permission(role)), why[role]),
				Fix: fmt.Sprintf("in the console, realm %s: Clients → roster → Service account roles → Assign role → Client roles → "+
					"realm-management %s", realm.Name, role)}
			found := false
			for _, c := range r.Checks {
				if c.Name == want.Name {
					found = true
					if diff := cmp.Diff(want, c); diff != "" {
						t.Errorf("(-want +got):\n%s", diff)
					}
				}
			}
			if !found || !r.Failed() {
				t.Errorf("check %s found %v, report failed %v", want.Name, found, r.Failed())
			}
		})
	}
}

// TestDoctorMasterUser logs in as a master-realm user holding only view-users of the realm's
// {realm}-realm client, and proves doctor tells how to grant such a user the missing roles.
func TestDoctorMasterUser(t *testing.T) {
	realm, _ := readyRealm(t)
	ctx := context.Background()
	s := realm.Server
	username := realm.Name + "-ops" // the realm's random name makes it unique on the server
	h, err := s.AdminRequest(ctx, http.MethodPost, "/master/users", map[string]any{"username": username, "enabled": true,
		"credentials": []map[string]any{{"type": "password", "value": "ops-password", "temporary": false}}}, nil)
	must(t, err)
	id, err := keycloaktest.IDFromLocation(h)
	must(t, err)
	t.Cleanup(func() {
		if _, err := s.AdminRequest(ctx, http.MethodDelete, "/master/users/"+id, nil, nil); err != nil {
			t.Error(err)
		}
	})
	must(t, s.GrantClientRoles(ctx, "master", id, realm.Name+"-realm", "view-users"))

	c, err := keycloak.Open(keycloak.Config{URL: realm.Server.URL, Realm: realm.Name, Username: username, Password: "ops-password"})
	must(t, err)
	r := doctor.Run(ctx, c, doctor.Defaults())
	byName := map[string]doctor.Check{}
	for _, c := range r.Checks {
		byName[c.Name] = c
	}
	if got := byName["permission view-users"]; got.Status != doctor.Pass {
		t.Errorf("view-users: %+v", got)
	}
	want := doctor.Check{Name: "permission view-realm", Status: doctor.Fail,
		Detail: "missing: Keycloak refused GET /roles/admin (403); plan reads the realm roles and the user profile",
		Fix: fmt.Sprintf("in the console, realm master: Users → %s → Role mapping → Assign role → Client roles → %s-realm view-realm",
			username, realm.Name)}
	if diff := cmp.Diff(want, byName["permission view-realm"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := byName["login"].Detail; got != fmt.Sprintf("user %q logs in to realm \"master\"", username) {
		t.Errorf("login: %s", got)
	}
}

// TestDoctorTokens proves doctor's verification on the real server: a user whose two stored
// values reach the tokens through a single-valued mapper is reported with both sides and the
// cause, and a realm without CodeMie's client is reported with the fix.
func TestDoctorTokens(t *testing.T) {
	realm, _ := readyRealm(t)
	ctx := context.Background()
	must(t, realm.SeedUsers(ctx, []keycloaktest.User{{Username: "dave", Enabled: true, RealmRoles: []string{"developer"},
		Attributes: map[string][]string{"applications": {"ledger", "payments"}}}}))
	cfg := &model.Config{Files: []string{"roster.yaml"}, Users: []model.User{
		{Username: "carol", Access: model.Access{Role: model.RoleDeveloper}},
		{Username: "dave", Access: model.Access{Role: model.RoleDeveloper, Projects: []string{"ledger", "payments"}}},
	}}
	w := doctor.Defaults()
	w.Files, w.Config, w.IdentityProviders = cfg.Files, cfg, []doctor.IdentityProvider{{Alias: "entra"}}
	expect(t, run(t, realm, w), doctor.Check{Name: "tokens dave", Status: doctor.Fail,
		Detail: "the files say Regular User (ledger, payments); the access token, ID token and userinfo make CodeMie grant " +
			`Regular User (ledger); cause: mapper "applications" is single-valued and the user holds 2 values of applications: ` +
			`the tokens carry the first only, "ledger"`,
		Fix: "store one comma-joined value: run `roster apply` with the files (it writes each attribute as one value)"})

	var clients []struct{ ID string }
	kc(t, realm, http.MethodGet, "/clients?clientId=codemie", nil, &clients)
	kc(t, realm, http.MethodDelete, "/clients/"+clients[0].ID, nil, nil)
	expect(t, run(t, realm, w),
		doctor.Check{Name: "client codemie", Status: doctor.Fail,
			Detail: `the realm has no client "codemie", so CodeMie cannot sign anyone in through it`,
			Fix:    "set settings.codemie.clientId to the client CodeMie's oauth2-proxy uses (CodeMie's installation creates codemie)"},
		doctor.Check{Name: "tokens", Status: doctor.Skip,
			Detail: `not checked: the realm has no client "codemie" to issue them (see client codemie)`})
}
