package apply_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// secretOpts resolves every client secret to s.
func secretOpts(s string) apply.Options {
	return apply.Options{Secret: func(*model.SecretRef) (model.Secret, error) { return model.Secret(s), nil }}
}

func applyWith(t *testing.T, c *keycloak.Client, p *plan.Plan, opts apply.Options) {
	t.Helper()
	if err := apply.Run(context.Background(), p, c, opts).Err(); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

func planWith(t *testing.T, c *keycloak.Client, cfg *model.Config, opts plan.Options) *plan.Plan {
	t.Helper()
	live, err := c.ReadLive(context.Background(), keycloak.ReadOptionsFor(cfg))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(cfg, live, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIdentityProvider brokers a realm to another realm of the same server standing in for Entra
// ID (no internet needed): roster creates the provider with its client secret and its mappers,
// and a brokered first sign-in works under ADMIN_EDIT, the attribute importer storing the claim
// and the hardcoded role granted. Then drift made with the admin API shows in the plan and
// apply fixes it, keeping the secret Keycloak only shows masked; a second apply writes nothing;
// and --rotate-secrets sends a new secret the provider then signs in with.
func TestIdentityProvider(t *testing.T) {
	realm, c := prepared(t)
	ctx := context.Background()
	upstream, provider := brokered(t, realm, "first-secret", map[string]string{"codemie_projects": "codemie,payments"})
	cfg := load(t, fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ADMIN_EDIT}
identityProviders:
%s    displayName: Entra stand-in
    scopes: [openid, profile, email]
    syncMode: IMPORT
    mappers:
      - {name: developer, type: hardcoded-role, role: developer}
      - {name: projects, type: attribute-importer, claim: codemie_projects, attribute: applications, syncMode: IMPORT}
`, realm.Name, provider))

	p := planFor(t, c, cfg)
	want := []string{"create identity_provider.entra-id", "create identity_provider_mapper.entra-id/developer",
		"create identity_provider_mapper.entra-id/projects"}
	if diff := cmp.Diff(want, summary(p)); diff != "" {
		t.Fatalf("first plan (-want +got):\n%s", diff)
	}
	applyWith(t, c, p, secretOpts("first-secret"))

	if err := realm.BrokeredSignIn(ctx, "codemie-e2e", "entra-id", "ent", "Up-pa55"); err != nil {
		t.Fatal(err)
	}
	u, ok, err := c.FindUser(ctx, "ent")
	if err != nil || !ok {
		t.Fatalf("brokered user not found: %v", err)
	}
	if got := u.Attributes[model.AttrApplications]; !cmp.Equal(got, []string{"codemie,payments"}) {
		t.Errorf("importer under ADMIN_EDIT stored applications = %q, want [codemie,payments]", got)
	}
	live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, lu := range live.Users {
		if lu.Username == "ent" && !cmp.Equal(lu.Roles, []model.Role{model.RoleDeveloper}) {
			t.Errorf("brokered user holds %v, want [developer]", lu.Roles)
		}
	}

	// Drift: someone renames the provider and changes a mapper's role in the console.
	var rep map[string]any
	if err := realm.Admin(ctx, http.MethodGet, "/identity-provider/instances/entra-id", nil, &rep); err != nil {
		t.Fatal(err)
	}
	rep["displayName"] = "Renamed"
	rep["config"].(map[string]any)["syncMode"] = "FORCE"
	if err := realm.Admin(ctx, http.MethodPut, "/identity-provider/instances/entra-id", rep, nil); err != nil {
		t.Fatal(err)
	}
	var mappers []map[string]any
	if err := realm.Admin(ctx, http.MethodGet, "/identity-provider/instances/entra-id/mappers", nil, &mappers); err != nil {
		t.Fatal(err)
	}
	for _, m := range mappers {
		if m["name"] == "developer" {
			m["config"].(map[string]any)["role"] = "admin"
			if err := realm.Admin(ctx, http.MethodPut, "/identity-provider/instances/entra-id/mappers/"+m["id"].(string), m, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	p = planFor(t, c, cfg)
	if diff := cmp.Diff([]string{"update identity_provider.entra-id", "update identity_provider_mapper.entra-id/developer"}, summary(p)); diff != "" {
		t.Fatalf("plan after drift (-want +got):\n%s", diff)
	}
	wantFields := []plan.FieldChange{
		{Name: "displayName", Before: plan.StringValue("Renamed"), After: plan.StringValue("Entra stand-in")},
		{Name: "syncMode", Before: plan.NameValue("FORCE"), After: plan.NameValue("IMPORT")},
	}
	if diff := cmp.Diff(wantFields, p.Changes[0].Fields); diff != "" {
		t.Errorf("provider fields after drift (-want +got):\n%s", diff)
	}
	applyWith(t, c, p, apply.Options{}) // no secret needed: the stored one is kept

	counter := &keycloaktest.CountingTransport{}
	scfg := realm.ServiceAccountConfig()
	scfg.Transport = counter
	cc, err := keycloak.Dial(ctx, scfg)
	if err != nil {
		t.Fatal(err)
	}
	if p := planFor(t, cc, cfg); p.HasChanges() {
		t.Fatalf("plan after the fix: %v", summary(p))
	}
	applyWith(t, cc, planFor(t, cc, cfg), apply.Options{})
	if n := counter.Writes(); n != 0 {
		t.Errorf("second apply made %d writes, want 0", n)
	}
	// The secret survived the update: a second user signs in through the provider.
	if err := upstream.Admin(ctx, http.MethodPost, "/users", map[string]any{"username": "ent2", "enabled": true,
		"email": "ent2@upstream.example", "emailVerified": true, "firstName": "Up", "lastName": "Two",
		"credentials": []map[string]any{{"type": "password", "value": "Up-pa55", "temporary": false}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := realm.BrokeredSignIn(ctx, "codemie-e2e", "entra-id", "ent2", "Up-pa55"); err != nil {
		t.Fatalf("sign-in after the drift fix (secret lost?): %v", err)
	}

	// Rotation: the upstream client gets a new secret; only --rotate-secrets sends it.
	var clients []map[string]any
	if err := upstream.Admin(ctx, http.MethodGet, "/clients?clientId=codemie-broker", nil, &clients); err != nil || len(clients) != 1 {
		t.Fatalf("upstream client: %v", err)
	}
	clients[0]["secret"] = "second-secret"
	if err := upstream.Admin(ctx, http.MethodPut, "/clients/"+clients[0]["id"].(string), clients[0], nil); err != nil {
		t.Fatal(err)
	}
	p = planWith(t, c, cfg, plan.Options{RotateSecrets: true})
	if diff := cmp.Diff([]plan.FieldChange{{Name: "clientSecret", Sensitive: true, Source: "env ROSTER_SECRET_UNUSED"}}, p.Changes[0].Fields); diff != "" {
		t.Fatalf("rotation plan (-want +got):\n%s", diff)
	}
	applyWith(t, c, p, secretOpts("second-secret"))
	if err := upstream.Admin(ctx, http.MethodPost, "/users", map[string]any{"username": "ent3", "enabled": true,
		"email": "ent3@upstream.example", "emailVerified": true, "firstName": "Up", "lastName": "Three",
		"credentials": []map[string]any{{"type": "password", "value": "Up-pa55", "temporary": false}}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := realm.BrokeredSignIn(ctx, "codemie-e2e", "entra-id", "ent3", "Up-pa55"); err != nil {
		t.Fatalf("sign-in after rotation: %v", err)
	}
}

// TestImporterUnderPolicies checks, for each unmanaged-attribute policy, whether an attribute
// importer's value survives a brokered first sign-in: it does under ENABLED, ADMIN_EDIT and
// ADMIN_VIEW, on every Keycloak roster supports. This is why roster recommends ADMIN_EDIT and
// has no lint against ADMIN_EDIT or ADMIN_VIEW with an importer. Under DISABLED, Keycloak 26
// drops the value and 24 and 25 keep it.
func TestImporterUnderPolicies(t *testing.T) {
	for _, tt := range []struct {
		policy string
		want   []string
	}{
		{"ENABLED", []string{"codemie"}},
		{"ADMIN_EDIT", []string{"codemie"}},
		{"ADMIN_VIEW", []string{"codemie"}},
		{"DISABLED", nil},
	} {
		t.Run(tt.policy, func(t *testing.T) {
			realm, c := prepared(t)
			ctx := context.Background()
			_, provider := brokered(t, realm, "broker-secret", map[string]string{"codemie_projects": "codemie"})
			cfg := load(t, fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: %s}
identityProviders:
%s    mappers:
      - {name: projects, type: attribute-importer, claim: codemie_projects, attribute: applications, syncMode: IMPORT}
`, realm.Name, tt.policy, provider))
			applyWith(t, c, planFor(t, c, cfg), secretOpts("broker-secret"))
			if err := realm.BrokeredSignIn(ctx, "codemie-e2e", "entra-id", "ent", "Up-pa55"); err != nil {
				t.Fatal(err)
			}
			var users []struct {
				Attributes map[string][]string `json:"attributes"`
			}
			if err := realm.Admin(ctx, http.MethodGet, "/users?exact=true&username=ent", nil, &users); err != nil || len(users) != 1 {
				t.Fatalf("brokered user: %v (%d found)", err, len(users))
			}
			want := tt.want
			if tt.policy == "DISABLED" && keycloakMajor(t, realm) < 26 {
				want = []string{"codemie"}
			}
			if got := users[0].Attributes[model.AttrApplications]; !cmp.Equal(got, want) {
				t.Errorf("under %s the importer stored applications = %q, want %q", tt.policy, got, want)
			}
		})
	}
}

// keycloakMajor returns the major version of the test server's Keycloak.
func keycloakMajor(t *testing.T, realm *keycloaktest.Realm) int {
	t.Helper()
	v, err := realm.Server.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	major, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	if err != nil {
		t.Fatalf("Keycloak version %q: %v", v, err)
	}
	return major
}

// brokered prepares a brokered sign-in into realm (keycloaktest.NewBroker) and returns the
// stand-in and the start of a configuration's identity provider entra-id for it, to which keys
// can be added.
func brokered(t *testing.T, realm *keycloaktest.Realm, secret string, claims map[string]string) (*keycloaktest.Realm, string) {
	t.Helper()
	upstream, issuer := keycloaktest.NewBroker(t, realm, secret, claims)
	oidc := issuer + "/protocol/openid-connect"
	return upstream, fmt.Sprintf(`  - alias: entra-id
    issuer: %s
    authorizationUrl: %s/auth
    tokenUrl: %s/token
    jwksUrl: %s/certs
    clientId: codemie-broker
    clientSecret: {env: ROSTER_SECRET_UNUSED}
`, issuer, oidc, oidc, oidc)
}
