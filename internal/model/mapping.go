package model

import (
	"fmt"
	"slices"
	"strings"
)

// MappingProblem is a way a token mapping keeps CodeMie from reading what roster writes.
type MappingProblem struct {
	// Error is true when CodeMie does not read what roster writes; false when it reads it from
	// the access token but not from every token type.
	Error bool
	// Claim is the claim concerned: ClaimRealmRoles or a CodeMie attribute.
	Claim string
	// Missing is true when no mapper fills the claim in the access token.
	Missing bool
	// Problem says what is wrong and what it costs; Fix what to do about it.
	Problem, Fix string
}

// Problems checks that the mapping of CodeMie's client (clientID) puts the realm roles and
// each of attrs into the access token the way CodeMie reads them: the realm roles named roles
// in the client's scope, exactly one mapper per claim, reading the attribute of the claim's
// name, String, user_type single-valued, and in the ID token and userinfo as well. Problems are
// in the order of the claims, realm roles first.
func (tm TokenMapping) Problems(clientID string, roles, attrs []string) []MappingProblem {
	var out []MappingProblem
	if len(tm.Carrying(ClaimRealmRoles, TokenAccess)) == 0 {
		out = append(out, MappingProblem{Error: true, Claim: ClaimRealmRoles, Missing: true,
			Problem: fmt.Sprintf("no mapper puts the realm roles (realm_access.roles) into the access tokens of client %q: oauth2-proxy lets nobody into CodeMie", clientID),
			Fix:     fmt.Sprintf("add Keycloak's client scope roles as a default client scope of client %q", clientID)})
	}
	out = append(out, roleMapperProblems(tm.Carrying(ClaimRealmRoles, TokenAccess))...)
	if p, ok := tm.scopeProblem(clientID, roles); ok {
		out = append(out, p)
	}
	for _, attr := range attrs {
		ms := tm.Carrying(attr, TokenAccess)
		add := func(isErr bool, problem, fix string) {
			out = append(out, MappingProblem{Error: isErr, Claim: attr, Problem: problem, Fix: fix})
		}
		switch {
		case len(ms) == 0:
			out = append(out, MappingProblem{Error: true, Claim: attr, Missing: true,
				Problem: fmt.Sprintf("no token mapper puts user attribute %s into claim %s of the access tokens of client %q: CodeMie reads %s for nobody", attr, attr, clientID, AttributeMeaning(attr)),
				Fix:     fmt.Sprintf("declare tokenMappers in the files (roster creates the mappers in client scope profile), or add a User Attribute mapper to a default client scope of client %q", clientID)})
			continue
		case len(ms) > 1:
			var names []string
			for _, m := range ms {
				names = append(names, fmt.Sprintf("%q%s", m.Name, m.place()))
			}
			add(true, fmt.Sprintf("mappers %s all fill claim %s: which value the token carries is not defined", strings.Join(names, ", "), attr),
				"keep one of them (tokenMappers manages the one named "+attr+")")
		}
		for _, m := range ms {
			where := m.place()
			switch {
			case m.ProtocolMapper == ProtocolMapperUserAttribute && m.Attribute != attr:
				add(true, fmt.Sprintf("mapper %q%s fills claim %s from user attribute %q, not %s: CodeMie does not read what roster writes", m.Name, where, attr, m.Attribute, attr),
					fmt.Sprintf("set the mapper's user attribute to %s (tokenMappers corrects it)", attr))
			case attr == AttrUserType && m.Multivalued:
				add(true, fmt.Sprintf("mapper %q%s is multivalued: user_type becomes a JSON list, and CodeMie refuses the sign-in of every user who has one", m.Name, where),
					"turn Multivalued off on the mapper (tokenMappers corrects it)")
			case !m.StringClaim():
				add(true, fmt.Sprintf("mapper %q%s gives claim %s the JSON type %s: roster cannot tell what CodeMie reads", m.Name, where, attr, m.JSONType),
					"set the mapper's claim JSON type to String (tokenMappers corrects it)")
			}
			var missing []string
			for _, t := range []TokenType{TokenID, TokenUserInfo} {
				if !m.In(t) {
					missing = append(missing, string(t))
				}
			}
			if len(missing) > 0 {
				add(false, fmt.Sprintf("mapper %q%s does not add claim %s to %s: CodeMie reads claims from userinfo when it runs with IDP_PROVIDER=keycloak", m.Name, where, attr, strings.Join(missing, " and ")),
					"turn on Add to ID token and Add to userinfo on the mapper (tokenMappers corrects it)")
			}
		}
	}
	return out
}

// RoleProblem is the first problem that keeps realm role role out of what CodeMie reads from
// the access tokens of client clientID, if there is one: no role mapper, a role mapper that
// renames the roles or fills the claim otherwise, or a client scope that leaves the role out.
func (tm TokenMapping) RoleProblem(clientID, role string) (MappingProblem, bool) {
	for _, p := range tm.Problems(clientID, []string{role}, nil) {
		if p.Claim == ClaimRealmRoles && p.Error {
			return p, true
		}
	}
	return MappingProblem{}, false
}

// roleMapperProblems are the ways the one mapper ms holds, when it is the only one filling
// realm_access.roles in the access token, keeps CodeMie from reading the realm roles: a claim
// JSON type other than String, Multivalued off, a role prefix, or a mapper of another kind.
// Several mappers fill the claim together, as a set, which roster does not predict (see Claims).
func roleMapperProblems(ms []LiveTokenMapper) []MappingProblem {
	if len(ms) != 1 {
		return nil
	}
	m := ms[0]
	var out []MappingProblem
	add := func(problem, fix string) {
		out = append(out, MappingProblem{Error: true, Claim: ClaimRealmRoles,
			Problem: fmt.Sprintf("mapper %q%s %s", m.Name, m.place(), problem), Fix: fix})
	}
	const nobody = ": oauth2-proxy lets nobody into CodeMie"
	switch {
	case m.ProtocolMapper != ProtocolMapperRealmRoles:
		add(fmt.Sprintf("fills realm_access.roles from user attribute %q, not from the realm roles: CodeMie reads what the attribute holds as the user's roles", m.Attribute),
			"remove the mapper, and add Keycloak's client scope roles as a default client scope of the client")
		return out
	case !m.StringClaim():
		add(fmt.Sprintf("gives the realm roles the claim JSON type %s, so the token does not carry their names"+nobody, m.JSONType),
			"set the mapper's claim JSON type to String")
	}
	if !m.Multivalued {
		add("has Multivalued off, so the token carries one realm role as a string instead of the list"+nobody,
			"turn Multivalued on for the mapper")
	}
	if p := m.RolePrefix(); p != "" {
		add(fmt.Sprintf("puts %q before each realm role's name in the token (%sdeveloper)"+nobody, p, p),
			"clear the mapper's Realm Role prefix")
	}
	return out
}

// scopeProblem is the problem of a client with Full scope allowed off whose scope leaves out
// some of roles (realm role names), if there is one.
func (tm TokenMapping) scopeProblem(clientID string, roles []string) (MappingProblem, bool) {
	outside := tm.outOfScope(roles)
	if len(outside) == 0 {
		return MappingProblem{}, false
	}
	what, them := "realm role "+outside[0], "it"
	if len(outside) > 1 {
		what, them = "realm roles "+strings.Join(outside, " and "), "them"
	}
	return MappingProblem{Error: true, Claim: ClaimRealmRoles,
		Problem: fmt.Sprintf("client %q has Full scope allowed off, and no scope mapping of it or of its default client scopes takes in %s: Keycloak leaves %s out of the client's tokens, and CodeMie sees %s for nobody",
			clientID, what, them, them),
		Fix: fmt.Sprintf("turn Full scope allowed on for client %q, or assign it %s (Clients → %s → Client scopes → %s-dedicated → Scope → Assign role)",
			clientID, what, clientID, clientID)}, true
}

// outOfScope are those of roles a Scoped client keeps out of its tokens.
func (tm TokenMapping) outOfScope(roles []string) []string {
	if !tm.Scoped {
		return nil
	}
	var out []string
	for _, r := range roles {
		if !slices.Contains(tm.Scope, r) {
			out = append(out, r)
		}
	}
	return out
}

// place says where the mapper sits, for messages.
func (m LiveTokenMapper) place() string {
	if m.Scope == "" {
		return " (on the client)"
	}
	return fmt.Sprintf(" (client scope %s)", m.Scope)
}

// AttributeMeaning is what CodeMie reads from a CodeMie attribute.
func AttributeMeaning(attr string) string {
	switch attr {
	case AttrApplications:
		return "projects"
	case AttrApplicationsAdmin:
		return "Project Admin rights"
	}
	return "External Users"
}
