package verify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// Kind names a cause of a difference, for machines (--format json) and for the summary.
type Kind string

const (
	// NotInRealm: the files declare a user the realm does not have.
	NotInRealm Kind = "not-in-realm"
	// NotApplied: the realm holds other values than the files say; apply has not run since.
	NotApplied Kind = "not-applied"
	// MapperMissing: no client scope has a User Attribute mapper for the attribute.
	MapperMissing Kind = "mapper-missing"
	// ScopeNotDefault: the mapper is on a client scope that is not a default scope of CodeMie's
	// client, so that client's tokens do not carry it.
	ScopeNotDefault Kind = "scope-not-default"
	// NotInToken: the mapper does not add its claim to every token CodeMie reads.
	NotInToken Kind = "not-in-token"
	// NotMultivalued: a single-valued mapper over several stored values carries the first only.
	NotMultivalued Kind = "not-multivalued"
	// PolicyDrops: the user-profile policy keeps Keycloak from storing the attribute.
	PolicyDrops Kind = "policy-drops"
	// RoleNotInToken: the user holds the realm role, but CodeMie's client leaves it out of the
	// access token.
	RoleNotInToken Kind = "role-not-in-token"
	// RoleIndirect: the tokens carry a realm role the user holds through a group or a composite
	// role, which roster does not read.
	RoleIndirect Kind = "role-indirect"
	// Unexplained: none of the above; the cause names what the tokens carry.
	Unexplained Kind = "unexplained"
)

// Cause is a likely reason for a difference, with its fix.
type Cause struct {
	Kind   Kind   `json:"kind"`
	Detail string `json:"detail"`
	// Fix is a roster command or a console step; "" when there is none to give.
	Fix string `json:"fix"`
}

// MapperSettings are the console settings of the mapper CodeMie needs for attr.
func MapperSettings(attr string) string {
	return fmt.Sprintf("name, User Attribute and Token Claim Name %s, Claim JSON Type String, Multivalued off, "+
		"Add to ID token, access token and userinfo on", attr)
}

const applyFix = "run `roster apply` with the files"

// policyFix sets the policy under which administrators (roster) may write CodeMie's attributes.
const policyFix = "set settings.unmanagedAttributePolicy: ADMIN_EDIT in the files and run `roster apply`; or in the console: " +
	"Realm settings → General → Unmanaged Attributes → Only administrators can write"

func notInRealm(s Subject) Cause {
	return Cause{Kind: NotInRealm, Detail: fmt.Sprintf("the realm has no user %q", s.Username), Fix: applyFix + " (it creates the user)"}
}

// explain lists the likely causes of the difference between r.Want and the reading g, one per
// aspect that differs.
func explain(f Facts, r Result, g Reading) []Cause {
	want, got, u := r.Want, g.Access, r.User
	var causes []Cause
	if want.Role != got.Role {
		causes = append(causes, roleCause(f, r, got))
	}
	if want.Disabled != got.Disabled {
		causes = append(causes, Cause{Kind: NotApplied, Detail: fmt.Sprintf("the user is %s in the realm", enabledWord(u.Enabled)),
			Fix: applyFix})
	}
	if !slices.Equal(want.Projects, got.Projects) {
		causes = append(causes, attrCause(f, r, g, model.AttrApplications))
	}
	if !slices.Equal(want.Admin, got.Admin) {
		causes = append(causes, attrCause(f, r, g, model.AttrApplicationsAdmin))
	}
	if want.External != got.External || want.ServiceAccount != got.ServiceAccount || want.Refused != got.Refused {
		causes = append(causes, attrCause(f, r, g, model.AttrUserType))
	}
	if len(causes) == 0 {
		causes = append(causes, Cause{Kind: Unexplained, Detail: "the tokens carry " + claimsText(r, model.AttrApplications,
			model.AttrApplicationsAdmin, model.AttrUserType)})
	}
	return causes
}

func enabledWord(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

func roleCause(f Facts, r Result, got model.Access) Cause {
	want, u := r.Want, r.User
	client := f.Client.ClientID
	holds := func(role model.Role) bool { return role != "" && slices.Contains(u.Roles, role) }
	switch {
	case got.Role != "" && !holds(got.Role):
		return Cause{Kind: RoleIndirect, Detail: fmt.Sprintf("the access token carries realm role %s, which the user holds through "+
			"a group or a composite role rather than directly", f.CodeMie.RoleName(got.Role)),
			Fix: fmt.Sprintf("grant %s directly or not at all: in the console, Users → %s → Role mapping and Groups",
				f.CodeMie.RoleName(got.Role), r.Username)}
	case want.Role != "" && !holds(want.Role) && f.FromFiles:
		return Cause{Kind: NotApplied, Detail: fmt.Sprintf("the realm does not grant the user realm role %s", f.CodeMie.RoleName(want.Role)),
			Fix: applyFix}
	case want.Role != "" && len(f.Client.Mapping.Carrying(model.ClaimRealmRoles, model.TokenAccess)) == 0:
		return Cause{Kind: RoleNotInToken, Detail: fmt.Sprintf("no mapper reaching client %q puts the realm roles into the access "+
			"token: client scope roles is not one of its default scopes", client),
			Fix: fmt.Sprintf("in the console: Clients → %s → Client scopes → Add client scope → roles → Add (Default)", client)}
	}
	if want.Role != "" {
		// A mapper that renames the roles, or a client scope that leaves the role out.
		if p, ok := f.Client.Mapping.RoleProblem(client, f.CodeMie.RoleName(want.Role)); ok {
			return Cause{Kind: RoleNotInToken, Detail: p.Problem, Fix: p.Fix}
		}
	}
	return Cause{Kind: Unexplained, Detail: "the access token carries realm_access " + claimText(r.Claims.AccessToken, "realm_access")}
}

// readsInto reports whether m is a User Attribute mapper that puts attr into the claim of the
// same name.
func readsInto(m model.LiveTokenMapper, attr string) bool {
	return m.ProtocolMapper == model.ProtocolMapperUserAttribute && m.Attribute == attr && m.Claim == attr
}

func attrCause(f Facts, r Result, g Reading, attr string) Cause {
	client := f.Client.ClientID
	var all, reaching []model.LiveTokenMapper
	for _, s := range f.Scopes {
		for _, m := range s.Mappers {
			if readsInto(m, attr) {
				m.Scope = s.Name
				all = append(all, m)
			}
		}
	}
	for _, m := range f.Client.Mapping.Mappers {
		if readsInto(m, attr) {
			reaching = append(reaching, m)
		}
	}
	stored := r.User.Attributes[attr]
	switch {
	case len(all) == 0 && len(reaching) == 0:
		return Cause{Kind: MapperMissing, Detail: fmt.Sprintf("no client scope has a User Attribute mapper that puts %s into "+
			"claim %s, so the tokens never carry it", attr, attr),
			Fix: fmt.Sprintf("declare tokenMappers in the files and run `roster apply`; or in the console: Client scopes → %s → "+
				"Mappers → Add mapper → By configuration → User Attribute: %s", homeScope(f.Client), MapperSettings(attr))}
	case len(reaching) == 0:
		return Cause{Kind: ScopeNotDefault, Detail: fmt.Sprintf("mapper %q for %s is on client scope %q, which is not a default "+
			"scope of client %q, so the client's tokens do not carry it", all[0].Name, attr, all[0].Scope, client),
			Fix: fmt.Sprintf("in the console: Clients → %s → Client scopes → Add client scope → %s → Add (Default)", client, all[0].Scope)}
	}
	m := reaching[0]
	var missing []string
	for _, t := range g.Tokens {
		if !m.In(t) {
			missing = append(missing, tokenName[t])
		}
	}
	switch {
	case len(stored) > 1 && !m.Multivalued:
		return Cause{Kind: NotMultivalued, Detail: fmt.Sprintf("mapper %q is single-valued and the user holds %d values of %s: "+
			"the tokens carry the first only, %q", m.Name, len(stored), attr, stored[0]),
			Fix: "store one comma-joined value: " + applyFix + " (it writes each attribute as one value)"}
	case len(missing) > 0:
		return Cause{Kind: NotInToken, Detail: fmt.Sprintf("mapper %q for %s is not added to the %s", m.Name, attr, strings.Join(missing, ", ")),
			Fix: fmt.Sprintf("in the console: %s → Mappers → %s: Add to ID token, access token and userinfo on", mapperHome(m, client), m.Name)}
	case len(stored) == 0 && f.Policy == model.PolicyDisabled:
		// Verified on Keycloak 26.7.3: the Admin API then hides a stored value the mappers still
		// put into the tokens.
		return Cause{Kind: PolicyDrops, Detail: fmt.Sprintf("the user-profile policy DISABLED hides %s from administrators: "+
			"Keycloak drops what roster writes and shows no stored value, while the tokens carry %s", attr, claimsText(r, attr)),
			Fix: policyFix}
	case f.Policy == model.PolicyAdminView && f.FromFiles:
		return Cause{Kind: PolicyDrops, Detail: fmt.Sprintf("the user-profile policy ADMIN_VIEW lets administrators read %s "+
			"but not write it, so Keycloak drops what roster writes", attr), Fix: policyFix}
	case f.FromFiles:
		return Cause{Kind: NotApplied, Detail: fmt.Sprintf("the realm holds %s %s for the user, not what the files say", attr, valuesText(stored)),
			Fix: applyFix}
	}
	return Cause{Kind: Unexplained, Detail: fmt.Sprintf("the realm holds %s %s; the tokens carry %s", attr, valuesText(stored),
		claimsText(r, attr))}
}

// tokenName names token types in sentences.
var tokenName = map[model.TokenType]string{model.TokenAccess: "access token", model.TokenID: "ID token", model.TokenUserInfo: "userinfo"}

// TokensText names token types in a sentence: "the access token", "the ID token and userinfo".
func TokensText(ts []model.TokenType) string {
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		names = append(names, tokenName[t])
	}
	switch len(names) {
	case 0:
		return "no token"
	case 1:
		return "the " + names[0]
	}
	return "the " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// homeScope is the client scope to add a missing mapper to: profile, as CodeMie's guide says,
// when it is a default scope of the client, else the client's first default scope.
func homeScope(c *model.LiveCodeMieClient) string {
	if slices.Contains(c.DefaultScopes, "profile") || len(c.DefaultScopes) == 0 {
		return "profile"
	}
	return c.DefaultScopes[0]
}

// mapperHome is where the console shows m: its client scope, or the client's dedicated scope.
func mapperHome(m model.LiveTokenMapper, client string) string {
	if m.Scope == "" {
		return fmt.Sprintf("Clients → %s → Client scopes → %s-dedicated", client, client)
	}
	return "Client scopes → " + m.Scope
}

func valuesText(values []string) string {
	if len(values) == 0 {
		return "no value"
	}
	b, _ := json.Marshal(values)
	return string(b)
}

// claimsText says what the access token, ID token and userinfo carry as the claims, said once
// when all three agree.
func claimsText(r Result, claims ...string) string {
	var parts []string
	for _, c := range claims {
		a, i, u := claimText(r.Claims.AccessToken, c), claimText(r.Claims.IDToken, c), claimText(r.Claims.UserInfo, c)
		if a == i && i == u {
			parts = append(parts, fmt.Sprintf("%s %s", c, a))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (access token), %s (ID token), %s (userinfo)", c, a, i, u))
	}
	return strings.Join(parts, ", ")
}

// claimText is a claim's value as JSON, or "absent".
func claimText(claims map[string]any, name string) string {
	v, ok := claims[name]
	if !ok {
		return "absent"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "unreadable"
	}
	return string(b)
}
