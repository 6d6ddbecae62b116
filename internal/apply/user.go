package apply

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// applyUsers applies a unit of user changes: one change, or a batch of creates.
func (r *runner) applyUsers(unit []int) {
	if len(unit) == 1 {
		r.applyUser(unit[0])
		return
	}
	imports := make([]model.UserImport, len(unit))
	for k, i := range unit {
		u := r.changes[i].User
		imports[k] = model.UserImport{User: *u.New, Roles: u.AddRoles}
	}
	// On error ids is nil, and every user goes the single way below, which reports its own
	// error: the batch's would blame them all for one.
	ids, _ := r.t.ImportUsers(r.work, imports)
	for k, i := range unit {
		u := r.changes[i].User
		id, created := ids[u.New.Username]
		switch {
		case created:
			r.link(i, id, u.New.Attributes)
		case r.ctx.Err() != nil:
			r.skip(unit[k:], errInterrupted)
			return
		default:
			// The target refused the batch (one bad user fails them all), lost its answer, or
			// skipped this user because the username exists: create it on its own, which
			// fails with the user's own error, or finds and adopts the user that exists.
			r.applyUser(i)
		}
	}
}

// applyUser creates or updates one user, then maps its roles and adds its links, stopping at
// the first failing step. A user whose attributes were written is finished by verify; any
// other is finished here.
func (r *runner) applyUser(i int) {
	c := &r.changes[i]
	if err := checkChange(c); err != nil {
		r.finish(i, err)
		return
	}
	u := c.User
	var (
		id          string
		sent        map[string][]string
		add, remove = u.AddRoles, u.RemoveRoles
	)
	if c.Action == plan.Create {
		var (
			adopted bool
			err     error
		)
		id, sent, adopted, err = r.create(u)
		if err != nil {
			r.finish(i, err)
			return
		}
		if adopted {
			// The user's live roles are unknown: bring the owned ones to exactly After.Role.
			// Both requests are idempotent, so mapping what is mapped costs nothing.
			add, remove = exactRole(u)
			r.outcomes[i].Adopted = true
		}
	} else {
		id, sent = u.Before.ID, u.Patch.Attributes
		if !u.Patch.IsEmpty() {
			if err := r.t.UpdateUser(r.work, id, u.Patch); err != nil {
				r.finish(i, r.failed("update", err))
				return
			}
		}
	}
	if len(add) > 0 || len(remove) > 0 {
		if err := r.t.MapRoles(r.work, id, add, remove); err != nil {
			r.finish(i, r.failed("map roles", err))
			return
		}
	}
	r.link(i, id, sent)
}

// link adds the user's identity links; then it leaves the user to verify when attributes were
// written, and finishes it otherwise.
func (r *runner) link(i int, id string, sent map[string][]string) {
	c := &r.changes[i]
	for _, l := range c.User.Links {
		if err := r.t.LinkIdentity(r.work, id, l); err != nil {
			r.finish(i, r.failed(fmt.Sprintf("link identity provider %q", l.Provider), err))
			return
		}
	}
	if len(sent) > 0 {
		ck := &check{id: id, username: c.Addr.Name, sent: sent}
		if c.Access != nil && c.User.After != nil {
			ck.role, ck.want = c.User.After.Role, &c.Access.After
		}
		r.checks[i] = ck
		return
	}
	r.finish(i, nil)
}

// create creates the user with its initial password and returns its id and the attributes
// written. When the create fails, the user may exist anyway: the request can take effect
// before the connection breaks, and someone may have made the user since the plan (409). The
// create is never sent again; create looks the user up instead and, if it exists, adopts it,
// updating it to the declared state (adopted is then true).
func (r *runner) create(u *plan.UserChange) (id string, sent map[string][]string, adopted bool, err error) {
	nu := *u.New
	if ref := u.After.InitialPassword; ref != nil {
		if r.opts.Password == nil {
			return "", nil, false, errors.New("failed to read the initial password: no way to resolve passwords was given")
		}
		pw, err := r.opts.Password(&ref.SecretRef)
		if err != nil {
			return "", nil, false, fmt.Errorf("failed to read the initial password: %w", err)
		}
		pw.Temporary = ref.Temporary
		nu.InitialPassword = &pw
	}
	id, cerr := r.t.CreateUser(r.work, nu)
	if cerr == nil {
		return id, nu.Attributes, false, nil
	}
	lu, found, ferr := r.t.FindUser(r.work, nu.Username)
	switch {
	case ferr != nil:
		return "", nil, false, fmt.Errorf("%w; looking the user up afterwards failed too: %v", r.failed("create", cerr), ferr)
	case !found:
		return "", nil, false, r.failed("create", cerr)
	case lu.FederationLink != "":
		return "", nil, false, fmt.Errorf("failed to create: %w; the user exists but comes from user storage (federation link %q), which roster never changes",
			cerr, lu.FederationLink)
	}
	p := adoptPatch(u)
	if err := r.t.UpdateUser(r.work, lu.ID, p); err != nil {
		return "", nil, false, r.failed(fmt.Sprintf("update the existing user after the create failed (%v)", cerr), err)
	}
	return lu.ID, p.Attributes, true, nil
}

// adoptPatch is the update that brings an existing user of unknown state to what the create
// would have made, as far as the configuration declares it: the fields After declares (those it
// leaves out stay as they are, as for any update), every attribute New writes, and the removal
// of the CodeMie attributes and declared-empty attributes New leaves out, so an adopted user
// gains no access the configuration does not grant. It never carries a password.
func adoptPatch(u *plan.UserChange) model.UserPatch {
	a := u.After
	p := model.UserPatch{Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, Enabled: a.Enabled}
	if a.RequiredActions != nil {
		ra := slices.Clone(*a.RequiredActions)
		p.RequiredActions = &ra
	}
	p.Attributes = maps.Clone(u.New.Attributes)
	if p.Attributes == nil {
		p.Attributes = map[string][]string{}
	}
	for _, k := range []string{model.AttrApplications, model.AttrApplicationsAdmin, model.AttrUserType} {
		if _, ok := p.Attributes[k]; !ok {
			p.Attributes[k] = nil
		}
	}
	for k, v := range a.Attributes {
		if len(v) == 0 {
			p.Attributes[k] = nil
		}
	}
	return p
}

// exactRole returns the owned roles to map and unmap so that the user holds exactly
// After.Role of them.
func exactRole(u *plan.UserChange) (add, remove []model.Role) {
	for _, r := range model.OwnedRoles {
		if r == u.After.Role {
			add = append(add, r)
		} else {
			remove = append(remove, r)
		}
	}
	return add, remove
}

// check is what verify must find for one user: the attributes sent, a value to be stored as
// sent, an empty one to be absent; and the access CodeMie is to read from what is stored, for a
// user holding role.
type check struct {
	id       string
	username string
	sent     map[string][]string
	role     model.Role
	want     *model.Access // nil: the change says nothing about access
}

// verify reads the users back once and finishes every user change whose attributes were
// written: applied when Keycloak stored them as sent, failed otherwise. It runs even after an
// interrupt, on the work context, since it only reads and tells whether what was written held.
func (r *runner) verify(idx []int) {
	var pending []int
	for _, i := range idx {
		if r.checks[i] != nil {
			pending = append(pending, i)
		}
	}
	if len(pending) == 0 {
		return
	}
	ids := make([]string, len(pending))
	for k, i := range pending {
		ids[k] = r.checks[i].id
	}
	users, err := r.t.ReadUsers(r.work, ids)
	if err != nil {
		err = r.failed("read the users back to verify the attributes written", err)
		for _, i := range pending {
			r.finish(i, err)
		}
		return
	}
	byID := make(map[string]*model.LiveUser, len(users))
	for k := range users {
		byID[users[k].ID] = &users[k]
	}
	for _, i := range pending {
		c := r.checks[i]
		lu, ok := byID[c.id]
		if !ok {
			r.finish(i, fmt.Errorf("Keycloak did not return %s when roster read the users back to verify its attributes", c.username))
			continue
		}
		r.finish(i, c.verify(lu, r.codemie, r.mapping))
	}
}

// verify compares the user as listed with what was sent, and what CodeMie reads from it with
// what the plan said it would. Values are compared as multisets: Keycloak stores each value as a
// row and does not promise their order.
func (c *check) verify(lu *model.LiveUser, cm model.CodeMie, tm model.TokenMapping) error {
	e := &VerifyError{Username: c.username}
	if c.want != nil {
		if read := cm.ReadStored(tm, []model.Role{c.role}, lu.Attributes, lu.Enabled); !read.Equal(*c.want) {
			e.Read, e.Want = read.Summary(), c.want.Summary()
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.sent)) {
		want, have := c.sent[k], lu.Attributes[k]
		switch {
		case len(want) == 0 && len(have) > 0:
			e.NotRemoved = append(e.NotRemoved, k)
		case len(want) > 0 && !sameValues(want, have):
			e.NotStored = append(e.NotStored, k)
		}
	}
	if len(e.NotStored) == 0 && len(e.NotRemoved) == 0 && e.Read == "" {
		return nil
	}
	return e
}

func sameValues(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
