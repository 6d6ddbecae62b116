package model

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// This file is roster's one model of how CodeMie reads a user: the claims Keycloak puts into the
// user's tokens (TokenMapping.Claims, from the stored attributes, the realm roles and the live
// token mappers), then CodeMie's parser and validator applied to those claims (CodeMie.Read).
// docs/codemie-roles.md gives each rule with its source.

// CodeMie is how the CodeMie installation reads Keycloak: settings.codemie in the files.
type CodeMie struct {
	// AdminRole is the realm role that makes a platform Admin (CodeMie's ADMIN_ROLE_NAME).
	AdminRole string
	// DeveloperRole is the realm role that lets a standard user sign in (oauth2-proxy's
	// allowed_roles holds it and AdminRole).
	DeveloperRole string
	// ClientID is the client CodeMie signs users in with; its default client scopes decide
	// which token mappers reach CodeMie.
	ClientID string
}

// Defaults for CodeMie: those of CodeMie's installation.
const (
	DefaultAdminRole     = "admin"
	DefaultDeveloperRole = "developer"
	DefaultClientID      = "codemie"
)

// DefaultCodeMie is the CodeMie of an installation with CodeMie's defaults.
func DefaultCodeMie() CodeMie {
	return CodeMie{AdminRole: DefaultAdminRole, DeveloperRole: DefaultDeveloperRole, ClientID: DefaultClientID}
}

// withDefaults fills the fields left empty with CodeMie's defaults, so that the zero CodeMie
// reads like a default installation.
func (c CodeMie) withDefaults() CodeMie {
	d := DefaultCodeMie()
	c.AdminRole, c.DeveloperRole = cmp.Or(c.AdminRole, d.AdminRole), cmp.Or(c.DeveloperRole, d.DeveloperRole)
	c.ClientID = cmp.Or(c.ClientID, d.ClientID)
	return c
}

// RoleName is the realm role that stands for r in this installation.
func (c CodeMie) RoleName(r Role) string {
	c = c.withDefaults()
	switch r {
	case RoleAdmin:
		return c.AdminRole
	case RoleDeveloper:
		return c.DeveloperRole
	}
	return ""
}

// RoleNames are the realm roles standing for roles, in order.
func (c CodeMie) RoleNames(roles []Role) []string {
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		out = append(out, c.RoleName(r))
	}
	return out
}

// User types CodeMie's validator accepts (after trimming and lowercasing); an absent claim is
// UserTypeRegular.
const (
	UserTypeRegular        = "regular"
	UserTypeServiceAccount = "service_account"
)

// ClaimRealmRoles is the claim realm roles reach CodeMie in (nested: realm_access.roles).
const ClaimRealmRoles = "realm_access.roles"

// ProtocolMapperRealmRoles is Keycloak's "User Realm Role" protocol mapper, which fills
// realm_access.roles in the realm's default "roles" client scope.
const ProtocolMapperRealmRoles = "oidc-usermodel-realm-role-mapper"

// TokenType is a kind of token, or the userinfo answer, that claims appear in.
type TokenType string

const (
	TokenAccess   TokenType = "access"
	TokenID       TokenType = "id"
	TokenUserInfo TokenType = "userinfo"
)

// TokenTypes are all token types, in a fixed order. Each call returns a new slice.
func TokenTypes() []TokenType { return []TokenType{TokenAccess, TokenID, TokenUserInfo} }

// Claim is one claim as a token carries it.
type Claim struct {
	// Present is false when the token has no such claim.
	Present bool
	// Value is the claim's JSON value as encoding/json decodes it: a string, a []any, a
	// float64, a bool, a map[string]any, or nil for JSON null.
	Value any
	// Unknown, when not empty, says why roster cannot tell what Keycloak puts into the claim
	// (a claim JSON type other than String, two mappers filling the same claim).
	Unknown string
}

// String shows the claim as JSON, "(absent)" or "(unknown: why)".
func (c Claim) String() string {
	switch {
	case c.Unknown != "":
		return "(unknown: " + c.Unknown + ")"
	case !c.Present:
		return "(absent)"
	}
	b, err := json.Marshal(c.Value)
	if err != nil {
		return fmt.Sprintf("%v", c.Value)
	}
	return string(b)
}

// Claims are the claims of one token that CodeMie reads.
type Claims struct {
	// RealmRoles is realm_access.roles.
	RealmRoles Claim
	// Applications, ApplicationsAdmin and UserType are the top-level claims of those names.
	Applications      Claim
	ApplicationsAdmin Claim
	UserType          Claim
}

// ClaimsFromToken picks the claims CodeMie reads out of a decoded token payload (or a userinfo
// answer), whatever their JSON types. tok is as encoding/json decodes a JSON object.
func ClaimsFromToken(tok map[string]any) Claims {
	var c Claims
	if ra, ok := tok["realm_access"].(map[string]any); ok {
		c.RealmRoles.Value, c.RealmRoles.Present = ra["roles"]
	}
	c.Applications.Value, c.Applications.Present = tok[AttrApplications]
	c.ApplicationsAdmin.Value, c.ApplicationsAdmin.Present = tok[AttrApplicationsAdmin]
	c.UserType.Value, c.UserType.Present = tok[AttrUserType]
	return c
}

// TokenMapping is the live configuration of the protocol mappers that reach CodeMie's client:
// those of the client itself and of its default client scopes.
type TokenMapping struct {
	// Mappers are the protocol mappers, sorted by client scope (the client's own first) and name.
	Mappers []LiveTokenMapper
	// Scoped is true when the client does not let every realm role into its tokens (Full scope
	// allowed is off): a user's realm roles reach them only when they are in Scope.
	Scoped bool `json:",omitempty"`
	// Scope are the realm roles a Scoped client lets into its tokens, sorted: those named by its
	// scope mappings and by its default client scopes' scope mappings, composites expanded, as
	// Keycloak evaluates them. A user's role is compared as held directly: a composite role
	// that takes in a role in Scope is not followed, as roster follows no composite.
	Scope []string `json:",omitempty"`
}

// RecommendedMapping is the mapping CodeMie's guide sets up and roster's tokenMappers creates:
// the realm roles in the access token (Keycloak's "roles" scope), and one single-valued String
// User Attribute mapper per CodeMie attribute, in every token type.
func RecommendedMapping() TokenMapping {
	m := TokenMapping{Mappers: []LiveTokenMapper{{
		Name: "realm roles", ProtocolMapper: ProtocolMapperRealmRoles, Claim: ClaimRealmRoles,
		Multivalued: true, AccessToken: true,
	}}}
	for _, attr := range CodeMieAttributes() {
		m.Mappers = append(m.Mappers, CodeMieTokenMapper(attr))
	}
	return m
}

// In reports whether the mapper adds its claim to tokens of type t.
func (m LiveTokenMapper) In(t TokenType) bool {
	switch t {
	case TokenAccess:
		return m.AccessToken
	case TokenID:
		return m.IDToken
	case TokenUserInfo:
		return m.UserInfo
	}
	return false
}

// Carrying returns the mappers that fill claim in tokens of type t.
func (tm TokenMapping) Carrying(claim string, t TokenType) []LiveTokenMapper {
	var out []LiveTokenMapper
	for _, m := range tm.Mappers {
		if m.Claim == claim && m.In(t) && (m.ProtocolMapper == ProtocolMapperUserAttribute || m.ProtocolMapper == ProtocolMapperRealmRoles) {
			out = append(out, m)
		}
	}
	return out
}

// Claims computes the claims CodeMie reads in a token of type t for a user who holds the given
// realm roles (names, effective) and stored attributes, the way Keycloak's mappers fill them
// (of a Scoped client, only the roles in its Scope):
//   - a User Attribute mapper adds nothing for an absent attribute (no stored value);
//   - single-valued, it adds the first stored value as a string; multivalued, every stored value
//     as a JSON list;
//   - the realm-role mapper adds the roles as a list, each behind the mapper's role prefix;
//     single-valued, one role as a string (Keycloak takes any of the user's roles, default ones
//     included, which CodeMie reads alike: as no role);
//   - a User Attribute mapper into realm_access.roles adds the attribute as above.
//
// A claim JSON type other than String, or two mappers filling the same claim, makes the claim
// Unknown: roster does not predict what Keycloak then issues.
func (tm TokenMapping) Claims(t TokenType, roles []string, attrs map[string][]string) Claims {
	if outside := tm.outOfScope(roles); len(outside) > 0 {
		roles = slices.DeleteFunc(slices.Clone(roles), func(r string) bool { return slices.Contains(outside, r) })
	}
	return Claims{
		RealmRoles: tm.claim(ClaimRealmRoles, t, func(m LiveTokenMapper) []string {
			if m.ProtocolMapper == ProtocolMapperRealmRoles {
				return m.prefixed(roles)
			}
			return attrs[m.Attribute]
		}),
		Applications:      tm.attrClaim(AttrApplications, t, attrs),
		ApplicationsAdmin: tm.attrClaim(AttrApplicationsAdmin, t, attrs),
		UserType:          tm.attrClaim(AttrUserType, t, attrs),
	}
}

func (tm TokenMapping) attrClaim(claim string, t TokenType, attrs map[string][]string) Claim {
	return tm.claim(claim, t, func(m LiveTokenMapper) []string {
		if m.ProtocolMapper != ProtocolMapperUserAttribute {
			return nil
		}
		return attrs[m.Attribute]
	})
}

func (tm TokenMapping) claim(claim string, t TokenType, values func(LiveTokenMapper) []string) Claim {
	ms := tm.Carrying(claim, t)
	switch {
	case len(ms) == 0:
		return Claim{}
	case len(ms) > 1:
		names := make([]string, 0, len(ms))
		for _, m := range ms {
			names = append(names, fmt.Sprintf("%q", m.Name))
		}
		return Claim{Unknown: fmt.Sprintf("mappers %s all fill claim %s", strings.Join(names, ", "), claim)}
	}
	m := ms[0]
	if !m.StringClaim() {
		return Claim{Unknown: fmt.Sprintf("mapper %q gives claim %s the JSON type %s, not String", m.Name, claim, m.JSONType)}
	}
	vs := values(m)
	switch {
	case len(vs) == 0:
		return Claim{}
	case m.Multivalued:
		list := make([]any, 0, len(vs))
		for _, v := range vs {
			list = append(list, v)
		}
		return Claim{Present: true, Value: list}
	default:
		return Claim{Present: true, Value: vs[0]}
	}
}

// Read is CodeMie's reading of the claims: its parser for the project lists and its validator
// for user_type. Role is RoleAdmin when realm_access.roles holds AdminRole, else RoleDeveloper
// when it holds DeveloperRole, else empty (oauth2-proxy lets the user in with neither).
// Project names are split on commas and trimmed but keep their case: CodeMie compares them
// exactly. A user_type other than regular, external or service_account (trimmed, any case), or
// one that is not a string, makes CodeMie refuse the sign-in (Refused).
func (c CodeMie) Read(cl Claims) Access {
	c = c.withDefaults()
	var a Access
	for _, x := range []Claim{cl.RealmRoles, cl.Applications, cl.ApplicationsAdmin, cl.UserType} {
		if x.Unknown != "" {
			a.Unknown = x.Unknown
			return a
		}
	}
	roles := parseList(cl.RealmRoles.Value, false)
	switch {
	case slices.Contains(roles, c.AdminRole):
		a.Role = RoleAdmin
	case slices.Contains(roles, c.DeveloperRole):
		a.Role = RoleDeveloper
	}
	a.Projects = parseList(cl.Applications.Value, true)
	a.Admin = parseList(cl.ApplicationsAdmin.Value, true)
	if cl.UserType.Present && cl.UserType.Value != nil {
		s, ok := cl.UserType.Value.(string)
		switch t := strings.ToLower(strings.TrimSpace(s)); {
		case !ok:
			a.Refused = fmt.Sprintf("CodeMie refuses user_type %s: not a string", cl.UserType)
		case t == UserTypeRegular:
		case t == UserTypeExternal:
			a.External = true
		case t == UserTypeServiceAccount:
			a.ServiceAccount = true
		default:
			a.Refused = fmt.Sprintf("CodeMie refuses user_type %s", cl.UserType)
		}
	}
	return a
}

// parseList reads a list claim. With split (CodeMie's parser for project lists), a string is
// split on commas and a list's string items each are; items are trimmed and empty ones dropped;
// any other value reads as no item. Without split, only a list's string items count (the realm
// roles). The result is sorted and unique: CodeMie only ever asks whether a name is in it.
func parseList(v any, split bool) []string {
	var items []string
	add := func(s string) {
		if !split {
			items = append(items, s)
			return
		}
		for p := range strings.SplitSeq(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				items = append(items, p)
			}
		}
	}
	switch v := v.(type) {
	case string:
		if split {
			add(v)
		}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				add(s)
			}
		}
	}
	slices.Sort(items)
	return slices.Compact(items)
}

// ReadStored is CodeMie's reading of a user who holds the given owned roles and stored
// attributes, through the claims of the access token that mapping gives them. enabled=false
// makes the user Disabled: Keycloak issues no token.
func (c CodeMie) ReadStored(tm TokenMapping, roles []Role, attrs map[string][]string, enabled bool) Access {
	a := c.Read(tm.Claims(TokenAccess, c.RoleNames(roles), attrs))
	a.Disabled = !enabled
	return a
}
