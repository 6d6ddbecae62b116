package apply_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// summary lists a plan's changes as "action address".
func summary(p *plan.Plan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Action.String()+" "+c.Addr.String())
	}
	return out
}

// applyClean applies p and fails the test on any failed change.
func applyClean(t *testing.T, c *keycloak.Client, p *plan.Plan) {
	t.Helper()
	if err := apply.Run(context.Background(), p, c, apply.Options{}).Err(); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

// TestTokenMappers creates the mappers on a fresh realm, then corrects a mapper an administrator
// changed in the console — keeping the keys roster does not manage and the scope's other
// mappers — and converges: a second plan is empty and a second apply writes nothing.
func TestTokenMappers(t *testing.T) {
	realm, c := prepared(t)
	ctx := context.Background()
	cfg := load(t, fmt.Sprintf("version: 1\nrealm: %s\ntokenMappers: {}\n", realm.Name))

	p := planFor(t, c, cfg)
	want := []string{"create token_mapper.applications", "create token_mapper.applications_admin", "create token_mapper.user_type"}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Fatalf("first plan (-want +got):\n%s", diff)
	}
	applyClean(t, c, p)
	scope, err := c.ReadClientScope(ctx, "profile")
	if err != nil {
		t.Fatal(err)
	}
	m := scope.Mapper("applications")
	if m == nil || !m.IDToken || !m.AccessToken || !m.UserInfo || m.Multivalued || m.JSONType != "String" || m.Claim != "applications" {
		t.Fatalf("mapper applications as stored: %+v", m)
	}

	// Drift: someone makes the mapper multi-valued, renames its claim and adds a key of their own.
	drifted := map[string]any{"id": m.ID, "name": m.Name, "protocol": "openid-connect", "protocolMapper": m.ProtocolMapper,
		"config": map[string]string{"user.attribute": "applications", "claim.name": "projects", "jsonType.label": "String",
			"multivalued": "true", "id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "false",
			"introspection.token.claim": "true", "lightweight.claim": "false"}}
	if err := realm.Admin(ctx, http.MethodPut, "/client-scopes/"+scope.ID+"/protocol-mappers/models/"+m.ID, drifted, nil); err != nil {
		t.Fatal(err)
	}
	p = planFor(t, c, cfg)
	if diff := cmp.Diff([]string{"update token_mapper.applications"}, summary(p)); diff != "" {
		t.Fatalf("plan after drift (-want +got):\n%s", diff)
	}
	wantFields := []plan.FieldChange{
		{Name: "claim.name", Before: plan.StringValue("projects"), After: plan.StringValue("applications")},
		{Name: "multivalued", Before: plan.NameValue("true"), After: plan.NameValue("false")},
		{Name: "userinfo.token.claim", Before: plan.NameValue("false"), After: plan.NameValue("true")},
	}
	if diff := cmp.Diff(wantFields, p.Changes[0].Fields); diff != "" {
		t.Errorf("fields after drift (-want +got):\n%s", diff)
	}
	applyClean(t, c, p)
	scope, err = c.ReadClientScope(ctx, "profile")
	if err != nil {
		t.Fatal(err)
	}
	got := scope.Mapper("applications")
	if got.Config["lightweight.claim"] != "false" || got.Claim != "applications" || got.Multivalued || !got.UserInfo {
		t.Errorf("mapper after the fix: %+v", got.Config)
	}
	if w := scope.Mapper("website"); w == nil || w.Claim != "website" {
		t.Errorf("unrelated mapper website changed: %+v", w)
	}

	counter := &keycloaktest.CountingTransport{}
	scfg := realm.ServiceAccountConfig()
	scfg.Transport = counter
	cc, err := keycloak.Dial(ctx, scfg)
	if err != nil {
		t.Fatal(err)
	}
	p = planFor(t, cc, cfg)
	if p.HasChanges() {
		t.Errorf("plan after apply: %v", summary(p))
	}
	applyClean(t, cc, p)
	if n := counter.Writes(); n != 0 {
		t.Errorf("second apply made %d writes, want 0", n)
	}
}

// TestTokenMappersMissingScope refuses a plan whose client scope does not exist.
func TestTokenMappersMissingScope(t *testing.T) {
	realm, c := prepared(t)
	cfg := load(t, fmt.Sprintf("version: 1\nrealm: %s\ntokenMappers: {clientScope: codemie}\n", realm.Name))
	live, err := c.ReadLive(context.Background(), keycloak.ReadOptionsFor(cfg))
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Build(cfg, live, plan.Options{})
	if want := fmt.Sprintf(`realm %q has no client scope "codemie" to hold the token mappers`, realm.Name); err == nil || err.Error() != want {
		t.Errorf("Build = %v, want %s", err, want)
	}
}

// TestTokenClaims is the end-to-end check: users roster provisions, with the mappers roster
// creates, sign in through a client with the default scopes and get exactly the CodeMie claims
// the file declares — one comma-joined string per attribute, in the access token, the ID token
// and userinfo — and nothing for an attribute without a value.
func TestTokenClaims(t *testing.T) {
	realm, c := prepared(t)
	ctx := context.Background()
	if err := realm.CreateLoginClient(ctx, "codemie-e2e"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ROSTER_SECRET_E2E_PASSWORD", "Pa55word-e2e")
	cfg := load(t, fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ADMIN_EDIT}
tokenMappers: {}
users:
  - username: dev
    email: dev@example.com
    firstName: Dev
    lastName: One
    role: developer
    projects: {member: [codemie, search-ai], admin: [payments-ai]}
    initialPassword: {env: ROSTER_SECRET_E2E_PASSWORD, temporary: false}
  - username: guest
    email: guest@example.com
    firstName: Guest
    lastName: Two
    role: developer
    external: true
    projects: {member: [codemie]}
    initialPassword: {env: ROSTER_SECRET_E2E_PASSWORD, temporary: false}
`, realm.Name))
	p := planFor(t, c, cfg)
	res := apply.Run(ctx, p, c, apply.Options{Password: func(ref *model.SecretRef) (model.Password, error) {
		return model.Password{Value: model.Secret("Pa55word-e2e")}, nil
	}})
	if err := res.Err(); err != nil {
		t.Fatalf("apply: %v", err)
	}

	for _, tt := range []struct {
		user string
		want map[string]any
	}{
		{"dev", map[string]any{"applications": "codemie,payments-ai,search-ai", "applications_admin": "payments-ai"}},
		{"guest", map[string]any{"applications": "codemie", "user_type": "external"}},
	} {
		tok, err := realm.SignIn(ctx, "codemie-e2e", tt.user, "Pa55word-e2e")
		if err != nil {
			t.Fatal(err)
		}
		info, err := realm.UserInfo(ctx, tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		for name, jwt := range map[string]string{"access token": tok.AccessToken, "ID token": tok.IDToken, "userinfo": ""} {
			claims := info
			if jwt != "" {
				if claims, err = keycloaktest.Claims(jwt); err != nil {
					t.Fatal(err)
				}
			}
			got := map[string]any{}
			for _, k := range []string{model.AttrApplications, model.AttrApplicationsAdmin, model.AttrUserType} {
				if v, ok := claims[k]; ok {
					got[k] = v
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: CodeMie claims in the %s (-want +got):\n%s", tt.user, name, diff)
			}
		}
	}
}
