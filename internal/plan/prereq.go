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
	var unmapped []string
	for _, mp := range b.mapping.Problems(client, b.usedRoles(), b.usedAttributes()) {
		switch {
		case mp.Missing && mp.Claim != model.ClaimRealmRoles:
			unmapped = append(unmapped, mp.Claim)
		case mp.Error:
			fail(mp.Problem, mp.Fix)
		default:
			warn(mp.Problem, mp.Fix)
		}
	}
	if len(unmapped) > 0 {
		var what []string
		for _, attr := range unmapped {
			what = append(what, fmt.Sprintf("%s (%s)", attr, model.AttributeMeaning(attr)))
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
	for _, attr := range model.CodeMieAttributes() {
		if slices.ContainsFunc(b.cfg.Users, func(u model.User) bool { return u.Access.Attributes()[attr] != nil }) {
			out = append(out, attr)
		}
	}
	return out
}

// usedRoles are the names of the realm roles the declared, enabled users hold, in
// model.OwnedRoles' order: a disabled user signs in with neither (see misread).
func (b *builder) usedRoles() []string {
	var out []string
	for _, role := range model.OwnedRoles() {
		if slices.ContainsFunc(b.cfg.Users, func(u model.User) bool { return u.Access.Role == role && (u.Enabled == nil || *u.Enabled) }) {
			out = append(out, b.live.CodeMie.RoleName(role))
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
