package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

// TestIdentityProvidersLeaveTheRestAlone checks that an update changes only the fields the files
// set, that undeclared mappers and providers of another type are left alone, and that
// --rotate-secrets adds nothing for a provider without a secret.
func TestIdentityProvidersLeaveTheRestAlone(t *testing.T) {
	t.Parallel()
	cfg := config()
	cfg.IdentityProviders = []model.IdentityProvider{
		{Alias: "entra", ClientID: "app", Endpoints: model.Endpoints{AuthorizationURL: "https://a/auth", TokenURL: "https://a/token"},
			Mappers: []model.IdentityProviderMapper{{Name: "dev", Type: "hardcoded-role", Role: "developer"}}},
		{Alias: "github", ClientID: "gh", Endpoints: model.Endpoints{AuthorizationURL: "https://g/auth", TokenURL: "https://g/token"}},
	}
	live := realm()
	live.IdentityProviders = []model.LiveIdentityProvider{
		{Alias: "entra", ProviderID: "oidc", Enabled: false, DisplayName: "Old", ClientID: "app",
			Config: map[string]string{"clientId": "app", "authorizationUrl": "https://a/auth", "tokenUrl": "https://old/token",
				"syncMode": "FORCE", "trustEmail": "true"},
			Mappers: []model.LiveIdentityProviderMapper{
				{ID: "1", Name: "dev", Type: model.IdPMapperHardcodedRole, Config: map[string]string{"role": "developer", "syncMode": "INHERIT"}},
				{ID: "2", Name: "extra", Type: model.IdPMapperAttributeImporter, Config: map[string]string{"claim": "x"}},
			}},
		{Alias: "github", ProviderID: "github"},
	}
	p, err := Build(cfg, live, Options{RotateSecrets: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []change{{Addr: "identity_provider.entra", Action: "update",
		Fields: []FieldChange{{Name: "tokenUrl", Before: StringValue("https://old/token"), After: StringValue("https://a/token")}}}}
	if diff := cmp.Diff(want, digest(p)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"tokenUrl": "https://a/token"}, p.Changes[0].IdentityProvider.Update.Config); diff != "" {
		t.Errorf("update config (-want +got):\n%s", diff)
	}
	if u := p.Changes[0].IdentityProvider; u.Update.DisplayName != nil || u.Update.Enabled != nil || u.Secret != nil {
		t.Errorf("update touches what the file leaves alone: %+v", u)
	}
	wantWarnings := []string{`identity provider "entra" changes its endpoints, where Keycloak sends its client secret and users' sign-ins: tokenUrl "https://old/token" → "https://a/token"`}
	if diff := cmp.Diff(wantWarnings, p.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	wantNotes := []string{`identity provider "github" is of type github, not OpenID Connect (oidc): roster leaves it and its mappers alone`}
	if diff := cmp.Diff(wantNotes, p.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

// TestIdentityProviderEndpointsWarn holds plans to calling out, as warnings, the hosts a created
// provider's endpoints are on and every endpoint an update moves — where Keycloak sends the
// client secret — and to saying nothing when no endpoint changes.
func TestIdentityProviderEndpointsWarn(t *testing.T) {
	t.Parallel()
	cfg := config()
	cfg.IdentityProviders = []model.IdentityProvider{
		{Alias: "moved", ClientID: "app", Endpoints: model.Endpoints{AuthorizationURL: "https://a/auth", TokenURL: "https://b/token", JWKSURL: "https://a/keys"}},
		{Alias: "new", ClientID: "app", Endpoints: model.Endpoints{AuthorizationURL: "https://idp.example/auth",
			TokenURL: "https://collector.example:8443/token", JWKSURL: "not a url\x1b[2J"}},
		{Alias: "same", ClientID: "app", DisplayName: "Same", Endpoints: model.Endpoints{AuthorizationURL: "https://a/auth", TokenURL: "https://a/token"}},
	}
	live := realm()
	live.IdentityProviders = []model.LiveIdentityProvider{
		{Alias: "moved", ProviderID: "oidc", Config: map[string]string{"clientId": "app", "authorizationUrl": "https://a/auth",
			"tokenUrl": "https://a/token", "useJwksUrl": "true", "validateSignature": "true"}},
		{Alias: "same", ProviderID: "oidc", Config: map[string]string{"clientId": "app", "authorizationUrl": "https://a/auth", "tokenUrl": "https://a/token"}},
	}
	p, err := Build(cfg, live, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`identity provider "moved" changes its endpoints, where Keycloak sends its client secret and users' sign-ins: tokenUrl "https://a/token" → "https://b/token"; jwksUrl (none) → "https://a/keys"`,
		`identity provider "new" is created with endpoints on "collector.example:8443", "idp.example", "not a url\x1b[2J": Keycloak sends its client secret and users' sign-ins there`,
	}
	if diff := cmp.Diff(want, p.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
