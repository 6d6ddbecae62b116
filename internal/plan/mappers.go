package plan

import (
	"slices"

	"github.com/rosterhq/roster/internal/model"
)

// tokenMappers returns the creations and corrections of the token mappers the configuration
// declares, by attribute. A mapper is found by name (the attribute's name), else as a User
// Attribute mapper that already fills the claim; other mappers of the scope are left alone.
// The caller has checked that the scope exists.
func (b *builder) tokenMappers() []Change {
	tm, scope := b.cfg.TokenMappers, b.live.ClientScope
	attrs := slices.Sorted(slices.Values(tm.Attributes))
	var out []Change
	for _, attr := range attrs {
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
			after := model.CodeMieTokenMapper(attr)
			// Keycloak puts new User Attribute mappers into token introspection as well.
			after.Config["introspection.token.claim"] = "true"
			fields := []FieldChange{{Name: "clientScope", After: StringValue(scope.Name)}}
			for _, kv := range model.CodeMieMapperConfig(attr) {
				fields = append(fields, FieldChange{Name: kv.Key, After: configValue(kv.Key, kv.Value)})
			}
			out = append(out, Change{Addr: addr, Action: Create, Fields: fields,
				TokenMapper: &TokenMapperChange{Scope: scope.Name, ScopeID: scope.ID, After: after}})
			continue
		}
		var fields []FieldChange
		if live.ProtocolMapper != model.ProtocolMapperUserAttribute {
			fields = append(fields, FieldChange{Name: "protocolMapper", Before: NameValue(live.ProtocolMapper), After: NameValue(model.ProtocolMapperUserAttribute)})
		}
		cfg := make(map[string]string, len(live.Config)+len(model.CodeMieMapperConfig(attr)))
		for k, v := range live.Config {
			cfg[k] = v
		}
		for _, kv := range model.CodeMieMapperConfig(attr) {
			if have, ok := live.Config[kv.Key]; !ok && kv.Key == "multivalued" && kv.Value == "false" || have == kv.Value {
				continue // an absent multivalued is false
			}
			cfg[kv.Key] = kv.Value
			fields = append(fields, FieldChange{Name: kv.Key, Before: configValue(kv.Key, live.Config[kv.Key]), After: configValue(kv.Key, kv.Value)})
		}
		if len(fields) == 0 {
			continue
		}
		after := model.LiveTokenMapper{ID: live.ID, Name: live.Name, ProtocolMapper: model.ProtocolMapperUserAttribute}
		after.SetConfig(cfg)
		before := *live
		out = append(out, Change{Addr: addr, Action: Update, Fields: fields,
			TokenMapper: &TokenMapperChange{Scope: scope.Name, ScopeID: scope.ID, Before: &before, After: after}})
	}
	return out
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
// live one, its role scope included, with the token mappers the plan creates or corrects in
// place, when their client scope is a default scope of the client. Without the client it is
// RecommendedMapping, as for model.Live.Mapping.
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
	after := live.Client.Mapping
	after.Mappers = ms
	return after
}
