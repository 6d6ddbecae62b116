package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// maxListed is how many users a prerequisite names before it counts the rest.
const maxListed = 3

// prerequisites checks what CodeMie's reading needs beyond the users, as the realm will be once
// the plan is applied: CodeMie's client, the mappers that put the realm roles and each CodeMie
// attribute the files use into its tokens, and then, for every declared user, that CodeMie
// reads the access the files declare.
func (b *builder) prerequisites() []Prerequisite {
	cm := b.live.CodeMie
	client := cmp.Or(cm.ClientID, model.DefaultClientID)
	var out []Prerequisite
	fail := func(problem, fix string) { out = append(out, Prerequisite{Error: true, Problem: problem, Fix: fix}) }
	warn := func(problem, fix string) { out = append(out, Prerequisite{Problem: problem, Fix: fix}) }
	switch {
	case b.live.ClientUnread != "":
		warn(fmt.Sprintf("cannot check which token mappers reach client %q: %s", client, b.live.ClientUnread),
			"grant roster's service account view-clients (roster doctor --for plan lists the roles)")
		return out
	case b.live.Client == nil:
		fail(fmt.Sprintf("realm %q has no client %q, so CodeMie cannot sign anyone in through it", b.cfg.Realm, client),
			"set settings.codemie.clientId to the client CodeMie's oauth2-proxy uses (CodeMie's installation creates codemie)")
		return out
	}
	scopeFix := fmt.Sprintf("make the client scope holding the mappers a default client scope of client %q (Clients → %s → Client scopes → Add client scope → Default)", client, client)
	if tm := b.cfg.TokenMappers; tm != nil && !slices.Contains(b.live.Client.DefaultScopes, tm.ClientScope) {
		fail(fmt.Sprintf("tokenMappers.clientScope %q is not a default client scope of client %q: the mappers roster manages there never reach CodeMie", tm.ClientScope, client),
			fmt.Sprintf("add %q as a default client scope of client %q, or set tokenMappers.clientScope to one of its default scopes (%s)",
				tm.ClientScope, client, strings.Join(b.live.Client.DefaultScopes, ", ")))
	}
	if len(b.mapping.Carrying(model.ClaimRealmRoles, model.TokenAccess)) == 0 {
		fail(fmt.Sprintf("no mapper puts the realm roles (realm_access.roles) into the access tokens of client %q: oauth2-proxy lets nobody into CodeMie", client),
			"add Keycloak's client scope roles as a default client scope of client "+fmt.Sprintf("%q", client))
	}
	var unmapped []string
	for _, attr := range b.usedAttributes() {
		ms := b.mapping.Carrying(attr, model.TokenAccess)
		if len(ms) == 0 {
			unmapped = append(unmapped, attr)
			continue
		}
		if len(ms) > 1 {
			var names []string
			for _, m := range ms {
				names = append(names, fmt.Sprintf("%q%s", m.Name, mapperPlace(m)))
			}
			fail(fmt.Sprintf("mappers %s all fill claim %s: which value the token carries is not defined", strings.Join(names, ", "), attr),
				"keep one of them (tokenMappers manages the one named "+attr+")")
		}
		for _, m := range ms {
			where := mapperPlace(m)
			switch {
			case m.ProtocolMapper == model.ProtocolMapperUserAttribute && m.Attribute != attr:
				fail(fmt.Sprintf("mapper %q%s fills claim %s from user attribute %q, not %s: CodeMie does not read what roster writes", m.Name, where, attr, m.Attribute, attr),
					fmt.Sprintf("set the mapper's user attribute to %s (tokenMappers corrects it)", attr))
			case attr == model.AttrUserType && m.Multivalued:
				fail(fmt.Sprintf("mapper %q%s is multivalued: user_type becomes a JSON list, and CodeMie refuses the sign-in of every user who has one", m.Name, where),
					"turn Multivalued off on the mapper (tokenMappers corrects it)")
			case m.JSONType != "" && m.JSONType != "String":
				fail(fmt.Sprintf("mapper %q%s gives claim %s the JSON type %s: roster cannot tell what CodeMie reads", m.Name, where, attr, m.JSONType),
					"set the mapper's claim JSON type to String (tokenMappers corrects it)")
			}
			var missing []string
			for _, t := range []model.TokenType{model.TokenID, model.TokenUserInfo} {
				if !m.In(t) {
					missing = append(missing, string(t))
				}
			}
			if len(missing) > 0 {
				warn(fmt.Sprintf("mapper %q%s does not add claim %s to %s: CodeMie reads claims from userinfo when it runs with IDP_PROVIDER=keycloak", m.Name, where, attr, strings.Join(missing, " and ")),
					"turn on Add to ID token and Add to userinfo on the mapper (tokenMappers corrects it)")
			}
		}
	}
	if len(unmapped) > 0 {
		var what []string
		for _, attr := range unmapped {
			what = append(what, fmt.Sprintf("%s (%s)", attr, meaningOf(attr)))
		}
		fail(fmt.Sprintf("no token mapper puts the user attributes %s into the claims of the same names in the access tokens of client %q: CodeMie reads them for nobody",
			strings.Join(what, ", "), client),
			"declare tokenMappers: {} in the files (roster then creates the mappers in client scope profile), or add User Attribute mappers and "+scopeFix)
	}
	if users := b.misread(); len(users) > 0 {
		fail(fmt.Sprintf("CodeMie will not read the access the files declare for %s", listUsers(users)),
			"fix the prerequisites above")
	}
	slices.SortStableFunc(out, func(x, y Prerequisite) int {
		switch {
		case x.Error == y.Error:
			return 0
		case x.Error:
			return -1
		}
		return 1
	})
	return out
}

// usedAttributes are the CodeMie attributes some declared user needs in the token.
func (b *builder) usedAttributes() []string {
	var out []string
	for _, attr := range codemieAttrs {
		if slices.ContainsFunc(b.cfg.Users, func(u model.User) bool { return u.Access.Attributes()[attr] != nil }) {
			out = append(out, attr)
		}
	}
	return out
}

// misread lists the declared users, as "name: declared, read", whose access CodeMie reads
// differently from the files once the plan is applied. A disabled user is left out: they cannot
// sign in either way.
func (b *builder) misread() []string {
	var out []string
	for i := range b.cfg.Users {
		u := &b.cfg.Users[i]
		if u.Enabled != nil && !*u.Enabled {
			continue
		}
		if read := b.accessAfter(u, true); !read.Equal(u.Access) {
			out = append(out, fmt.Sprintf("%s (declared %s, read %s)", u.Username, u.Access.Summary(), read.Summary()))
		}
	}
	return out
}

func listUsers(users []string) string {
	if len(users) <= maxListed {
		return "user " + strings.Join(users, ", user ")
	}
	return fmt.Sprintf("user %s and %d more", strings.Join(users[:maxListed], ", user "), len(users)-maxListed)
}

func meaningOf(attr string) string {
	switch attr {
	case model.AttrApplications:
		return "projects"
	case model.AttrApplicationsAdmin:
		return "Project Admin rights"
	}
	return "External Users"
}

func mapperPlace(m model.LiveTokenMapper) string {
	if m.Scope == "" {
		return " (on the client)"
	}
	return fmt.Sprintf(" (client scope %s)", m.Scope)
}
