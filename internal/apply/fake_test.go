package apply

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/model"
)

// fakeTarget is an in-memory realm. It records every call as a short string ("CreateUser bob",
// "UpdateUser id-bob", "MapRoles id-bob +developer -admin", …) and can fail any of them, before
// or after it takes effect.
type fakeTarget struct {
	mu    sync.Mutex
	calls []string
	users map[string]*model.LiveUser // by id
	// passwords are the initial passwords the users were created with, by username.
	passwords map[string]model.Password

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
	// reads are the ids of each ReadUsers call, sorted.
	reads [][]string
	// hook runs inside every call before it takes effect; an error it returns fails the call.
	hook func(ctx context.Context, call string) error
	// delay is how long every call takes.
	delay time.Duration

	inflight, maxInflight int
	// doneCtx are the calls that started with their context already done.
	doneCtx []string
}

func newFake(users ...model.LiveUser) *fakeTarget {
	f := &fakeTarget{users: map[string]*model.LiveUser{}, passwords: map[string]model.Password{},
		fail: map[string]error{}, failAfter: map[string]error{}, drop: map[string]bool{}, before: map[string]*model.LiveUser{}}
	for _, u := range users {
		f.users[u.ID] = &u
		before := clone(&u)
		f.before[u.ID] = &before
	}
	return f
}

// enter records the call and returns the error it fails with before taking effect, if any. Like
// an HTTP request, a call on a done context fails.
func (f *fakeTarget) enter(ctx context.Context, call string) error {
	f.mu.Lock()
	f.calls = append(f.calls, call)
	if ctx.Err() != nil {
		f.doneCtx = append(f.doneCtx, call)
	}
	f.inflight++
	f.maxInflight = max(f.maxInflight, f.inflight)
	hook, delay := f.hook, f.delay
	f.mu.Unlock()

	var err error
	if hook != nil {
		err = hook(ctx, call)
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inflight--
	if err == nil {
		err = f.fail[call]
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// after is the error a call that took effect returns; f.mu must be held.
func (f *fakeTarget) after(call string) error { return f.failAfter[call] }

// Policy is ADMIN_EDIT, or DISABLED when the fake drops attributes.
func (f *fakeTarget) Policy(ctx context.Context) (model.Policy, error) {
	if err := f.enter(ctx, "Policy"); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.drop) > 0 {
		return model.PolicyDisabled, nil
	}
	return model.PolicyAdminEdit, nil
}

func (f *fakeTarget) SetPolicy(ctx context.Context, p model.Policy) error {
	return f.enter(ctx, "SetPolicy "+string(p))
}

func (f *fakeTarget) CreateRole(ctx context.Context, r model.RealmRole) error {
	return f.enter(ctx, "CreateRole "+r.Name)
}

func (f *fakeTarget) UpdateRoleDescription(ctx context.Context, name, _ string) error {
	return f.enter(ctx, "UpdateRoleDescription "+name)
}

func (f *fakeTarget) CreateUser(ctx context.Context, u model.NewUser) (string, error) {
	call := "CreateUser " + u.Username
	if err := f.enter(ctx, call); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, lu := range f.users {
		if lu.Username == u.Username {
			return "", errors.New("POST /users: 409 User exists with same username")
		}
	}
	lu := &model.LiveUser{ID: "id-" + u.Username, Username: u.Username, Email: u.Email, FirstName: u.FirstName,
		LastName: u.LastName, Enabled: u.Enabled, Attributes: map[string][]string{}, Created: time.Now()}
	f.setAttributes(lu, u.Attributes)
	f.users[lu.ID] = lu
	if u.InitialPassword != nil {
		f.passwords[u.Username] = *u.InitialPassword
	}
	return lu.ID, f.after(call)
}

// ImportUsers creates the users whose username is free, all at once, with their roles.
func (f *fakeTarget) ImportUsers(ctx context.Context, users []model.UserImport) (map[string]string, error) {
	call := "ImportUsers"
	for _, u := range users {
		call += " " + u.User.Username
	}
	if err := f.enter(ctx, call); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	taken := map[string]bool{}
	for _, lu := range f.users {
		taken[lu.Username] = true
	}
	var made []*model.LiveUser
	for _, ui := range users {
		u := ui.User
		if u.InitialPassword != nil {
			return nil, fmt.Errorf("user %q has an initial password, which a batch create cannot set", u.Username)
		}
		if taken[u.Username] {
			continue
		}
		lu := &model.LiveUser{ID: "id-" + u.Username, Username: u.Username, Email: u.Email, FirstName: u.FirstName,
			LastName: u.LastName, Enabled: u.Enabled, Attributes: map[string][]string{}, Roles: slices.Clone(ui.Roles), Created: time.Now()}
		f.setAttributes(lu, u.Attributes)
		made = append(made, lu)
	}
	ids := map[string]string{}
	for _, lu := range made {
		f.users[lu.ID] = lu
		ids[lu.Username] = lu.ID
	}
	if err := f.after(call); err != nil {
		return nil, err
	}
	return ids, nil
}

func (f *fakeTarget) FindUser(ctx context.Context, username string) (model.LiveUser, bool, error) {
	return f.find(ctx, "FindUser "+username, func(lu *model.LiveUser) bool { return lu.Username == username })
}

func (f *fakeTarget) FindUserByEmail(ctx context.Context, email string) (model.LiveUser, bool, error) {
	return f.find(ctx, "FindUserByEmail "+email, func(lu *model.LiveUser) bool { return lu.Email != "" && lu.Email == email })
}

// find records the call and returns a user for which is holds.
func (f *fakeTarget) find(ctx context.Context, call string, is func(*model.LiveUser) bool) (model.LiveUser, bool, error) {
	if err := f.enter(ctx, call); err != nil {
		return model.LiveUser{}, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, lu := range f.users {
		if is(lu) {
			return clone(lu), true, nil
		}
	}
	return model.LiveUser{}, false, nil
}

// statusError is a failed request with an HTTP status, as the Keycloak adapter returns one.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string   { return e.msg }
func (e *statusError) StatusCode() int { return e.status }

func (f *fakeTarget) UpdateUser(ctx context.Context, id string, p model.UserPatch) error {
	call := "UpdateUser " + id
	if err := f.enter(ctx, call); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	lu, ok := f.users[id]
	if !ok {
		return fmt.Errorf("PUT /users/%s: 404 User not found", id)
	}
	if p.Email != nil {
		lu.Email = *p.Email
	}
	if p.Enabled != nil {
		lu.Enabled = *p.Enabled
	}
	if p.RequiredActions != nil {
		lu.RequiredActions = slices.Clone(*p.RequiredActions)
	}
	f.setAttributes(lu, p.Attributes)
	return f.after(call)
}

// setAttributes writes attrs as Keycloak does: an empty value removes, dropped names are left
// as they were. f.mu must be held.
func (f *fakeTarget) setAttributes(lu *model.LiveUser, attrs map[string][]string) {
	for k, v := range attrs {
		switch {
		case f.drop[k]:
		case len(v) == 0:
			delete(lu.Attributes, k)
		default:
			lu.Attributes[k] = slices.Clone(v)
		}
	}
}

func (f *fakeTarget) MapRoles(ctx context.Context, id string, add, remove []model.Role) error {
	call := "MapRoles " + id
	for _, r := range add {
		call += " +" + string(r)
	}
	for _, r := range remove {
		call += " -" + string(r)
	}
	if err := f.enter(ctx, call); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	lu, ok := f.users[id]
	if !ok {
		return fmt.Errorf("POST /users/%s/role-mappings/realm: 404 User not found", id)
	}
	lu.Roles = slices.DeleteFunc(lu.Roles, func(r model.Role) bool { return slices.Contains(remove, r) })
	for _, r := range add {
		if !slices.Contains(lu.Roles, r) {
			lu.Roles = append(lu.Roles, r)
		}
	}
	return f.after(call)
}

func (f *fakeTarget) LinkIdentity(ctx context.Context, id string, link model.FederatedIdentity) error {
	call := "LinkIdentity " + id + " " + link.Provider
	if err := f.enter(ctx, call); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id].FederatedIdentities = append(f.users[id].FederatedIdentities, link)
	return f.after(call)
}

func (f *fakeTarget) DeleteUser(ctx context.Context, id string) error {
	call := "DeleteUser " + id
	if err := f.enter(ctx, call); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.users, id)
	return f.after(call)
}

func (f *fakeTarget) ReadUsers(ctx context.Context, ids []string) ([]model.LiveUser, error) {
	if err := f.enter(ctx, "ReadUsers"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, slices.Sorted(slices.Values(ids)))
	users := f.users
	if f.staleReads > 0 {
		f.staleReads--
		users = f.before
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

// user returns the stored user with the given username.
func (f *fakeTarget) user(username string) (model.LiveUser, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, lu := range f.users {
		if lu.Username == username {
			return clone(lu), true
		}
	}
	return model.LiveUser{}, false
}

// recorded returns the calls so far; with prefix, only those starting with it.
func (f *fakeTarget) recorded(prefix string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			out = append(out, c)
		}
	}
	return out
}

func clone(lu *model.LiveUser) model.LiveUser {
	c := *lu
	c.Attributes = maps.Clone(lu.Attributes)
	c.Roles = slices.Clone(lu.Roles)
	c.FederatedIdentities = slices.Clone(lu.FederatedIdentities)
	return c
}

func (f *fakeTarget) CreateTokenMapper(ctx context.Context, scopeID string, m model.LiveTokenMapper) error {
	return f.enter(ctx, "CreateTokenMapper "+scopeID+" "+m.Name)
}

func (f *fakeTarget) UpdateTokenMapper(ctx context.Context, scopeID string, m model.LiveTokenMapper) error {
	return f.enter(ctx, "UpdateTokenMapper "+scopeID+" "+m.ID)
}

func (f *fakeTarget) CreateIdentityProvider(ctx context.Context, p model.LiveIdentityProvider, secret model.Secret) error {
	return f.enter(ctx, "CreateIdentityProvider "+p.Alias)
}

func (f *fakeTarget) UpdateIdentityProvider(ctx context.Context, alias string, _ model.IdentityProviderUpdate) error {
	return f.enter(ctx, "UpdateIdentityProvider "+alias)
}

func (f *fakeTarget) CreateIdentityProviderMapper(ctx context.Context, alias string, m model.LiveIdentityProviderMapper) error {
	return f.enter(ctx, "CreateIdentityProviderMapper "+alias+"/"+m.Name)
}

func (f *fakeTarget) UpdateIdentityProviderMapper(ctx context.Context, alias string, m model.LiveIdentityProviderMapper) error {
	return f.enter(ctx, "UpdateIdentityProviderMapper "+alias+"/"+m.ID)
}
