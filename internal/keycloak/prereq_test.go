package keycloak_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// TestReadPrerequisites reads a client scope's mappers and the identity providers with their
// mappers as an administrator left them, client secret masked, and checks that ReadLive reads
// them only when asked, at one request for the scope and one plus one per provider.
func TestReadPrerequisites(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	admin := func(method, path string, body any) {
		t.Helper()
		if err := realm.Admin(ctx, method, path, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, realm)

	scope, err := c.ReadClientScope(ctx, "profile")
	if err != nil || scope == nil {
		t.Fatalf("ReadClientScope(profile) = %v, %v; want the built-in scope", scope, err)
	}
	admin(http.MethodPost, "/client-scopes/"+scope.ID+"/protocol-mappers/models", map[string]any{
		"name": "applications", "protocol": "openid-connect", "protocolMapper": model.ProtocolMapperUserAttribute,
		"config": map[string]string{"user.attribute": "applications", "claim.name": "apps", "jsonType.label": "String",
			"multivalued": "true", "id.token.claim": "true", "access.token.claim": "false", "custom.key": "kept"},
	})
	admin(http.MethodPost, "/identity-provider/instances", map[string]any{
		"alias": "entra", "displayName": "Entra ID", "providerId": "oidc", "enabled": true,
		"config": map[string]string{"clientId": "app-id", "clientSecret": "s3cret", "issuer": "https://idp.example/t/v2.0",
			"authorizationUrl": "https://idp.example/t/authorize", "tokenUrl": "https://idp.example/t/token",
			"jwksUrl": "https://idp.example/t/keys", "useJwksUrl": "true", "defaultScope": "openid email", "syncMode": "IMPORT"},
	})
	admin(http.MethodPost, "/identity-provider/instances/entra/mappers", map[string]any{
		"name": "developer", "identityProviderAlias": "entra", "identityProviderMapper": model.IdPMapperHardcodedRole,
		"config": map[string]string{"role": "developer", "syncMode": "INHERIT"},
	})
	admin(http.MethodPost, "/identity-provider/instances/entra/mappers", map[string]any{
		"name": "department", "identityProviderAlias": "entra", "identityProviderMapper": model.IdPMapperAttributeImporter,
		"config": map[string]string{"claim": "dept", "user.attribute": "department", "syncMode": "FORCE"},
	})
	admin(http.MethodPost, "/identity-provider/instances", map[string]any{
		"alias": "other", "providerId": "oidc", "enabled": false,
		// An explicit syncMode: Keycloak 25 fills in LEGACY when none is given, 24 and 26 do not.
		"config": map[string]string{"clientId": "x", "authorizationUrl": "https://o.example/a", "tokenUrl": "https://o.example/t",
			"syncMode": "IMPORT"},
	})

	if s, err := c.ReadClientScope(ctx, "no-such-scope"); s != nil || err != nil {
		t.Errorf("ReadClientScope(no-such-scope) = %v, %v; want nil, nil", s, err)
	}

	counter := &keycloaktest.CountingTransport{}
	cfg := realm.ServiceAccountConfig()
	cfg.Transport = counter
	cc, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	live, err := cc.ReadLive(ctx, keycloak.ReadOptions{ClientScope: "profile", IdentityProviders: true})
	if err != nil {
		t.Fatal(err)
	}
	// Users, two role-member listings, profile, login settings, roles, the count of users (7), the
	// client scopes (1), the providers (1) and their mappers (2), and the lookup of CodeMie's
	// client, which this realm lacks (1).
	if got := counter.Count(http.MethodGet); got != 12 {
		t.Errorf("ReadLive with prerequisites made %d GET requests, want 12", got)
	}

	got := live.ClientScope.Mapper("applications")
	if got == nil {
		t.Fatalf("mapper applications not read; scope has %v", live.ClientScope.Mappers)
	}
	want := model.LiveTokenMapper{Name: "applications", ProtocolMapper: model.ProtocolMapperUserAttribute,
		Attribute: "applications", Claim: "apps", JSONType: "String", Multivalued: true, IDToken: true,
		Config: map[string]string{"user.attribute": "applications", "claim.name": "apps", "jsonType.label": "String",
			"multivalued": "true", "id.token.claim": "true", "access.token.claim": "false", "custom.key": "kept"}}
	if diff := cmp.Diff(want, *got, cmpopts.IgnoreFields(model.LiveTokenMapper{}, "ID")); diff != "" {
		t.Errorf("mapper applications (-want +got):\n%s", diff)
	}
	if live.ClientScope.Mapper("website") == nil {
		t.Errorf("built-in mapper website not read")
	}

	wantIdPs := []model.LiveIdentityProvider{{
		Alias: "entra", DisplayName: "Entra ID", Enabled: true, ProviderID: "oidc", ClientID: "app-id",
		Endpoints: model.Endpoints{Issuer: "https://idp.example/t/v2.0", AuthorizationURL: "https://idp.example/t/authorize",
			TokenURL: "https://idp.example/t/token", JWKSURL: "https://idp.example/t/keys"},
		DefaultScope: "openid email", SyncMode: "IMPORT",
		Mappers: []model.LiveIdentityProviderMapper{
			{Name: "department", Type: model.IdPMapperAttributeImporter, Claim: "dept", Attribute: "department", SyncMode: "FORCE",
				Config: map[string]string{"claim": "dept", "user.attribute": "department", "syncMode": "FORCE"}},
			{Name: "developer", Type: model.IdPMapperHardcodedRole, Role: "developer", SyncMode: "INHERIT",
				Config: map[string]string{"role": "developer", "syncMode": "INHERIT"}},
		},
	}, {
		Alias: "other", ProviderID: "oidc", ClientID: "x",
		Endpoints: model.Endpoints{AuthorizationURL: "https://o.example/a", TokenURL: "https://o.example/t"}, SyncMode: "IMPORT",
	}}
	if diff := cmp.Diff(wantIdPs, live.IdentityProviders,
		cmpopts.IgnoreFields(model.LiveIdentityProvider{}, "InternalID", "Config"),
		cmpopts.IgnoreFields(model.LiveIdentityProviderMapper{}, "ID")); diff != "" {
		t.Errorf("identity providers (-want +got):\n%s", diff)
	}
	if s := live.IdentityProviders[0].Config["clientSecret"]; s == "s3cret" || s == "" {
		t.Errorf("clientSecret read as %q, want Keycloak's mask", s)
	}

	plain, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plain.ClientScope != nil || plain.IdentityProviders != nil {
		t.Errorf("ReadLive without options read prerequisites: %v, %v", plain.ClientScope, plain.IdentityProviders)
	}
}
