package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/schema"
)

// A plan made from a real Keycloak realm matches the schema: every kind of change, with live
// values as Keycloak returns them (users with attributes, roles and required actions, the
// realm's client scope and its mappers), a rename, a removal, secrets and identity links.
func TestJSONPlanFromKeycloakMatchesTheSchema(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	if err := realm.SeedUsers(ctx, []keycloaktest.User{
		{Username: "bob", Email: "bob@corp.com", FirstName: "Bob", Enabled: true, RealmRoles: []string{"developer"},
			Attributes: map[string][]string{"applications": {"payments"}, "roster_managed": {"true"}, "dept": {"a", "b"}}},
		{Username: "old", Email: "old@corp.com", Enabled: true, RealmRoles: []string{"developer", "admin"},
			Attributes: map[string][]string{"applications": {"search"}, "roster_managed": {"true"}}},
		{Username: "ann", Email: "ann@corp.com", Enabled: true, RealmRoles: []string{"developer"},
			Attributes: map[string][]string{"roster_managed": {"true"}}},
	}); err != nil {
		t.Fatal(err)
	}
	// A realm at another policy than the files' (the plan changes it) that lets usernames
	// change (the plan renames ann).
	if err := realm.SetPolicy(ctx, "ADMIN_VIEW"); err != nil {
		t.Fatal(err)
	}
	if err := realm.Admin(ctx, http.MethodPut, "", map[string]any{"editUsernameAllowed": true}, nil); err != nil {
		t.Fatal(err)
	}
	c, err := keycloak.Dial(ctx, realm.ServiceAccountConfig())
	if err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ADMIN_EDIT, prune: disable}
roles:
  - {name: auditor, description: Reads logs}
tokenMappers: {}
identityProviders:
  - alias: entra-id
    displayName: Entra ID
    clientId: roster
    clientSecret: {env: ROSTER_SECRET_ENTRA}
    issuer: https://login.example.com/tenant/v2.0
    authorizationUrl: https://login.example.com/tenant/oauth2/v2.0/authorize
    tokenUrl: https://login.example.com/tenant/oauth2/v2.0/token
    jwksUrl: https://login.example.com/tenant/discovery/v2.0/keys
    mappers:
      - {name: developer, type: hardcoded-role, role: developer}
users:
  - username: bob
    email: robert@corp.com
    enabled: false
    role: admin
    requiredActions: [UPDATE_PASSWORD]
    attributes: {dept: [a]}
  - username: annie
    email: ann@corp.com
    role: developer
    projects: {member: [payments], admin: [search]}
  - username: carol
    email: carol@corp.com
    firstName: Carol
    role: developer
    external: true
    projects: {member: [codemie]}
    initialPassword: {env: ROSTER_SECRET_CAROL}
    federatedIdentities:
      - {provider: entra-id, userId: 6a1c5f0e, userName: carol@corp.com}
`, realm.Name)
	cfg, diags := schema.LoadFiles([]schema.File{{Name: "roster.yaml", Data: []byte(yaml)}}, schema.Options{})
	if diags.HasErrors() {
		t.Fatalf("configuration: %v", diags)
	}
	live, err := c.ReadLive(ctx, keycloak.ReadOptionsFor(cfg))
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(cfg, live, plan.Options{AllowMassRemoval: true})
	if err != nil {
		var d interface{ Details() []string }
		if errors.As(err, &d) {
			t.Fatal(err, d.Details())
		}
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, ch := range p.Changes {
		kinds[ch.Action.String()+" "+string(ch.Addr.Kind)] = true
	}
	for _, want := range []string{"update realm", "create role", "create token_mapper", "create identity_provider",
		"create identity_provider_mapper", "update user", "rename user", "create user", "disable user"} {
		if !kinds[want] {
			t.Errorf("the plan has no %s change; it has %v", want, kinds)
		}
	}
	var b bytes.Buffer
	if err := JSON(&b, p, diags); err != nil {
		t.Fatal(err)
	}
	checkSchema(t, planSchema(t), "the plan from Keycloak", b.Bytes())
	if _, err := ReadJSON(b.Bytes()); err != nil {
		t.Errorf("ReadJSON of the plan from Keycloak: %v", err)
	}
}
