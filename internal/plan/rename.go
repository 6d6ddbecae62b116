package plan

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// hold is a live user that holds something a new user needs, and what.
type hold struct {
	user *model.LiveUser
	// what is the field as the plan names it: "email", "username" (the new username is this
	// user's email) or "identity.<provider>".
	what string
}

// createOrRename returns the change that brings the declared user u, who has no live account
// under its username, into the realm: a Create, or a Rename of the account that left the
// configuration with u's email or identity link. When Keycloak would refuse either, it records
// a conflict and ok is false.
func (b *builder) createOrRename(u *model.User) (c Change, ok bool) {
	holds := b.holders(u)
	if len(holds) == 0 {
		return b.create(u), true
	}
	if lu := b.renameCandidate(u, holds); lu != nil {
		if !b.live.Login.EditUsernameAllowed {
			b.conflicts = append(b.conflicts, Conflict{
				User: u.Username, Field: holds[0].what, Holder: lu.Username, Rename: true,
				Fix: fmt.Sprintf("turn on Realm settings → Login → Edit username in the admin console (editUsernameAllowed: true), then plan again: the rename keeps the account's id, password and links; or keep the username %q in the file",
					lu.Username),
			})
			return Change{}, false
		}
		b.renamed[lu.ID] = true
		return b.rename(lu, u), true
	}
	if b.live.Login.DuplicateEmailsAllowed && !slices.ContainsFunc(holds, func(h hold) bool { return h.what != "email" }) {
		return b.create(u), true
	}
	for _, h := range holds {
		b.conflicts = append(b.conflicts, Conflict{User: u.Username, Field: h.what, Holder: h.user.Username, Fix: b.conflictFix(u, h)})
	}
	return Change{}, false
}

// holders returns the live users that hold u's email, its username as their email (when users
// may sign in with their email, Keycloak then refuses the username), or one of its identity
// links, as far as they were read; one entry per user and field, by username.
func (b *builder) holders(u *model.User) []hold {
	x := b.index()
	var candidates []int
	if u.Email != nil {
		candidates = append(candidates, x.emails[model.FoldKey(*u.Email)]...)
	}
	if b.live.Login.LoginWithEmailAllowed && !b.live.Login.DuplicateEmailsAllowed {
		candidates = append(candidates, x.emails[model.FoldKey(u.Username)]...)
	}
	for _, l := range u.FederatedIdentities {
		candidates = append(candidates, x.links[linkKey{l.Provider, l.UserID}]...)
	}
	slices.Sort(candidates)
	var out []hold
	for _, i := range slices.Compact(candidates) {
		lu := &b.live.Users[i]
		if u.Email != nil && lu.Email != "" && strings.EqualFold(lu.Email, *u.Email) {
			out = append(out, hold{user: lu, what: "email"})
		}
		if b.live.Login.LoginWithEmailAllowed && !b.live.Login.DuplicateEmailsAllowed && lu.Email != "" &&
			strings.EqualFold(lu.Email, u.Username) {
			out = append(out, hold{user: lu, what: "username"})
		}
		for _, l := range sortedLinks(u.FederatedIdentities) {
			if slices.ContainsFunc(lu.FederatedIdentities, func(h model.FederatedIdentity) bool {
				return h.Provider == l.Provider && h.UserID == l.UserID
			}) {
				out = append(out, hold{user: lu, what: "identity." + l.Provider})
			}
		}
	}
	return out
}

// liveIndex finds in one lookup each the live users that hold an email or an identity link,
// and whether the configuration declares a username, where comparing every declared user with
// every live one made the plan quadratic.
type liveIndex struct {
	// emails maps the FoldKey of each non-empty email to the indexes of the live users that
	// hold it, in order.
	emails map[string][]int
	// links maps each identity link to the indexes of the live users that hold it.
	links map[linkKey][]int
	// declared holds the FoldKey of each declared username.
	declared map[string]bool
}

// linkKey is an identity link as Keycloak tells links apart: provider and the provider's id.
type linkKey struct{ provider, userID string }

// index returns the builder's liveIndex, made on first use.
func (b *builder) index() *liveIndex {
	if b.idx != nil {
		return b.idx
	}
	x := &liveIndex{emails: map[string][]int{}, links: map[linkKey][]int{}, declared: make(map[string]bool, len(b.cfg.Users))}
	for i := range b.live.Users {
		lu := &b.live.Users[i]
		if lu.Email != "" {
			k := model.FoldKey(lu.Email)
			x.emails[k] = append(x.emails[k], i)
		}
		for _, l := range lu.FederatedIdentities {
			k := linkKey{l.Provider, l.UserID}
			x.links[k] = append(x.links[k], i)
		}
	}
	for _, u := range b.cfg.Users {
		x.declared[model.FoldKey(u.Username)] = true
	}
	b.idx = x
	return x
}

// renameCandidate returns the one live user that u replaces, or nil: every hold is an email or
// identity link of that same user, who left the configuration, carries the ownership marker,
// and is not taken over by another rename.
func (b *builder) renameCandidate(u *model.User, holds []hold) *model.LiveUser {
	lu := holds[0].user
	for _, h := range holds {
		if h.user != lu || h.what == "username" {
			return nil
		}
	}
	if b.declared(lu.Username) || !b.owned(lu) || b.renamed[lu.ID] {
		return nil
	}
	return lu
}

// declared reports whether the configuration declares the username.
func (b *builder) declared(username string) bool {
	return b.index().declared[model.FoldKey(username)]
}

// rename is the change that renames lu to u's username and brings it to u as an update would.
// A user the create would have made enabled is enabled: prune may have disabled the account
// under its old name.
func (b *builder) rename(lu *model.LiveUser, u *model.User) Change {
	after := *u
	if after.Enabled == nil && !lu.Enabled {
		after.Enabled = new(true)
	}
	c, changed := b.update(lu, &after)
	if !changed {
		a := b.live.Access(*lu)
		c = Change{User: &UserChange{Before: lu, After: &after}, Access: &AccessChange{Before: a, After: a}}
	}
	if lu.FederatedIdentities == nil && len(c.User.Links) > 0 {
		// The old account's links were not read (it was not declared): adding one it may hold
		// would fail. The next plan reads them under the new name and adds what is missing.
		c.User.Links = nil
		c.Fields = slices.DeleteFunc(c.Fields, func(f FieldChange) bool { return strings.HasPrefix(f.Name, "identity.") })
		b.note("user %q: the identity links of %q were not read; the next plan adds the declared ones it lacks", u.Username, lu.Username)
	}
	c.Addr = Address{Kind: KindUser, Name: u.Username}
	c.Action = Rename
	c.FormatOnly = false
	c.User.Patch.Username = &after.Username
	c.Fields = slices.Insert(c.Fields, 0, FieldChange{Name: "username", Before: StringValue(lu.Username), After: StringValue(u.Username)})
	c.Reason = fmt.Sprintf("%q left the configuration and %q has its %s: the same account, renamed", lu.Username, u.Username, b.sharedField(lu, u))
	return c
}

// sharedField names what lu and u share, for the rename's reason.
func (b *builder) sharedField(lu *model.LiveUser, u *model.User) string {
	if u.Email != nil && strings.EqualFold(lu.Email, *u.Email) {
		return "email " + strconv.Quote(lu.Email)
	}
	for _, l := range u.FederatedIdentities {
		if slices.Contains(lu.FederatedIdentities, l) {
			return fmt.Sprintf("%s identity %q", l.Provider, l.UserID)
		}
	}
	return "identity link"
}

// conflictFix says how to resolve the hold h on what u needs.
func (b *builder) conflictFix(u *model.User, h hold) string {
	lu := h.user
	what := "another " + h.what
	if strings.HasPrefix(h.what, "identity.") {
		what = "another link"
	}
	if h.what == "username" {
		what = "another username"
	}
	switch {
	case b.untouchable(lu) != "":
		return fmt.Sprintf("%q %s and roster never changes it: give %q %s", lu.Username, b.untouchable(lu), u.Username, what)
	case b.declared(lu.Username):
		return fmt.Sprintf("%q is declared too and keeps it: give %q %s, or change %q first and add %q in a later apply",
			lu.Username, u.Username, what, lu.Username, u.Username)
	case b.renamed[lu.ID]:
		return fmt.Sprintf("%q is renamed to another declared user in this plan: give %q %s", lu.Username, u.Username, what)
	case !b.owned(lu):
		return fmt.Sprintf("%q is not managed by roster (no %s marker): to keep that account under the new name, declare %q with attributes %s: [\"true\"] (roster export --adopt writes it), apply, then rename it in the file; or give %q %s",
			lu.Username, b.owner, lu.Username, b.owner, u.Username, what)
	}
	return fmt.Sprintf("%q holds it too: give %q %s", lu.Username, u.Username, what)
}

// checkEmailMove records a conflict when the update of lu gives it u's email, which another live
// user holds and the realm does not allow twice: Keycloak would refuse the update.
func (b *builder) checkEmailMove(lu *model.LiveUser, u *model.User) {
	if b.live.Login.DuplicateEmailsAllowed {
		return
	}
	for _, i := range b.index().emails[model.FoldKey(*u.Email)] {
		h := &b.live.Users[i]
		if h.ID != lu.ID && h.Email != "" && strings.EqualFold(h.Email, *u.Email) {
			b.conflicts = append(b.conflicts, Conflict{User: u.Username, Field: "email", Holder: h.Username,
				Fix: fmt.Sprintf("change or remove the email of %q first (in Keycloak, or in the file and apply), then give it to %q; or give %q another email",
					h.Username, u.Username, u.Username)})
		}
	}
}
