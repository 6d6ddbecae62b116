// Package keycloakfake is an in-memory Keycloak realm behind the methods of *keycloak.Client
// that the operations use: reading the realm and its live state, the apply lock, the writes of
// apply (apply.Target) and the invitation emails. Tests of the operations and of apply run
// against it without a server; a contract test runs the same assertions against it and against
// the real adapter on a real Keycloak, so that it behaves as the adapter does where the tests
// rely on it.
//
// It records every call as a short string ("CreateUser bob", "UpdateUser id-bob",
// "MapRoles id-bob +developer -admin", …) and can fail any of them, before or after it takes
// effect.
package keycloakfake

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

// Identity is the username the fake says roster logged in as: the realm's service account.
const Identity = "service-account-roster"

// Realm is an in-memory realm. Its methods are safe for concurrent use.
type Realm struct {
	mu    sync.Mutex
	name  string
	smtp  map[string]string
	calls []string
	users map[string]*model.LiveUser // by id
	roles []model.RealmRole
	// policy is the unmanaged-attribute policy SetPolicy stored.
	policy model.Policy
	// passwords are the initial passwords the users were created with, by username.
	passwords map[string]model.Password
	// invited are the ids the invitation email went to, with the actions it asked for.
	invited []Invitation
	lock    *heldLock
	// mark is the apply mark TryLock sets, marks how many times it did, and settled whether
	// the last holder settled it.
	mark    string
	marks   int
	settled bool
	since   time.Time

	// fail makes a call fail before it takes effect; failAfter makes it take effect, then fail
	// (a connection lost after the server committed).
	fail, failAfter map[string]error
	// drop names attributes Keycloak accepts without storing, as under a policy that does not
	// allow them: writes leave them as they were.
	drop map[string]bool
	// staleReads is how many ReadUsers calls answer with the users as they were before the
	// run, as a node whose cache has not seen the writes would; before holds them.
	staleReads int
	before     map[string]*model.LiveUser
	reads      [][]string // the ids of each ReadUsers call, sorted
	hook       func(ctx context.Context, call string) error
	delay      time.Duration

	inflight, maxInflight int
	doneCtx               []string
}

// Invitation is one invitation email the fake was asked to send.
type Invitation struct {
	UserID  string
	Actions []string
}

// New returns the realm name as keycloaktest.NewCodeMieRealm leaves a real one: the policy
// ADMIN_EDIT, the realm roles admin and developer, no SMTP server and no user (Keycloak lists no
// service account among the users); then the given users.
func New(name string, users ...model.LiveUser) *Realm {
	r := &Realm{name: name, users: map[string]*model.LiveUser{}, passwords: map[string]model.Password{},
		policy: model.PolicyAdminEdit,
		roles:  []model.RealmRole{{Name: string(model.RoleAdmin)}, {Name: string(model.RoleDeveloper)}},
		fail:   map[string]error{}, failAfter: map[string]error{}, drop: map[string]bool{}, before: map[string]*model.LiveUser{},
		since: time.Now().Truncate(time.Second)}
	for _, u := range users {
		r.AddUser(u)
	}
	return r
}

// AddUser stores u as it is (its ID set), as if made outside roster; it also becomes part of
// what stale reads return.
func (r *Realm) AddUser(u model.LiveUser) {
	r.mu.Lock()
	defer r.mu.Unlock()
	stored, before := clone(&u), clone(&u)
	if stored.Attributes == nil {
		stored.Attributes = map[string][]string{}
	}
	r.users[u.ID] = &stored
	r.before[u.ID] = &before
}

// EditUser changes the stored user with the given id in place, as someone editing it in the
// admin console would; it reports whether the user exists.
func (r *Realm) EditUser(id string, edit func(*model.LiveUser)) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.users[id]
	if ok {
		edit(u)
	}
	return ok
}

// SetRoles replaces the realm roles.
func (r *Realm) SetRoles(roles ...model.RealmRole) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.roles = slices.Clone(roles)
	slices.SortFunc(r.roles, func(a, b model.RealmRole) int { return cmp.Compare(a.Name, b.Name) })
}

// SetSMTP gives the realm an SMTP server (host), so that it can send invitations.
func (r *Realm) SetSMTP(host string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.smtp = map[string]string{"host": host}
}

// Fail makes call fail with err before it takes effect, every time.
func (r *Realm) Fail(call string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail[call] = err
}

// FailAfter makes call take effect, then fail with err, every time: an answer lost after the
// server committed.
func (r *Realm) FailAfter(call string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failAfter[call] = err
}

// Drop makes the realm accept the attribute without storing it, as Keycloak does under a
// policy that does not allow it; Policy then answers DISABLED.
func (r *Realm) Drop(attr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drop[attr] = true
}

// StaleReads makes the next n ReadUsers calls answer with the users as they were before the
// run, as a node whose cache has not seen the writes would.
func (r *Realm) StaleReads(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.staleReads = n
}

// SetHook runs hook inside every call before it takes effect; an error it returns fails the
// call. It may call the realm's test methods (EditUser, …), not its Keycloak ones.
func (r *Realm) SetHook(hook func(ctx context.Context, call string) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hook = hook
}

// SetDelay makes every call take d.
func (r *Realm) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

// HoldLock makes the apply lock held by another run, described as holder, until expires.
func (r *Realm) HoldLock(holder string, expires time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lock = &heldLock{realm: r, holder: holder, expires: expires, lost: make(chan struct{})}
}

// ApplyElsewhere takes and releases the apply lock as another run's apply does, which marks the
// realm, settled.
func (r *Realm) ApplyElsewhere(holder string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.markLocked(holder)
	r.settled = true
}

// DeleteMark deletes the apply mark, as an administrator or a tool that owns the realm's roles
// may.
func (r *Realm) DeleteMark() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.mark, r.settled = "", false
}

// markLocked marks the realm as taken by holder; r.mu must be held.
func (r *Realm) markLocked(holder string) {
	r.marks++
	r.mark, r.settled = fmt.Sprintf("roster apply %d: %s", r.marks, holder), false
}

// LoseLock makes the lock roster holds lost, as when its renewals fail; what is written after
// it fails with *keycloak.LockLostError.
func (r *Realm) LoseLock(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lock != nil && r.lock.err == nil {
		r.lock.err = &keycloak.LockLostError{Realm: r.name, Why: why}
		close(r.lock.lost)
	}
}

// LockHolder is the holder of the apply lock, "" when none holds it.
func (r *Realm) LockHolder() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lock == nil {
		return ""
	}
	return r.lock.holder
}

// Calls returns the calls so far; with prefix, only those starting with it.
func (r *Realm) Calls(prefix string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

// Reads returns the ids each ReadUsers call so far asked for, sorted, in the order of the calls.
func (r *Realm) Reads() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reads)
}

// Writes returns the calls so far that change the realm (lock, reads and invitations left out).
func (r *Realm) Writes() []string {
	var out []string
	for _, c := range r.Calls("") {
		name, _, _ := strings.Cut(c, " ")
		switch name {
		case "Policy", "ReadRealm", "ReadLive", "ReadUsers", "FindUser", "FindUserByEmail", "Watch", "TryLock", "Settle", "Release", "SendActionsEmail":
		default:
			out = append(out, c)
		}
	}
	return out
}

// MaxInflight is the most calls that ran at once.
func (r *Realm) MaxInflight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxInflight
}

// DoneCtx are the calls that started with their context already done.
func (r *Realm) DoneCtx() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.doneCtx)
}

// User returns the stored user with the given username.
func (r *Realm) User(username string) (model.LiveUser, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.users {
		if u.Username == username {
			return clone(u), true
		}
	}
	return model.LiveUser{}, false
}

// Password returns the initial password the user with the given username was created with.
func (r *Realm) Password(username string) (model.Password, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.passwords[username]
	return p, ok
}

// Invitations are the invitation emails sent, in order.
func (r *Realm) Invitations() []Invitation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.invited)
}

// enter records the call and returns the error it fails with before taking effect, if any.
// Like an HTTP request, a call on a done context fails, and a write while the lock roster holds
// is lost fails with the loss.
func (r *Realm) enter(ctx context.Context, call string, write bool) error {
	r.mu.Lock()
	r.calls = append(r.calls, call)
	if ctx.Err() != nil {
		r.doneCtx = append(r.doneCtx, call)
	}
	r.inflight++
	r.maxInflight = max(r.maxInflight, r.inflight)
	hook, delay := r.hook, r.delay
	r.mu.Unlock()

	var err error
	if hook != nil {
		err = hook(ctx, call)
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inflight--
	if err == nil {
		err = r.fail[call]
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil && write && r.lock != nil && r.lock.ours && r.lock.err != nil {
		err = r.lock.err
	}
	return err
}

// after is the error a call that took effect returns; r.mu must be held.
func (r *Realm) after(call string) error { return r.failAfter[call] }

// apiError is a refusal as the adapter returns it, so that keycloak.IsNotFound and
// keycloak.IsConflict work on the fake's errors too.
func apiError(method, path string, status int, msg string) error {
	return &keycloak.APIError{Method: method, Path: path, Status: status, Message: msg}
}

// ReadRealm returns the realm's name and SMTP server.
func (r *Realm) ReadRealm(ctx context.Context) (keycloak.RealmInfo, error) {
	if err := r.enter(ctx, "ReadRealm", false); err != nil {
		return keycloak.RealmInfo{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return keycloak.RealmInfo{ID: "id-" + r.name, Name: r.name, Enabled: true, SMTPServer: maps.Clone(r.smtp)}, nil
}

// ReadLive returns the realm as keycloak.Client.ReadLive does: users sorted by username with
// their owned roles, links only for the users opts.LinksFor names, the lock role left out.
// The realm has no client scope, identity provider or CodeMie client.
func (r *Realm) ReadLive(ctx context.Context, opts keycloak.ReadOptions) (*model.Live, error) {
	if err := r.enter(ctx, "ReadLive", false); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	codemie := opts.CodeMie
	if codemie == (model.CodeMie{}) {
		codemie = model.DefaultCodeMie()
	}
	live := &model.Live{Realm: r.name, Policy: r.policyLocked(), Roles: slices.Clone(r.roles), Identity: Identity, CodeMie: codemie}
	for _, u := range r.users {
		lu := clone(u)
		lu.Roles = slices.DeleteFunc(lu.Roles, func(role model.Role) bool { return !slices.Contains(model.OwnedRoles(), role) })
		slices.Sort(lu.Roles)
		if opts.LinksFor == nil || !opts.LinksFor(lu.Username) {
			lu.FederatedIdentities = nil
		}
		live.Users = append(live.Users, lu)
	}
	slices.SortFunc(live.Users, func(a, b model.LiveUser) int { return cmp.Compare(a.Username, b.Username) })
	return live, nil
}

// Since is when the fake was made, to the second.
func (r *Realm) Since() time.Time { return r.since }

// Policy is the policy stored, or DISABLED when the fake drops attributes.
func (r *Realm) Policy(ctx context.Context) (model.Policy, error) {
	if err := r.enter(ctx, "Policy", false); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.policyLocked(), nil
}

func (r *Realm) policyLocked() model.Policy {
	if len(r.drop) > 0 {
		return model.PolicyDisabled
	}
	return r.policy
}

// SetPolicy stores the policy.
func (r *Realm) SetPolicy(ctx context.Context, p model.Policy) error {
	call := "SetPolicy " + string(p)
	if err := r.enter(ctx, call, true); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.policy = p
	return r.after(call)
}

// CreateRole adds a realm role; a second role of one name is refused, as Keycloak does.
func (r *Realm) CreateRole(ctx context.Context, role model.RealmRole) error {
	call := "CreateRole " + role.Name
	if err := r.enter(ctx, call, true); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.ContainsFunc(r.roles, func(x model.RealmRole) bool { return x.Name == role.Name }) {
		return apiError("POST", "/roles", 409, "Role with name "+role.Name+" already exists")
	}
	r.roles = append(r.roles, role)
	slices.SortFunc(r.roles, func(a, b model.RealmRole) int { return cmp.Compare(a.Name, b.Name) })
	return r.after(call)
}

// UpdateRoleDescription sets a realm role's description.
func (r *Realm) UpdateRoleDescription(ctx context.Context, name, description string) error {
	call := "UpdateRoleDescription " + name
	if err := r.enter(ctx, call, true); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.roles, func(x model.RealmRole) bool { return x.Name == name })
	if i < 0 {
		return apiError("PUT", "/roles/"+name, 404, "Could not find role")
	}
	r.roles[i].Description = description
	return r.after(call)
}

// CreateUser creates a user, refusing a username that exists.
func (r *Realm) CreateUser(ctx context.Context, u model.NewUser) (string, error) {
	call := "CreateUser " + u.Username
	if err := r.enter(ctx, call, true); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, lu := range r.users {
		if lu.Username == u.Username {
			return "", apiError("POST", "/users", 409, "User exists with same username")
		}
	}
	lu := r.newUserLocked(u, nil)
	r.users[lu.ID] = lu
	if u.InitialPassword != nil {
		r.passwords[u.Username] = *u.InitialPassword
	}
	return lu.ID, r.after(call)
}

// newUserLocked is the stored form of a created user; r.mu must be held.
func (r *Realm) newUserLocked(u model.NewUser, roles []model.Role) *model.LiveUser {
	lu := &model.LiveUser{ID: "id-" + u.Username, Username: u.Username, Email: u.Email, FirstName: u.FirstName,
		LastName: u.LastName, Enabled: u.Enabled, Attributes: map[string][]string{}, Roles: slices.Clone(roles),
		RequiredActions: slices.Sorted(slices.Values(u.RequiredActions)), Created: time.Now()}
	r.setAttributes(lu, u.Attributes)
	return lu
}

// ImportUsers creates the users whose username is free, all at once, with their roles.
func (r *Realm) ImportUsers(ctx context.Context, users []model.UserImport) (map[string]string, error) {
	call := "ImportUsers"
	for _, u := range users {
		call += " " + u.User.Username
	}
	if err := r.enter(ctx, call, true); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	taken := map[string]bool{}
	for _, lu := range r.users {
		taken[lu.Username] = true
	}
	var made []*model.LiveUser
	for _, ui := range users {
		u := ui.User
		if u.InitialPassword != nil {
			return nil, fmt.Errorf("user %q has an initial password, which a batch create cannot set", u.Username)
		}
		if !taken[u.Username] {
			made = append(made, r.newUserLocked(u, ui.Roles))
		}
	}
	ids := map[string]string{}
	for _, lu := range made {
		r.users[lu.ID] = lu
		ids[lu.Username] = lu.ID
	}
	if err := r.after(call); err != nil {
		return nil, err
	}
	return ids, nil
}

// FindUser looks a user up by exact username.
func (r *Realm) FindUser(ctx context.Context, username string) (model.LiveUser, bool, error) {
	return r.find(ctx, "FindUser "+username, func(lu *model.LiveUser) bool { return lu.Username == username })
}

// FindUserByEmail looks a user up by exact email.
func (r *Realm) FindUserByEmail(ctx context.Context, email string) (model.LiveUser, bool, error) {
	return r.find(ctx, "FindUserByEmail "+email, func(lu *model.LiveUser) bool { return lu.Email != "" && lu.Email == email })
}

// find records the call and returns a user for which is holds.
func (r *Realm) find(ctx context.Context, call string, is func(*model.LiveUser) bool) (model.LiveUser, bool, error) {
	if err := r.enter(ctx, call, false); err != nil {
		return model.LiveUser{}, false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, lu := range r.users {
		if is(lu) {
			return clone(lu), true, nil
		}
	}
	return model.LiveUser{}, false, nil
}

// UpdateUser changes the fields p sets.
func (r *Realm) UpdateUser(ctx context.Context, id string, p model.UserPatch) error {
	return r.writeUser(ctx, "UpdateUser "+id, id, "PUT", "/users/"+id, func(lu *model.LiveUser) {
		if p.Email != nil {
			lu.Email = *p.Email
		}
		if p.Enabled != nil {
			lu.Enabled = *p.Enabled
		}
		if p.RequiredActions != nil {
			lu.RequiredActions = slices.Clone(*p.RequiredActions)
		}
		r.setAttributes(lu, p.Attributes)
	})
}

// writeUser records call and applies edit to the stored user with the given id, under r.mu; a
// missing user is Keycloak's 404 to method path.
func (r *Realm) writeUser(ctx context.Context, call, id, method, path string, edit func(*model.LiveUser)) error {
	if err := r.enter(ctx, call, true); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	lu, ok := r.users[id]
	if !ok {
		return apiError(method, path, 404, "User not found")
	}
	edit(lu)
	return r.after(call)
}

// setAttributes writes attrs as Keycloak does: an empty value removes, dropped names are left
// as they were. r.mu must be held.
func (r *Realm) setAttributes(lu *model.LiveUser, attrs map[string][]string) {
	for k, v := range attrs {
		switch {
		case r.drop[k]:
		case len(v) == 0:
			delete(lu.Attributes, k)
		default:
			lu.Attributes[k] = slices.Clone(v)
		}
	}
}

// MapRoles maps add and unmaps remove.
func (r *Realm) MapRoles(ctx context.Context, id string, add, remove []model.Role) error {
	call := "MapRoles " + id
	for _, role := range add {
		call += " +" + string(role)
	}
	for _, role := range remove {
		call += " -" + string(role)
	}
	return r.writeUser(ctx, call, id, "POST", "/users/"+id+"/role-mappings/realm", func(lu *model.LiveUser) {
		lu.Roles = slices.DeleteFunc(lu.Roles, func(role model.Role) bool { return slices.Contains(remove, role) })
		for _, role := range add {
			if !slices.Contains(lu.Roles, role) {
				lu.Roles = append(lu.Roles, role)
			}
		}
	})
}

// LinkIdentity links the user to an identity-provider account.
func (r *Realm) LinkIdentity(ctx context.Context, id string, link model.FederatedIdentity) error {
	return r.writeUser(ctx, "LinkIdentity "+id+" "+link.Provider, id, "POST", "/users/"+id+"/federated-identity/"+link.Provider,
		func(lu *model.LiveUser) { lu.FederatedIdentities = append(lu.FederatedIdentities, link) })
}

// DeleteUser deletes the user.
func (r *Realm) DeleteUser(ctx context.Context, id string) error {
	call := "DeleteUser " + id
	if err := r.enter(ctx, call, true); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.users, id)
	return r.after(call)
}

// ReadUsers returns the users with the given ids, without roles and links.
func (r *Realm) ReadUsers(ctx context.Context, ids []string) ([]model.LiveUser, error) {
	if err := r.enter(ctx, "ReadUsers", false); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, slices.Sorted(slices.Values(ids)))
	users := r.users
	if r.staleReads > 0 {
		r.staleReads--
		users = r.before
	}
	var out []model.LiveUser
	for _, id := range slices.Sorted(slices.Values(ids)) {
		if stored, ok := users[id]; ok {
			lu := clone(stored)
			lu.Roles, lu.FederatedIdentities = nil, nil // a read-back has neither
			out = append(out, lu)
		}
	}
	return out, nil
}

// SendActionsEmail records the invitation; without an SMTP server it fails as Keycloak does.
func (r *Realm) SendActionsEmail(ctx context.Context, id string, actions []string) error {
	call := "SendActionsEmail " + id
	if err := r.enter(ctx, call, false); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.users[id]; !ok {
		return apiError("PUT", "/users/"+id+"/execute-actions-email", 404, "User not found")
	}
	if r.smtp["host"] == "" {
		return apiError("PUT", "/users/"+id+"/execute-actions-email", 500, "Failed to send execute actions email")
	}
	r.invited = append(r.invited, Invitation{UserID: id, Actions: slices.Clone(actions)})
	return r.after(call)
}

// The token mappers and identity providers are recorded, not stored: the fake's live state has
// none, and the tests that need them run against the real server.

func (r *Realm) CreateTokenMapper(ctx context.Context, scopeID string, m model.LiveTokenMapper) error {
	return r.enter(ctx, "CreateTokenMapper "+scopeID+" "+m.Name, true)
}

func (r *Realm) UpdateTokenMapper(ctx context.Context, scopeID string, m model.LiveTokenMapper) error {
	return r.enter(ctx, "UpdateTokenMapper "+scopeID+" "+m.ID, true)
}

func (r *Realm) CreateIdentityProvider(ctx context.Context, p model.LiveIdentityProvider, _ model.Secret) error {
	return r.enter(ctx, "CreateIdentityProvider "+p.Alias, true)
}

func (r *Realm) UpdateIdentityProvider(ctx context.Context, alias string, _ model.IdentityProviderUpdate) error {
	return r.enter(ctx, "UpdateIdentityProvider "+alias, true)
}

func (r *Realm) CreateIdentityProviderMapper(ctx context.Context, alias string, m model.LiveIdentityProviderMapper) error {
	return r.enter(ctx, "CreateIdentityProviderMapper "+alias+"/"+m.Name, true)
}

func (r *Realm) UpdateIdentityProviderMapper(ctx context.Context, alias string, m model.LiveIdentityProviderMapper) error {
	return r.enter(ctx, "UpdateIdentityProviderMapper "+alias+"/"+m.ID, true)
}

// TryLock takes the apply lock once, as keycloak.Client.TryLock does: a lock another run holds
// and has not let expire is a *keycloak.LockedError naming it; an expired one is taken over.
func (r *Realm) TryLock(ctx context.Context, holder string, lease time.Duration) (keycloak.HeldLock, error) {
	if err := r.enter(ctx, "TryLock "+holder, false); err != nil {
		return nil, err
	}
	if lease <= 0 {
		lease = keycloak.DefaultLockLease
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.lock; l != nil && time.Now().Before(l.expires) {
		return nil, &keycloak.LockedError{Realm: r.name, Holder: l.holder, Expires: l.expires}
	}
	r.lock = &heldLock{realm: r, holder: holder, expires: time.Now().Add(lease), ours: true, lost: make(chan struct{}), before: r.mark}
	r.markLocked(holder)
	return r.lock, nil
}

// Watch sees the lock and the mark as keycloak.Client.Watch does.
func (r *Realm) Watch(ctx context.Context) (keycloak.Watch, error) {
	if err := r.enter(ctx, "Watch", false); err != nil {
		return keycloak.Watch{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return keycloak.Watch{Free: r.lock == nil, Mark: r.mark, Settled: r.settled}, nil
}

// heldLock is the apply lock of the fake.
type heldLock struct {
	realm   *Realm
	holder  string
	expires time.Time
	// ours is whether roster took it (rather than HoldLock).
	ours bool
	lost chan struct{}
	err  *keycloak.LockLostError // under realm.mu
	// before is the mark found on taking the lock.
	before string
}

// QuietSince is keycloak.Lock's: the lock was free at w, and the mark is still w's, settled.
func (l *heldLock) QuietSince(w keycloak.Watch) bool { return w.QuietUntil(l.before) }

// Settle marks the realm settled, as keycloak.Lock's does.
func (l *heldLock) Settle(ctx context.Context) error {
	if err := l.realm.enter(ctx, "Settle "+l.holder, true); err != nil {
		return err
	}
	l.realm.mu.Lock()
	defer l.realm.mu.Unlock()
	if l.realm.lock != l {
		return &keycloak.LockLostError{Realm: l.realm.name, Why: "another run took the lock over"}
	}
	l.realm.mark += " (settled)"
	l.realm.settled = true
	return nil
}

func (l *heldLock) Lost() <-chan struct{} { return l.lost }

func (l *heldLock) Err() error {
	l.realm.mu.Lock()
	defer l.realm.mu.Unlock()
	if l.err == nil {
		return nil
	}
	return l.err
}

// Release gives the lock back and reports its loss.
func (l *heldLock) Release(ctx context.Context) error {
	if err := l.realm.enter(ctx, "Release "+l.holder, false); err != nil {
		return err
	}
	l.realm.mu.Lock()
	defer l.realm.mu.Unlock()
	if l.realm.lock == l {
		l.realm.lock = nil
	}
	if l.err != nil {
		return l.err
	}
	return nil
}

func clone(lu *model.LiveUser) model.LiveUser {
	c := *lu
	c.Attributes = maps.Clone(lu.Attributes)
	c.Roles = slices.Clone(lu.Roles)
	c.RequiredActions = slices.Clone(lu.RequiredActions)
	c.FederatedIdentities = slices.Clone(lu.FederatedIdentities)
	return c
}
