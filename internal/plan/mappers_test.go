package plan

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

// withConfig is m with the configuration cfg.
func withConfig(m model.LiveTokenMapper, cfg map[string]string) model.LiveTokenMapper {
	m.SetConfig(cfg)
	return m
}

func mapperConfig(attrs ...string) *model.Config {
	c := config()
	c.TokenMappers = &model.TokenMappers{ClientScope: "profile", Attributes: attrs}
	return c
}

// TestTokenMappersCorrectOnlyRosterKeys checks that a wrong mapper is corrected in the keys roster
// manages while every other key is kept (an absent multivalued counts as false), that mappers of other attributes are left alone, and
// that a correct mapper under another name is recognised by its claim.
func TestTokenMappersCorrectOnlyRosterKeys(t *testing.T) {
	t.Parallel()
	live := realm()
	live.ClientScope = &model.LiveClientScope{ID: "sid", Name: "profile", Mappers: []model.LiveTokenMapper{
		withConfig(model.LiveTokenMapper{ID: "a", Name: "applications", ProtocolMapper: model.ProtocolMapperUserAttribute},
			map[string]string{"user.attribute": "apps", "claim.name": "applications", "jsonType.label": "JSON",
				"id.token.claim": "true", "access.token.claim": "false", "userinfo.token.claim": "true",
				"introspection.token.claim": "false", "lightweight.claim": "true"}),
		withConfig(model.LiveTokenMapper{ID: "w", Name: "website", ProtocolMapper: model.ProtocolMapperUserAttribute},
			map[string]string{"user.attribute": "website", "claim.name": "website", "multivalued": "true"}),
		withConfig(model.LiveTokenMapper{ID: "u", Name: "CodeMie user type", ProtocolMapper: model.ProtocolMapperUserAttribute},
			model.CodeMieTokenMapper(model.AttrUserType).Config),
	}}
	p, err := Build(mapperConfig(model.AttrApplications, model.AttrUserType), live, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 {
		t.Fatalf("plan has %d changes, want 1: %v", len(p.Changes), digest(p))
	}
	c := p.Changes[0]
	if c.Addr != (Address{Kind: KindTokenMapper, Name: "applications"}) || c.Action != Update {
		t.Fatalf("change is %s %s, want update token_mapper.applications", c.Action, c.Addr)
	}
	want := map[string]string{"user.attribute": "applications", "claim.name": "applications", "jsonType.label": "String",
		"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true",
		"introspection.token.claim": "false", "lightweight.claim": "true"}
	if diff := cmp.Diff(want, c.TokenMapper.After.Config); diff != "" {
		t.Errorf("mapper sent (-want +got):\n%s", diff)
	}
	if c.TokenMapper.After.ID != "a" || c.TokenMapper.ScopeID != "sid" {
		t.Errorf("update addresses mapper %q of scope %q, want a of sid", c.TokenMapper.After.ID, c.TokenMapper.ScopeID)
	}
	wantFields := []FieldChange{
		{Name: "user.attribute", Before: StringValue("apps"), After: StringValue("applications")},
		{Name: "jsonType.label", Before: NameValue("JSON"), After: NameValue("String")},
		{Name: "access.token.claim", Before: NameValue("false"), After: NameValue("true")},
	}
	if diff := cmp.Diff(wantFields, c.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if live.ClientScope.Mappers[0].Config["user.attribute"] != "apps" {
		t.Errorf("Build changed the live mapper")
	}
}

func TestTokenMappersMissingScope(t *testing.T) {
	t.Parallel()
	_, err := Build(mapperConfig(model.AttrApplications), realm(), Options{})
	var se *ClientScopeError
	if !errors.As(err, &se) {
		t.Fatalf("Build = %v, want a ClientScopeError", err)
	}
	if got, want := err.Error(), `realm "codemie" has no client scope "profile" to hold the token mappers`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}
