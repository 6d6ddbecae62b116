package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

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
	var batch []int // the users the batch created whose attributes verify must check
	// The batch is read back beside the next batches, not between them: the worker goes on.
	// With ReadBackTogether, verify reads them with the others at the end.
	defer func() {
		if len(batch) > 0 && !r.opts.ReadBackTogether {
			r.readBacks.Go(func() {
				r.readBackSlots <- struct{}{}
				defer func() { <-r.readBackSlots }()
				r.verifyBatch(batch)
			})
		}
	}()
	for k, i := range unit {
		u := r.changes[i].User
		id, created := ids[u.New.Username]
		switch {
		case created:
			r.link(i, id, u.New.Attributes)
			if r.checks[i] != nil {
				batch = append(batch, i)
			}
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
			// A batch that took effect mapped the roles, a single create none: bring the owned
			// ones to exactly After.Role. Both requests are idempotent.
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
		if c.User.Before != nil {
			ck.before = c.User.Before.Attributes
		}
		if c.Access != nil && c.User.After != nil {
			ck.role, ck.want = c.User.After.Role, &c.Access.After
		}
		r.checks[i] = ck
		if r.opts.Progress != nil {
			r.report(Event{Kind: UserWritten, Outcome: r.outcomes[i]})
		}
		return
	}
	r.finish(i, nil)
}

// create creates the user with its initial password and returns its id and the attributes
// written. When the create fails, the user may exist anyway: the request can take effect
// before the connection breaks. The create is never sent again; create looks the user up
// instead and adopts it (adopted is then true) only when this run provably made it: Keycloak
// created it after the run logged in (Options.Since) and it carries exactly the fields just
// sent. Any other user of that name is someone else's account, which roster must not take
// over (its ownership marker would let prune remove it later): that is an *ExistsError.
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
		return "", nil, false, r.createFailed(&nu, cerr)
	case lu.FederationLink != "":
		return "", nil, false, fmt.Errorf("failed to create: %w; the user exists but comes from user storage (federation link %q), which roster never changes",
			cerr, lu.FederationLink)
	case !madeAsSent(&lu, &nu, r.opts.Since):
		return "", nil, false, &ExistsError{Username: nu.Username, ID: lu.ID, Created: lu.Created, Err: cerr}
	}
	return lu.ID, nu.Attributes, true, nil
}

// createFailed explains a create that failed while no user of the name exists. A conflict then
// comes from the email: it names the user who holds it.
func (r *runner) createFailed(nu *model.NewUser, cerr error) error {
	if statusOf(cerr) != http.StatusConflict || nu.Email == "" {
		return r.failed("create", cerr)
	}
	holder, found, err := r.t.FindUserByEmail(r.work, nu.Email)
	if err != nil || !found {
		return r.failed("create", cerr)
	}
	return &EmailTakenError{Email: nu.Email, Holder: holder.Username, Err: cerr}
}

// madeAsSent reports whether the live user is the one the create just sent: created by Keycloak
// at or after since, with exactly the fields and attributes of nu.
func madeAsSent(lu *model.LiveUser, nu *model.NewUser, since time.Time) bool {
	if lu.Created.IsZero() || lu.Created.Before(since) {
		return false
	}
	if lu.Email != strings.ToLower(nu.Email) || lu.FirstName != nu.FirstName || lu.LastName != nu.LastName ||
		lu.Enabled != nu.Enabled || len(lu.Attributes) != len(nu.Attributes) {
		return false
	}
	for k, v := range nu.Attributes {
		if !sameValues(v, lu.Attributes[k]) {
			return false
		}
	}
	return true
}

// exactRole returns the owned roles to map and unmap so that the user holds exactly
// After.Role of them.
func exactRole(u *plan.UserChange) (add, remove []model.Role) {
	for _, r := range model.OwnedRoles() {
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
	before   map[string][]string // the attributes before the write, for an update
	role     model.Role
	want     *model.Access // nil: the change says nothing about access
}

// verify reads the users back and finishes every user change whose attributes were written:
// applied when Keycloak stored them as sent, failed otherwise. A user that does not read back as
// written is read again after each pause of rereadAfter before it fails (or is reported changed
// by someone else): behind a load balancer the read can reach another node than the write did,
// and a node whose cache lagged behind the write must not make a stored change look dropped or
// overwritten. It runs even after an interrupt, on the work context, since it only reads and
// tells whether what was written held. When the read-back fails or is cut off, or the run is no
// longer the realm's writer (its context was cancelled with ErrNotHolder, so another run may
// have changed the users since), the changes are applied but Unverified.
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
	r.phase(PhaseReadBack, len(pending))
	for attempt := 0; len(pending) > 0; attempt++ {
		pending = r.verifyOnce(pending, attempt == len(rereadAfter))
		if len(pending) > 0 {
			select {
			case <-time.After(rereadAfter[attempt]):
			case <-r.work.Done():
				r.verifyOnce(pending, true) // they end Unverified: the read-back was cut off
				return
			}
		}
	}
}

// verifyBatch verifies the users one ImportUsers request created, right after it, while other
// batches are under way: it reads every user of the batch back and finishes as applied each one
// that reads back exactly as sent. It leaves the others — an attribute dropped, someone else's
// edit, a user missing — to verify, which reads them again and reports each, as it does single
// changes; so does a failed read, or a run that no longer holds the realm. Every user reported
// created has been read back: one transaction stores a batch alike, but a user can still be
// edited or deleted between the import and the read.
func (r *runner) verifyBatch(batch []int) {
	if len(batch) == 0 || errors.Is(context.Cause(r.ctx), ErrNotHolder) {
		return
	}
	ids := make([]string, len(batch))
	for k, i := range batch {
		ids[k] = r.checks[i].id
	}
	users, err := r.t.ReadUsers(r.work, ids)
	if err != nil {
		return
	}
	byID := make(map[string]*model.LiveUser, len(users))
	for k := range users {
		byID[users[k].ID] = &users[k]
	}
	adminWrites := r.adminWrites()
	for _, i := range batch {
		c := r.checks[i]
		lu, ok := byID[c.id]
		if !ok {
			continue
		}
		if changed, err := c.verify(lu, r.codemie, r.mapping, adminWrites); err != nil || len(changed) > 0 {
			continue
		}
		r.checks[i] = nil
		r.finish(i, nil)
	}
}

// adminWrites returns a function that tells whether the realm's policy, as it is now, lets
// administrators write unmanaged attributes. The policy is read once, when first needed; when
// it cannot be read, the answer is no.
func (r *runner) adminWrites() func() bool {
	var read, allowed bool
	return func() bool {
		if !read {
			policy, err := r.t.Policy(r.work)
			read, allowed = true, err == nil && policy.AdminWrites()
		}
		return allowed
	}
}

// rereadAfter are the pauses before each new read of the users verify found otherwise than
// written.
var rereadAfter = []time.Duration{250 * time.Millisecond, time.Second}

// verifyOnce reads the pending users back once and finishes them, but for those that do not read
// back as written, which it returns to be read again unless this is the last read.
func (r *runner) verifyOnce(pending []int, last bool) (again []int) {
	ids := make([]string, len(pending))
	for k, i := range pending {
		ids[k] = r.checks[i].id
	}
	why := context.Cause(r.ctx)
	if !errors.Is(why, ErrNotHolder) {
		var users []model.LiveUser
		if users, why = r.t.ReadUsers(r.work, ids); why == nil {
			return r.check(pending, users, last)
		}
		if context.Cause(r.work) == errGraceOver {
			why = fmt.Errorf("reading the users back was cut off: %v", errGraceOver)
		} else {
			why = fmt.Errorf("reading the users back failed: %w", why)
		}
	}
	// Every request of these changes succeeded; only the check is missing. They are applied,
	// and say so.
	for _, i := range pending {
		r.outcomes[i].Unverified = why
		r.finish(i, nil)
	}
	return nil
}

// check finishes the pending changes by comparing what was sent with the users as read back;
// unless last, it returns those that do not read back as written instead.
func (r *runner) check(pending []int, users []model.LiveUser, last bool) (again []int) {
	// An attribute that reads back as it was before the write was either dropped (the policy
	// does not let administrators write it) or written back by someone else since: the policy
	// as it is now tells which; when it cannot be read, the policy is blamed.
	adminWrites := r.adminWrites()
	byID := make(map[string]*model.LiveUser, len(users))
	for k := range users {
		byID[users[k].ID] = &users[k]
	}
	for _, i := range pending {
		c := r.checks[i]
		lu, ok := byID[c.id]
		var changed []string
		var err error
		if ok {
			changed, err = c.verify(lu, r.codemie, r.mapping, adminWrites)
		} else {
			err = fmt.Errorf("Keycloak did not return %s when roster read the users back to verify its attributes", c.username)
		}
		if (err != nil || len(changed) > 0) && !last {
			again = append(again, i)
			continue
		}
		if err == nil && len(changed) > 0 {
			r.outcomes[i].Unverified = fmt.Errorf("%s changed after roster wrote it, by someone else; roster plan shows the difference", codeList(changed))
		}
		r.finish(i, err)
	}
	return again
}

// verify compares the user as listed with what was sent, and what CodeMie reads from it with
// what the plan said it would. Values are compared as multisets: Keycloak stores each value as a
// row and does not promise their order. An attribute that holds neither what was sent nor what
// it held before the write — or holds what it held before while the policy (adminWrites) lets
// administrators write it — was changed since by someone else (an administrator in the console
// during the apply): it is returned in changed, not as a failure, since Keycloak did store the
// write, and what CodeMie reads is then that person's doing, not checked. One that is absent, or
// still holds its old value under a policy that drops administrators' writes, was not stored: a
// *VerifyError.
func (c *check) verify(lu *model.LiveUser, cm model.CodeMie, tm model.TokenMapping, adminWrites func() bool) (changed []string, err error) {
	e := &VerifyError{Username: c.username}
	for _, k := range slices.Sorted(maps.Keys(c.sent)) {
		want, have := c.sent[k], lu.Attributes[k]
		// have is someone else's: neither sent nor as before, or as before although the policy
		// lets administrators write it.
		since := len(have) > 0 && !sameValues(want, have) && (!sameValues(have, c.before[k]) || adminWrites())
		switch {
		case len(want) > 0 && sameValues(want, have):
		case since:
			changed = append(changed, k)
		case len(want) == 0 && len(have) > 0:
			e.NotRemoved = append(e.NotRemoved, k)
		case len(want) > 0:
			e.NotStored = append(e.NotStored, k)
		}
	}
	if c.want != nil && len(changed) == 0 {
		if read := cm.ReadStored(tm, []model.Role{c.role}, lu.Attributes, lu.Enabled); !read.Equal(*c.want) {
			e.Read, e.Want = read.Summary(), c.want.Summary()
		}
	}
	if len(e.NotStored) == 0 && len(e.NotRemoved) == 0 && e.Read == "" {
		return changed, nil
	}
	return changed, e
}

func sameValues(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
