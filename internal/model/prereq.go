package model

// Keycloak's provider ids for the mappers roster manages.
const (
	// ProtocolMapperUserAttribute is the "User Attribute" protocol mapper of OpenID Connect.
	ProtocolMapperUserAttribute = "oidc-usermodel-attribute-mapper"
	// IdPMapperHardcodedRole grants every brokered user a realm role.
	IdPMapperHardcodedRole = "oidc-hardcoded-role-idp-mapper"
	// IdPMapperAttributeImporter copies a token claim into a user attribute.
	IdPMapperAttributeImporter = "oidc-user-attribute-idp-mapper"
)

// ProviderOIDC is the provider type of an OpenID Connect identity provider, the only type roster
// manages.
const ProviderOIDC = "oidc"

// LiveClientScope is a client scope as Keycloak stores it, with its protocol mappers.
type LiveClientScope struct {
	ID   string
	Name string
	// Mappers are the scope's protocol mappers, sorted by name.
	Mappers []LiveTokenMapper
}

// Mapper returns the scope's mapper with the given name, or nil.
func (s *LiveClientScope) Mapper(name string) *LiveTokenMapper {
	for i := range s.Mappers {
		if s.Mappers[i].Name == name {
			return &s.Mappers[i]
		}
	}
	return nil
}

// LiveTokenMapper is a protocol mapper of a client scope. The typed fields are read from Config
// (absent booleans are false); Config holds every key as stored, so that an update can send the
// mapper back with only roster's fields corrected.
type LiveTokenMapper struct {
	ID   string
	Name string
	// Scope is the client scope the mapper belongs to; empty for a mapper of a client itself.
	Scope string
	// ProtocolMapper is the mapper's provider id (ProtocolMapperUserAttribute for the mappers
	// roster manages).
	ProtocolMapper string
	// Attribute is config user.attribute: the user attribute the claim is read from.
	Attribute string
	// Claim is config claim.name.
	Claim string
	// JSONType is config jsonType.label (String, long, int, boolean, JSON).
	JSONType string
	// Multivalued, IDToken, AccessToken and UserInfo are config multivalued, id.token.claim,
	// access.token.claim and userinfo.token.claim.
	Multivalued bool
	IDToken     bool
	AccessToken bool
	UserInfo    bool
	// Config is the mapper's whole configuration as stored.
	Config map[string]string
}

// SetConfig sets the mapper's configuration and the typed fields read from it (absent booleans
// are false).
func (m *LiveTokenMapper) SetConfig(c map[string]string) {
	m.Config = c
	m.Attribute, m.Claim, m.JSONType = c["user.attribute"], c["claim.name"], c["jsonType.label"]
	m.Multivalued, m.IDToken = c["multivalued"] == "true", c["id.token.claim"] == "true"
	m.AccessToken, m.UserInfo = c["access.token.claim"] == "true", c["userinfo.token.claim"] == "true"
}

// RolePrefix is the realm-role mapper's config usermodel.realmRoleMapping.rolePrefix: what
// Keycloak puts before each realm role's name in the claim.
func (m LiveTokenMapper) RolePrefix() string {
	if m.ProtocolMapper != ProtocolMapperRealmRoles {
		return ""
	}
	return m.Config["usermodel.realmRoleMapping.rolePrefix"]
}

// prefixed is roles as the mapper names them in the claim: behind its role prefix.
func (m LiveTokenMapper) prefixed(roles []string) []string {
	p := m.RolePrefix()
	if p == "" {
		return roles
	}
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = p + r
	}
	return out
}

// JSONTypeString is the claim JSON type (config jsonType.label) CodeMie reads its claims in.
const JSONTypeString = "String"

// StringClaim reports whether the mapper gives its claim the JSON type String or none, the two
// under which roster knows what Keycloak issues.
func (m LiveTokenMapper) StringClaim() bool { return m.JSONType == "" || m.JSONType == JSONTypeString }

// CodeMieMapperConfig is what the configuration keys roster manages on the token mapper for attr
// must hold, in the order plans show them: the claim named like the attribute, one String value
// (CodeMie reads a comma-joined string), in the ID token, the access token and userinfo.
func CodeMieMapperConfig(attr string) []ConfigValue {
	return []ConfigValue{
		{"user.attribute", attr}, {"claim.name", attr}, {"jsonType.label", JSONTypeString}, {"multivalued", "false"},
		{"id.token.claim", "true"}, {"access.token.claim", "true"}, {"userinfo.token.claim", "true"},
	}
}

// CodeMieTokenMapper is the token mapper CodeMie needs for attr, as CodeMie's guide sets it up and
// roster creates it: a User Attribute mapper named like the attribute, configured as
// CodeMieMapperConfig says.
func CodeMieTokenMapper(attr string) LiveTokenMapper {
	cfg := map[string]string{}
	for _, kv := range CodeMieMapperConfig(attr) {
		cfg[kv.Key] = kv.Value
	}
	m := LiveTokenMapper{Name: attr, ProtocolMapper: ProtocolMapperUserAttribute}
	m.SetConfig(cfg)
	return m
}

// LiveIdentityProvider is an identity provider as Keycloak stores it. The client secret is never
// read: Keycloak answers with a mask.
type LiveIdentityProvider struct {
	// InternalID is Keycloak's id of the provider.
	InternalID string
	// Alias is the provider's alias, unique in the realm.
	Alias       string
	DisplayName string
	Enabled     bool
	// ProviderID is the provider type: ProviderOIDC for OpenID Connect.
	ProviderID string
	// ClientID, DefaultScope and SyncMode are the config keys clientId, defaultScope and
	// syncMode; Endpoints are read from theirs (EndpointsFromConfig).
	ClientID string
	Endpoints
	DefaultScope string
	SyncMode     string
	// Config is the provider's whole configuration as stored (clientSecret masked).
	Config map[string]string
	// Mappers are the provider's mappers, sorted by name.
	Mappers []LiveIdentityProviderMapper
}

// SetConfig sets the provider's configuration and the typed fields read from it.
func (p *LiveIdentityProvider) SetConfig(c map[string]string) {
	p.Config = c
	p.ClientID, p.Endpoints = c["clientId"], EndpointsFromConfig(c)
	p.DefaultScope, p.SyncMode = c["defaultScope"], c["syncMode"]
}

// Mapper returns the provider's mapper with the given name, or nil.
func (p *LiveIdentityProvider) Mapper(name string) *LiveIdentityProviderMapper {
	for i := range p.Mappers {
		if p.Mappers[i].Name == name {
			return &p.Mappers[i]
		}
	}
	return nil
}

// LiveIdentityProviderMapper is a mapper of an identity provider. The typed fields are read from
// Config; Config holds every key as stored.
type LiveIdentityProviderMapper struct {
	ID   string
	Name string
	// Type is the mapper's provider id (IdPMapperHardcodedRole, IdPMapperAttributeImporter, …).
	Type string
	// Role is config role (hardcoded-role mappers).
	Role string
	// Claim is config claim and Attribute config user.attribute (attribute importers).
	Claim     string
	Attribute string
	// SyncMode is config syncMode.
	SyncMode string
	// Config is the mapper's whole configuration as stored.
	Config map[string]string
}

// SetConfig sets the mapper's configuration and the typed fields read from it.
func (m *LiveIdentityProviderMapper) SetConfig(c map[string]string) {
	m.Config = c
	m.Role, m.Claim, m.Attribute, m.SyncMode = c["role"], c["claim"], c["user.attribute"], c["syncMode"]
}
