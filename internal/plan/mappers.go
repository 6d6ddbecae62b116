package plan

import (
	"slices"

	"github.com/rosterhq/roster/internal/model"
)

// tokenMapperFields are the configuration keys roster manages on a token mapper, in the order
// fields show them, with the value each must have for an attribute (see desiredMapperConfig).
var tokenMapperFields = []string{
	"user.attribute", "claim.name", "jsonType.label", "multivalued",
	"id.token.claim", "access.token.claim", "userinfo.token.claim",
}

// desiredMapperConfig is what roster's fields of the mapper for attr must hold: the claim named
// like the attribute, a single String value, in the ID token, the access token and userinfo.
func desiredMapperConfig(attr string) map[string]string {
	return map[string]string{
		"user.attribute": attr, "claim.name": attr, "jsonType.label": "String", "multivalued": "false",
		"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true",
	}
}

// tokenMappers returns the creations and corrections of the token mappers the configuration
// declares, by attribute. A mapper is found by name (the attribute's name), else as a User
// Attribute mapper that already fills the claim; other mappers of the scope are left alone.
// The caller has checked that the scope exists.
func (b *builder) tokenMappers() []Change {
	tm, scope := b.cfg.TokenMappers, b.live.ClientScope
	attrs := slices.Sorted(slices.Values(tm.Attributes))
	var out []Change
	for _, attr := range attrs {
		want := desiredMapperConfig(attr)
		live := scope.Mapper(attr)
		if live == nil {
			i := slices.IndexFunc(scope.Mappers, func(m model.LiveTokenMapper) bool {
				return m.ProtocolMapper == model.ProtocolMapperUserAttribute && m.Claim == attr
			})
			if i >= 0 {
				live = &scope.Mappers[i]
			}
		}
		addr := Address{Kind: KindTokenMapper, Name: attr}
		if live == nil {
			cfg := want
			// Keycloak puts new User Attribute mappers into token introspection as well.
			cfg["introspection.token.claim"] = "true"
			after := mapperFromConfig(model.LiveTokenMapper{Name: attr, ProtocolMapper: model.ProtocolMapperUserAttribute}, cfg)
			fields := []FieldChange{{Name: "clientScope", After: StringValue(scope.Name)}}
			for _, k := range tokenMapperFields {
				fields = append(fields, FieldChange{Name: k, After: configValue(k, want[k])})
			}
			out = append(out, Change{Addr: addr, Action: Create, Fields: fields,
				TokenMapper: &TokenMapperChange{Scope: scope.Name, ScopeID: scope.ID, After: after}})
			continue
		}
		var fields []FieldChange
		if live.ProtocolMapper != model.ProtocolMapperUserAttribute {
			fields = append(fields, FieldChange{Name: "protocolMapper", Before: NameValue(live.ProtocolMapper), After: NameValue(model.ProtocolMapperUserAttribute)})
		}
		cfg := make(map[string]string, len(live.Config)+len(want))
		for k, v := range live.Config {
			cfg[k] = v
		}
		for _, k := range tokenMapperFields {
			if have, ok := live.Config[k]; !ok && k == "multivalued" && want[k] == "false" || have == want[k] {
				continue // an absent multivalued is false
			}
			cfg[k] = want[k]
			fields = append(fields, FieldChange{Name: k, Before: configValue(k, live.Config[k]), After: configValue(k, want[k])})
		}
		if len(fields) == 0 {
			continue
		}
		after := mapperFromConfig(model.LiveTokenMapper{ID: live.ID, Name: live.Name, ProtocolMapper: model.ProtocolMapperUserAttribute}, cfg)
		before := *live
		out = append(out, Change{Addr: addr, Action: Update, Fields: fields,
			TokenMapper: &TokenMapperChange{Scope: scope.Name, ScopeID: scope.ID, Before: &before, After: after}})
	}
	return out
}

// mapperFromConfig fills m's typed fields and Config from cfg.
func mapperFromConfig(m model.LiveTokenMapper, cfg map[string]string) model.LiveTokenMapper {
	m.Attribute, m.Claim, m.JSONType = cfg["user.attribute"], cfg["claim.name"], cfg["jsonType.label"]
	m.Multivalued, m.IDToken = cfg["multivalued"] == "true", cfg["id.token.claim"] == "true"
	m.AccessToken, m.UserInfo = cfg["access.token.claim"] == "true", cfg["userinfo.token.claim"] == "true"
	m.Config = cfg
	return m
}

// configValue is a mapper configuration value: the attribute and the claim are strings, the
// flags and the JSON type (which Keycloak stores as text) names; "" is absent.
func configValue(key, v string) Value {
	if key == "user.attribute" || key == "claim.name" {
		return OptionalString(v)
	}
	return OptionalName(v)
}

// mappingAfter is the token mapping that reaches CodeMie's client once changes are applied: the
// live one, with the token mappers the plan creates or corrects in place, when their client scope
// is a default scope of the client. Without the client it is RecommendedMapping, as for
// model.Live.Mapping.
func mappingAfter(live *model.Live, changes []Change) model.TokenMapping {
	if live.Client == nil {
		return live.Mapping()
	}
	ms := slices.Clone(live.Client.Mapping.Mappers)
	for _, c := range changes {
		tc := c.TokenMapper
		if tc == nil || !slices.Contains(live.Client.DefaultScopes, tc.Scope) {
			continue
		}
		after := tc.After
		after.Scope = tc.Scope
		if i := slices.IndexFunc(ms, func(m model.LiveTokenMapper) bool { return tc.Before != nil && m.ID == tc.Before.ID }); i >= 0 {
			ms[i] = after
		} else {
			ms = append(ms, after)
		}
	}
	return model.TokenMapping{Mappers: ms}
}
