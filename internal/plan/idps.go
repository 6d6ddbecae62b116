package plan

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// idpKey is one configuration key roster manages on an identity provider, with the value the
// configuration asks for ("" leaves it alone).
type idpKey struct {
	key, want string
}

// idpKeys are the provider configuration keys roster manages, in the order fields show them.
func idpKeys(p model.IdentityProvider) []idpKey {
	keys := []idpKey{{"clientId", p.ClientID}}
	for _, kv := range p.Endpoints.Config() {
		keys = append(keys, idpKey{kv.Key, kv.Value})
	}
	if p.Endpoints.JWKSURL != "" {
		// Signatures are checked against the provider's published keys.
		keys = append(keys, idpKey{"useJwksUrl", "true"}, idpKey{"validateSignature", "true"})
	}
	if p.Scopes != nil {
		keys = append(keys, idpKey{"defaultScope", strings.Join(p.Scopes, " ")})
	}
	return append(keys, idpKey{"syncMode", string(p.SyncMode)})
}

// identityProviders returns, by alias, the creations and updates of the declared identity
// providers, each followed by its mappers' changes. Providers and mappers the files do not
// declare are left alone, and so are the keys roster does not manage.
func (b *builder) identityProviders(rotate bool) []Change {
	var out []Change
	for _, p := range b.cfg.IdentityProviders {
		i := slices.IndexFunc(b.live.IdentityProviders, func(l model.LiveIdentityProvider) bool { return l.Alias == p.Alias })
		var live *model.LiveIdentityProvider
		if i >= 0 {
			live = &b.live.IdentityProviders[i]
			if live.ProviderID != model.ProviderOIDC {
				b.note("identity provider %q is of type %s, not OpenID Connect (oidc): roster leaves it and its mappers alone", p.Alias, live.ProviderID)
				continue
			}
		}
		if c, ok := b.identityProvider(p, live, rotate); ok {
			out = append(out, c)
		}
		out = append(out, b.idpMappers(p, live)...)
	}
	return out
}

func (b *builder) identityProvider(p model.IdentityProvider, live *model.LiveIdentityProvider, rotate bool) (Change, bool) {
	addr := Address{Kind: KindIdentityProvider, Name: p.Alias}
	if live == nil {
		n := &model.LiveIdentityProvider{Alias: p.Alias, DisplayName: p.DisplayName, Enabled: p.Enabled == nil || *p.Enabled,
			ProviderID: model.ProviderOIDC, Config: map[string]string{"clientAuthMethod": "client_secret_post"}}
		var fields []FieldChange
		if p.DisplayName != "" {
			fields = append(fields, FieldChange{Name: "displayName", After: StringValue(p.DisplayName)})
		}
		fields = append(fields, FieldChange{Name: "enabled", After: BoolValue(n.Enabled)})
		for _, k := range idpKeys(p) {
			if k.want != "" {
				n.Config[k.key] = k.want
				fields = append(fields, FieldChange{Name: k.key, After: idpValue(k.key, k.want)})
			}
		}
		n.SetConfig(n.Config)
		b.warn("identity provider %q is created with endpoints on %s: Keycloak sends its client secret and users' sign-ins there",
			p.Alias, strings.Join(endpointHosts(p.Endpoints), ", "))
		c := Change{Addr: addr, Action: Create, IdentityProvider: &IdentityProviderChange{New: n, Secret: p.ClientSecret}}
		if p.ClientSecret != nil {
			fields = append(fields, FieldChange{Name: "clientSecret", Sensitive: true, Source: p.ClientSecret.String()})
		}
		c.Fields = fields
		return c, true
	}

	var upd model.IdentityProviderUpdate
	var fields []FieldChange
	if p.DisplayName != "" && p.DisplayName != live.DisplayName {
		upd.DisplayName = &p.DisplayName
		fields = append(fields, FieldChange{Name: "displayName", Before: OptionalString(live.DisplayName), After: StringValue(p.DisplayName)})
	}
	if p.Enabled != nil && *p.Enabled != live.Enabled {
		upd.Enabled = p.Enabled
		fields = append(fields, FieldChange{Name: "enabled", Before: BoolValue(live.Enabled), After: BoolValue(*p.Enabled)})
	}
	for _, k := range idpKeys(p) {
		if have := live.Config[k.key]; k.want != "" && have != k.want {
			if upd.Config == nil {
				upd.Config = map[string]string{}
			}
			upd.Config[k.key] = k.want
			fields = append(fields, FieldChange{Name: k.key, Before: idpValue(k.key, have), After: idpValue(k.key, k.want)})
		}
	}
	var moved []string
	for _, kv := range p.Endpoints.Config() {
		if have := live.Config[kv.Key]; kv.Value != "" && have != kv.Value {
			moved = append(moved, fmt.Sprintf("%s %s → %s", kv.Key, formatString(have), formatString(kv.Value)))
		}
	}
	if len(moved) > 0 {
		b.warn("identity provider %q changes its endpoints, where Keycloak sends its client secret and users' sign-ins: %s",
			p.Alias, strings.Join(moved, "; "))
	}
	ic := &IdentityProviderChange{Before: live, Update: upd}
	if rotate && p.ClientSecret != nil {
		ic.Secret = p.ClientSecret
		fields = append(fields, FieldChange{Name: "clientSecret", Sensitive: true, Source: p.ClientSecret.String()})
	}
	if len(fields) == 0 {
		return Change{}, false
	}
	return Change{Addr: addr, Action: Update, IdentityProvider: ic, Fields: fields}, true
}

// endpointHosts lists, sorted and once each, the hosts of the endpoints e sets (the whole value
// when it is no URL with a host).
func endpointHosts(e model.Endpoints) []string {
	var hosts []string
	for _, kv := range e.Config() {
		if kv.Value == "" {
			continue
		}
		h := kv.Value
		if u, err := url.Parse(kv.Value); err == nil && u.Host != "" {
			h = u.Host
		}
		hosts = append(hosts, strconv.Quote(h))
	}
	slices.Sort(hosts)
	return slices.Compact(hosts)
}

// idpValue is a provider's or a provider mapper's configuration value: sync modes and the
// flags Keycloak stores as "true" or "false" are names, everything else (names people chose,
// URLs) strings; "" is absent.
func idpValue(key, v string) Value {
	if key == "syncMode" || key == "useJwksUrl" || key == "validateSignature" {
		return OptionalName(v)
	}
	return OptionalString(v)
}

// idpMapperKeys are the mapper configuration keys roster manages, in the order fields show
// them, with the value m asks for.
func idpMapperKeys(m model.IdentityProviderMapper) []idpKey {
	keys := []idpKey{{"role", m.Role}}
	if m.Type == model.AttributeImporter {
		keys = []idpKey{{"claim", m.Claim}, {"user.attribute", m.Attribute}}
	}
	return append(keys, idpKey{"syncMode", string(m.SyncMode.Effective(model.SyncInherit))})
}

// idpMappers returns the creations and corrections of a provider's declared mappers, by name.
// live is nil when the provider is created by this plan.
func (b *builder) idpMappers(p model.IdentityProvider, live *model.LiveIdentityProvider) []Change {
	mappers := slices.Clone(p.Mappers)
	slices.SortFunc(mappers, func(x, y model.IdentityProviderMapper) int { return strings.Compare(x.Name, y.Name) })
	var out []Change
	for _, m := range mappers {
		addr := Address{Kind: KindIdentityProviderMapper, Name: p.Alias + "/" + m.Name}
		typ := m.Type.ProviderID()
		var lm *model.LiveIdentityProviderMapper
		if live != nil {
			lm = live.Mapper(m.Name)
		}
		if lm == nil {
			after := model.LiveIdentityProviderMapper{Name: m.Name, Type: typ, Config: map[string]string{}}
			fields := []FieldChange{{Name: "type", After: NameValue(typ)}}
			for _, k := range idpMapperKeys(m) {
				after.Config[k.key] = k.want
				fields = append(fields, FieldChange{Name: k.key, After: idpValue(k.key, k.want)})
			}
			after.SetConfig(after.Config)
			out = append(out, Change{Addr: addr, Action: Create, Fields: fields, IdPMapper: &IdPMapperChange{Alias: p.Alias, After: after}})
			continue
		}
		after := model.LiveIdentityProviderMapper{ID: lm.ID, Name: lm.Name, Type: typ, Config: maps.Clone(lm.Config)}
		if after.Config == nil {
			after.Config = map[string]string{}
		}
		var fields []FieldChange
		if lm.Type != typ {
			fields = append(fields, FieldChange{Name: "type", Before: NameValue(lm.Type), After: NameValue(typ)})
		}
		for _, k := range idpMapperKeys(m) {
			if have := lm.Config[k.key]; have != k.want {
				after.Config[k.key] = k.want
				fields = append(fields, FieldChange{Name: k.key, Before: idpValue(k.key, have), After: idpValue(k.key, k.want)})
			}
		}
		if len(fields) == 0 {
			continue
		}
		after.SetConfig(after.Config)
		before := *lm
		out = append(out, Change{Addr: addr, Action: Update, Fields: fields,
			IdPMapper: &IdPMapperChange{Alias: p.Alias, Before: &before, After: after}})
	}
	return out
}
