package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// Target is the realm apply writes to. The Keycloak adapter (*keycloak.Client) implements it;
// the CLI asserts that at compile time. Methods may be called concurrently.
//
// apply relies on these properties of the implementation: CreateUser and ImportUsers are never
// retried inside (a repeated POST could create the user twice or fail with 409 after the first
// attempt took effect); UpdateUser changes only the fields the patch sets; MapRoles, with either list
// empty, leaves that side alone and is idempotent; ReadUsers returns the users it is asked
// for with their attributes as stored.
type Target interface {
	// SetPolicy sets the realm's unmanaged-attribute policy.
	SetPolicy(ctx context.Context, p model.Policy) error
	// Policy reads the realm's unmanaged-attribute policy as it is now.
	Policy(ctx context.Context) (model.Policy, error)
	// CreateRole creates a realm role.
	CreateRole(ctx context.Context, r model.RealmRole) error
	// UpdateRoleDescription sets a realm role's description.
	UpdateRoleDescription(ctx context.Context, name, description string) error
	// CreateTokenMapper adds the protocol mapper m to the client scope with the given id.
	CreateTokenMapper(ctx context.Context, scopeID string, m model.LiveTokenMapper) error
	// UpdateTokenMapper replaces the protocol mapper m.ID of the client scope with m, its
	// whole configuration included.
	UpdateTokenMapper(ctx context.Context, scopeID string, m model.LiveTokenMapper) error
	// CreateIdentityProvider creates the identity provider p with the client secret (none
	// when empty).
	CreateIdentityProvider(ctx context.Context, p model.LiveIdentityProvider, secret model.Secret) error
	// UpdateIdentityProvider changes what u lists on the identity provider with the given alias
	// and keeps the rest of it.
	UpdateIdentityProvider(ctx context.Context, alias string, u model.IdentityProviderUpdate) error
	// CreateIdentityProviderMapper adds the mapper m to the identity provider with the alias.
	CreateIdentityProviderMapper(ctx context.Context, alias string, m model.LiveIdentityProviderMapper) error
	// UpdateIdentityProviderMapper replaces the mapper m.ID of the identity provider with m.
	UpdateIdentityProviderMapper(ctx context.Context, alias string, m model.LiveIdentityProviderMapper) error
	// CreateUser creates a user, with its initial password if any, and returns its id.
	CreateUser(ctx context.Context, u model.NewUser) (string, error)
	// ImportUsers creates users without passwords in one request, each with its roles, and
	// returns the ids of those it created, by username; a user whose username exists is
	// skipped and left out. It is all or nothing: on error no user was created, unless the
	// answer was lost after the server committed.
	ImportUsers(ctx context.Context, users []model.UserImport) (map[string]string, error)
	// FindUser looks a user up by exact username; ok is false when there is none. The user's
	// Created time must be set.
	FindUser(ctx context.Context, username string) (model.LiveUser, bool, error)
	// FindUserByEmail looks a user up by exact email; ok is false when there is none.
	FindUserByEmail(ctx context.Context, email string) (model.LiveUser, bool, error)
	// UpdateUser changes the fields p sets on the user with the given id.
	UpdateUser(ctx context.Context, id string, p model.UserPatch) error
	// MapRoles maps add and unmaps remove, as direct realm roles of the user.
	MapRoles(ctx context.Context, id string, add, remove []model.Role) error
	// LinkIdentity links the user to an identity-provider account.
	LinkIdentity(ctx context.Context, id string, link model.FederatedIdentity) error
	// DeleteUser deletes the user.
	DeleteUser(ctx context.Context, id string) error
	// ReadUsers returns the users with the given ids, with their attributes (roles and links
	// may be missing); a user that does not exist is left out.
	ReadUsers(ctx context.Context, ids []string) ([]model.LiveUser, error)
}

// Defaults for Options.
const (
	DefaultParallelism = 8
	DefaultGrace       = 10 * time.Second
	// DefaultBatchSize is the batch size the CLI uses: big enough that a request per batch
	// costs little, small enough that a batch Keycloak refuses is cheap to redo user by user.
	DefaultBatchSize = 50
)

// Options tune Run.
type Options struct {
	// Parallelism is how many user changes run at once in phases 4 and 6; zero or less means
	// DefaultParallelism. A batch of creates counts as one.
	Parallelism int
	// BatchSize is how many users without an initial password one ImportUsers request creates.
	// Below 2, every user is created on its own with CreateUser. A batch the target refuses
	// is redone user by user, so one bad user costs its batch a request, not its creation.
	BatchSize int
	// Password resolves a user's initial password from where the configuration says it is (an
	// environment variable or a file). Run calls it only for users it creates, just before the
	// create, possibly from several goroutines at once. Its error must not contain the secret.
	// Nil fails every create that has an initial password. Run sets Temporary from the
	// configuration's InitialPassword.Temporary, whatever the function returns.
	Password func(ref *model.SecretRef) (model.Password, error)
	// Secret resolves an identity provider's client secret from where the configuration says
	// it is. Run calls it only for the providers whose change sends the secret (creates, and
	// updates planned with RotateSecrets). Its error must not contain the secret. Nil fails
	// those changes.
	Secret func(ref *model.SecretRef) (model.Secret, error)
	// ReadBackTogether reads the users batches created back all at once, after the last batch,
	// instead of each batch right after it while the next ones are under way: the choice when
	// one read of them all costs the server less than a read per user (keycloak.ListingPaysOff:
	// a listing of the realm, when they are a large share of it). Every created user is read
	// back either way.
	ReadBackTogether bool
	// Progress, when set, is called when a phase starts, when a user's writes land (before the
	// read-back confirms them) and once for each change that finishes (applied or failed), in
	// the order these happen; calls never overlap. Changes that never start are not reported:
	// they are in the Result. It must not block for long, since it holds up the next report.
	Progress func(Event)
	// Grace is how long changes under way may go on after ctx is cancelled; zero or less means
	// DefaultGrace. Requests still running then are cancelled and their changes fail.
	Grace time.Duration
	// Since is when the run began by the server's clock (keycloak.Client.Since). A create that
	// fails although the user exists adopts that user only when the server created it at or
	// after Since with exactly the fields sent: then this run made it.
	Since time.Time
}

// Run applies p through t and returns what happened to each change. It never returns nil and
// never panics on a failed request: every failure is in the Result (see Result.Err).
//
// When ctx is cancelled, Run starts no new change, lets those under way finish for up to
// opts.Grace, and returns; the changes it did not start are NotStarted.
func Run(ctx context.Context, p *plan.Plan, t Target, opts Options) *Result {
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	r := &runner{
		ctx:      ctx,
		t:        t,
		opts:     opts,
		changes:  p.Changes,
		codemie:  p.CodeMie,
		mapping:  p.Mapping,
		outcomes: make([]Outcome, len(p.Changes)),
		checks:   make([]*check, len(p.Changes)),

		readBackSlots: make(chan struct{}, opts.Parallelism),
	}
	for i, c := range p.Changes {
		r.outcomes[i] = Outcome{Addr: c.Addr, Action: c.Action, Status: NotStarted}
	}
	if len(p.Changes) > 0 {
		var stop func()
		r.work, stop = graceContext(ctx, opts.Grace)
		defer stop()
		r.run()
	}
	return newResult(p.Realm, r.outcomes, r.interrupted)
}

// errGraceOver is the cause of the work context's cancellation when the grace period ran out.
var errGraceOver = errors.New("the grace period after the interrupt ran out")

// graceContext returns a context that is cancelled not with ctx but grace after it, and a
// function that releases it.
func graceContext(ctx context.Context, grace time.Duration) (context.Context, func()) {
	work, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(errGraceOver)
		case <-work.Done():
		}
	})
	return work, func() {
		stop()
		cancel(context.Canceled)
	}
}

// ErrNotHolder is the cause to cancel Run's context with when the run may no longer write the
// realm (it lost its apply lock): Run starts nothing new, as after an interrupt, and does not
// judge its writes by reading the users back, since another run may have changed them since.
var ErrNotHolder = errors.New("the run no longer holds the realm's apply lock: another run may have changed the users since")

// Reasons a change was not started; they are Outcome.Err of NotStarted changes.
var (
	errInterrupted = errors.New("apply was interrupted")
	errRealmFailed = errors.New("a policy or role change it depends on failed")
)

// runner is one Run.
type runner struct {
	ctx  context.Context // the caller's: once it is done, nothing new starts
	work context.Context // what requests run on: outlives ctx by Options.Grace
	t    Target
	opts Options

	changes []plan.Change
	// codemie and mapping read the users verify reads back, as CodeMie will.
	codemie model.CodeMie
	mapping model.TokenMapping
	// outcomes and checks are indexed like changes. During a parallel phase each is written
	// only by the goroutine applying that change; the phase's end orders those writes before
	// any later read.
	outcomes []Outcome
	// checks hold, for users whose attributes were written, what verify must find.
	checks []*check

	interrupted bool // only the goroutine running the phases reads and writes it

	// readBacks are the read-backs of batches under way (verifyBatch); verify waits for them.
	// readBackSlots bounds those reading at once to Parallelism, like the changes.
	readBacks     sync.WaitGroup
	readBackSlots chan struct{}

	mu       sync.Mutex // serialises Progress and guards finished
	finished int
}

func (r *runner) run() {
	var policy, roles, mappers, users, removals []int
	for i, c := range r.changes {
		switch {
		case c.Addr.Kind == plan.KindRealm:
			policy = append(policy, i)
		case c.Addr.Kind == plan.KindRole:
			roles = append(roles, i)
		case c.Addr.Kind == plan.KindTokenMapper, c.Addr.Kind == plan.KindIdentityProvider,
			c.Addr.Kind == plan.KindIdentityProviderMapper:
			mappers = append(mappers, i)
		case c.Action.IsRemoval():
			removals = append(removals, i)
		default:
			users = append(users, i)
		}
	}
	r.phase(PhasePrerequisites, len(policy)+len(roles)+len(mappers))
	r.serial(policy, r.applyPolicy)
	r.serial(roles, r.applyRole)
	// Users do not depend on the token mappers and identity providers: a failure there does not
	// hold them back (a link to a provider that failed fails on its own).
	r.serial(mappers, r.applyPrerequisite)
	for _, i := range slices.Concat(policy, roles) {
		if r.outcomes[i].Status == Failed {
			r.skip(slices.Concat(users, removals), errRealmFailed)
			return
		}
	}
	r.phase(PhaseUsers, len(users))
	r.parallel(r.batches(users), r.applyUsers)
	r.readBacks.Wait()
	r.verify(users)
	r.phase(PhaseRemovals, len(removals))
	r.parallel(singles(removals), func(g []int) { r.applyRemoval(g[0]) })
}

// batches groups the user changes into the units the parallel phase hands out: creates that
// ImportUsers can make, BatchSize at a time, first; then every other change on its own.
func (r *runner) batches(users []int) [][]int {
	var batchable, rest []int
	for _, i := range users {
		c := &r.changes[i]
		if r.opts.BatchSize >= 2 && c.Action == plan.Create && checkChange(c) == nil && c.User.After.InitialPassword == nil {
			batchable = append(batchable, i)
		} else {
			rest = append(rest, i)
		}
	}
	if len(batchable) == 0 {
		return singles(rest)
	}
	groups := slices.Collect(slices.Chunk(batchable, r.opts.BatchSize))
	return append(groups, singles(rest)...)
}

// singles makes a unit of each change.
func singles(idx []int) [][]int {
	out := make([][]int, len(idx))
	for k := range idx {
		out[k] = idx[k : k+1 : k+1]
	}
	return out
}

// serial applies the changes one after another, until ctx is done.
func (r *runner) serial(idx []int, apply func(i int)) {
	for k, i := range idx {
		if r.ctx.Err() != nil {
			r.skip(idx[k:], errInterrupted)
			return
		}
		apply(i)
	}
}

// parallel applies the units of changes with at most Parallelism at once, handing them in
// order to a fixed set of workers until ctx is done, and returns when all it started have
// finished.
func (r *runner) parallel(units [][]int, apply func(unit []int)) {
	next := make(chan []int)
	var wg sync.WaitGroup
	for range min(r.opts.Parallelism, len(units)) {
		wg.Go(func() {
			for u := range next {
				apply(u)
			}
		})
	}
	for k, u := range units {
		if r.ctx.Err() != nil {
			r.skip(slices.Concat(units[k:]...), errInterrupted)
			break
		}
		select {
		case next <- u:
			continue
		case <-r.ctx.Done():
		}
		r.skip(slices.Concat(units[k:]...), errInterrupted)
		break
	}
	close(next)
	wg.Wait()
}

// skip marks the changes not started, for the given reason.
func (r *runner) skip(idx []int, why error) {
	for _, i := range idx {
		r.outcomes[i].Err = why
	}
	if len(idx) > 0 && why == errInterrupted {
		r.interrupted = true
	}
}

// finish records the change's final status and reports it.
func (r *runner) finish(i int, err error) {
	o := &r.outcomes[i]
	o.Status, o.Err = Applied, nil
	if err != nil {
		o.Status, o.Err = Failed, err
	}
	if r.opts.Progress == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.finished++
	r.opts.Progress(Event{Outcome: *o, Finished: r.finished, Total: len(r.changes)})
}

// phase reports that a phase of size changes starts; an empty phase is not reported.
func (r *runner) phase(p Phase, size int) {
	if r.opts.Progress != nil && size > 0 {
		r.report(Event{Kind: PhaseStarted, Phase: p, Size: size})
	}
}

// report passes e to Progress, after the changes finished before it.
func (r *runner) report(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Finished, e.Total = r.finished, len(r.changes)
	r.opts.Progress(e)
}

// failed wraps the error of a failed step as "failed to <what>: <err>", saying so when the
// request was cut off because the grace period after an interrupt ran out.
func (r *runner) failed(what string, err error) error {
	if context.Cause(r.work) == errGraceOver {
		return fmt.Errorf("failed to %s: %w (stopped: %v)", what, err, errGraceOver)
	}
	return fmt.Errorf("failed to %s: %w", what, err)
}

func (r *runner) applyPolicy(i int) {
	c := &r.changes[i]
	if err := checkChange(c); err != nil {
		r.finish(i, err)
		return
	}
	if err := r.t.SetPolicy(r.work, c.Policy.After); err != nil {
		r.finish(i, r.failed("set the policy to "+string(c.Policy.After), err))
		return
	}
	r.finish(i, nil)
}

func (r *runner) applyRole(i int) {
	c := &r.changes[i]
	if err := checkChange(c); err != nil {
		r.finish(i, err)
		return
	}
	role := *c.Role.After
	var err error
	if c.Action == plan.Create {
		if err = r.t.CreateRole(r.work, role); err != nil {
			err = r.failed("create", err)
		}
	} else if err = r.t.UpdateRoleDescription(r.work, role.Name, role.Description); err != nil {
		err = r.failed("update the description", err)
	}
	r.finish(i, err)
}

// errProviderFailed is the reason an identity provider's mapper change was not started.
var errProviderFailed = errors.New("the identity provider change it depends on failed")

// applyPrerequisite applies a token-mapper, identity-provider or identity-provider-mapper change.
// A provider's mappers follow it in the plan; when the provider failed they are not started.
func (r *runner) applyPrerequisite(i int) {
	c := &r.changes[i]
	if err := checkChange(c); err != nil {
		r.finish(i, err)
		return
	}
	var err error
	switch c.Addr.Kind {
	case plan.KindTokenMapper:
		tm := c.TokenMapper
		if c.Action == plan.Create {
			if err = r.t.CreateTokenMapper(r.work, tm.ScopeID, tm.After); err != nil {
				err = r.failed("create the mapper in client scope "+tm.Scope, err)
			}
		} else if err = r.t.UpdateTokenMapper(r.work, tm.ScopeID, tm.After); err != nil {
			err = r.failed("correct the mapper in client scope "+tm.Scope, err)
		}
	case plan.KindIdentityProvider:
		err = r.applyIdentityProvider(c)
	case plan.KindIdentityProviderMapper:
		m := c.IdPMapper
		if r.providerFailed(i, m.Alias) {
			r.outcomes[i].Err = errProviderFailed
			return
		}
		if c.Action == plan.Create {
			if err = r.t.CreateIdentityProviderMapper(r.work, m.Alias, m.After); err != nil {
				err = r.failed("create", err)
			}
		} else if err = r.t.UpdateIdentityProviderMapper(r.work, m.Alias, m.After); err != nil {
			err = r.failed("correct", err)
		}
	}
	r.finish(i, err)
}

// providerFailed reports whether the change of the identity provider with the alias, planned
// before change i, failed.
func (r *runner) providerFailed(i int, alias string) bool {
	for j := range i {
		c := &r.changes[j]
		if c.Addr.Kind == plan.KindIdentityProvider && c.Addr.Name == alias {
			return r.outcomes[j].Status == Failed
		}
	}
	return false
}

func (r *runner) applyIdentityProvider(c *plan.Change) error {
	ic := c.IdentityProvider
	var secret model.Secret
	if ic.Secret != nil {
		if r.opts.Secret == nil {
			return errors.New("failed to read the client secret: no way to resolve secrets was given")
		}
		s, err := r.opts.Secret(ic.Secret)
		if err != nil {
			return fmt.Errorf("failed to read the client secret: %w", err)
		}
		secret = s
	}
	if c.Action == plan.Create {
		if err := r.t.CreateIdentityProvider(r.work, *ic.New, secret); err != nil {
			return r.failed("create", err)
		}
		return nil
	}
	u := ic.Update
	if ic.Secret != nil {
		u.ClientSecret = &secret
	}
	if err := r.t.UpdateIdentityProvider(r.work, c.Addr.Name, u); err != nil {
		return r.failed("update", err)
	}
	return nil
}

func (r *runner) applyRemoval(i int) {
	c := &r.changes[i]
	if err := checkChange(c); err != nil {
		r.finish(i, err)
		return
	}
	id := c.User.Before.ID
	var err error
	if c.Action == plan.Disable {
		if err = r.t.UpdateUser(r.work, id, c.User.Patch); err != nil {
			err = r.failed("disable", err)
		}
	} else if err = r.t.DeleteUser(r.work, id); err != nil {
		err = r.failed("delete", err)
	}
	r.finish(i, err)
}

// checkChange reports a change apply cannot carry out because the plan lacks what it needs.
// Build never makes one; the check turns such a bug into one failed change instead of a panic.
func checkChange(c *plan.Change) error {
	ok := false
	switch c.Addr.Kind {
	case plan.KindRealm:
		ok = c.Action == plan.Update && c.Policy != nil && c.Policy.After != ""
	case plan.KindRole:
		ok = (c.Action == plan.Create || c.Action == plan.Update) && c.Role != nil && c.Role.After != nil
	case plan.KindTokenMapper:
		tm := c.TokenMapper
		ok = tm != nil && tm.ScopeID != "" && (c.Action == plan.Create || c.Action == plan.Update && tm.After.ID != "")
	case plan.KindIdentityProvider:
		ic := c.IdentityProvider
		ok = ic != nil && (c.Action == plan.Create && ic.New != nil || c.Action == plan.Update && ic.Before != nil)
	case plan.KindIdentityProviderMapper:
		m := c.IdPMapper
		ok = m != nil && m.Alias != "" && (c.Action == plan.Create || c.Action == plan.Update && m.After.ID != "")
	case plan.KindUser:
		u := c.User
		switch c.Action {
		case plan.Create:
			ok = u != nil && u.New != nil && u.After != nil
		case plan.Update, plan.Disable, plan.Delete:
			ok = u != nil && u.Before != nil && u.Before.ID != ""
		case plan.Rename:
			ok = u != nil && u.Before != nil && u.Before.ID != "" && u.Patch.Username != nil
		}
	}
	if !ok {
		return fmt.Errorf("invalid plan: this %s change lacks what apply needs", c.Action)
	}
	return nil
}
