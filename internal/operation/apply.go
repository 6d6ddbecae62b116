package operation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/plan/render"
	"github.com/rosterhq/roster/internal/planfile"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

// ApplyOptions are the inputs of Apply.
type ApplyOptions struct {
	// Paths are the configuration's files and directories, or a saved plan followed by the
	// files and directories it must have been made from.
	Paths       []string
	Removal     Removal
	AutoApprove bool
	Parallelism int
	BatchSize   int
	// Lock takes the realm's apply lock for the run; LockTimeout is how long to wait while
	// another run holds it (zero: not at all), LockLease how long it stays held after the last
	// renewal, LockHolder who holds it, for whoever finds the realm locked.
	Lock        bool
	LockTimeout time.Duration
	LockLease   time.Duration
	LockHolder  string
	SendInvites bool
	// Secrets are what the operator exposed to the configuration.
	Secrets secret.Source
	// Server is the Keycloak base URL apply works on; a saved plan must have been made for it.
	Server string
	// RosterVersion is this roster's version; a saved plan must have been made by it.
	RosterVersion string
}

// ApplyResult is what Apply did.
type ApplyResult struct {
	// Plan is the plan applied (for a saved plan, the one computed again and found equal).
	Plan *plan.Plan
	// Saved is the saved plan applied, nil when apply planned from the files.
	Saved *planfile.File
	// Result is apply's outcome for every change; with no changes to make, an empty run's.
	Result *apply.Result
	// Invitations are the invitations sent, or that failed, with --send-invites, in plan order.
	Invitations []Invitation
	// LockLost is the loss of the apply lock during the run, if any.
	LockLost error
	// ReleaseErr is the failure to release the lock after the run, if any.
	ReleaseErr error
}

// Invitation is the invitation email to one user apply created.
type Invitation struct {
	Addr plan.Address
	// Err is why it was not sent; nil when it was.
	Err error
}

// Err is the run's failure: the lost lock, a failed change, a failed invitation (the lines of
// the result say which), or the lock not released; nil when all went well.
func (r *ApplyResult) Err() error {
	if r.LockLost != nil {
		return r.RunErr()
	}
	if err := r.Result.Err(); err != nil {
		return err
	}
	for _, inv := range r.Invitations {
		if inv.Err != nil {
			return ErrInvitations
		}
	}
	return r.ReleaseErr
}

// RunErr is the failure of the run as a whole that came after its changes, whatever became of
// them: the apply lock lost during the run, or not released after it; nil otherwise.
func (r *ApplyResult) RunErr() error {
	if r.LockLost != nil {
		n := r.Result.Added + r.Result.Changed + r.Result.Removed
		return WithHint(fmt.Errorf("lost the apply lock after %s; run plan again: %w", Plural(n, "change"), r.LockLost),
			"another apply may have taken the realm over; this run wrote nothing more once it could not prove it held the lock")
	}
	return r.ReleaseErr
}

// ErrInvitations is the failure of an apply whose changes all landed but some invitation did
// not go out; the result's invitation lines say which.
var ErrInvitations = errors.New("some invitations were not sent")

// ErrCancelled is the refusal of the confirmation, or an interruption while asking.
var ErrCancelled = errors.New("apply cancelled: nothing was changed")

// Apply plans like Plan (or rebuilds and checks a saved plan), takes the realm's apply lock and
// plans again under it (unless the lock proves that no other apply wrote since the read), checks
// that every secret the changes need resolves, asks for confirmation, applies the changes, and
// sends the invitations. Nothing but the lock and its mark is written to the realm before the
// confirmation and the secret check passed. A failure of the run itself (a change, the lock, an
// invitation) is in the result (ApplyResult.Err); the error returned is a refusal or a failure
// before the first change.
func Apply(ctx context.Context, opts ApplyOptions, deps Deps) (res *ApplyResult, err error) {
	saved, planPaths, err := ReadSavedPlan(opts.Paths, opts.RosterVersion)
	if err != nil {
		return nil, err
	}
	var pl *Planned
	if saved != nil {
		pl, err = replan(ctx, opts, saved, planPaths, deps)
	} else {
		pl, err = Plan(ctx, PlanOptions{Paths: opts.Paths, Removal: opts.Removal, Secrets: opts.Secrets, watch: opts.Lock}, deps)
	}
	if err != nil {
		return nil, err
	}
	// What would stop the run is found before anything is written, the lock included.
	if opts.SendInvites && !pl.Info.CanSendEmail() {
		return nil, WithHint(fmt.Errorf("realm %q has no SMTP server, so Keycloak cannot send invitations", pl.Info.Name),
			"configure one under Realm settings → Email, or apply without --send-invites")
	}
	if _, err := resolveSecrets(pl.Plan, opts.Secrets); err != nil {
		return nil, err
	}
	var lock keycloak.HeldLock
	if opts.Lock && pl.Plan.HasChanges() {
		// An apply with nothing to do writes nothing, not even its lock.
		if lock, err = takeLock(ctx, pl.Realm, opts, deps.clock()); err != nil {
			return nil, err
		}
		defer func() {
			// A run whose writes all finished settles the mark, so that the next apply may trust
			// a read made after the release. After a failure or an interruption a write may
			// still land, and without the settled mark the next apply reads the realm again, as
			// it does when settling fails.
			if err == nil && res != nil && res.Err() == nil && ctx.Err() == nil {
				sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_ = lock.Settle(sctx)
				cancel()
			}
			// Released even after Ctrl-C, so the next run need not wait for the lease to end.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			rerr := lock.Release(rctx)
			switch {
			case rerr == nil:
			case res != nil && res.LockLost == nil:
				res.ReleaseErr = rerr
			case res == nil && err == nil:
				err = rerr
			}
		}()
		// The read is planned from again unless no other apply can have written since it. A
		// saved plan is not watched: it is always checked against the realm as it is now. Apply
		// never writes the realm's settings, which the read took before the watch.
		if pl.Watched == nil || !lock.QuietSince(*pl.Watched) {
			if err := reread(ctx, pl, saved, deps); err != nil {
				return nil, err
			}
		}
	}
	res = &ApplyResult{Plan: pl.Plan, Saved: saved}
	if !pl.Plan.HasChanges() {
		res.Result = apply.Run(ctx, pl.Plan, pl.Realm, apply.Options{})
		return res, nil
	}
	// The plan planned again under the lock may need other secrets.
	secrets, err := resolveSecrets(pl.Plan, opts.Secrets)
	if err != nil {
		return nil, err
	}
	if saved == nil && !opts.AutoApprove {
		if err := confirm(ctx, deps.Prompter, pl.Plan); err != nil {
			return nil, err
		}
	}
	for _, v := range secrets {
		deps.Secrets.Add(string(v))
	}
	creates := userCreates(pl.Plan)
	aopts := apply.Options{Parallelism: opts.Parallelism, BatchSize: opts.BatchSize, Since: pl.Realm.Since(),
		ReadBackTogether: keycloak.ListingPaysOff(creates, len(pl.Live.Users)+creates),
		Password:         func(ref *model.SecretRef) (model.Password, error) { return model.Password{Value: secrets[*ref]}, nil },
		Secret:           func(ref *model.SecretRef) (model.Secret, error) { return secrets[*ref], nil }}
	if deps.Progress != nil {
		aopts.Progress = deps.Progress.Event
	}
	actx := ctx
	if lock != nil {
		// A lost lock stops the apply like Ctrl-C: nothing new starts, and the client's fence
		// refuses the writes of the changes under way.
		var cancel context.CancelCauseFunc
		actx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		go func() {
			select {
			case <-lock.Lost():
				cancel(apply.ErrNotHolder)
			case <-actx.Done():
			}
		}()
	}
	res.Result = apply.Run(actx, pl.Plan, pl.Realm, aopts)
	if lock != nil && lock.Err() != nil {
		res.LockLost = lock.Err()
		return res, nil
	}
	if opts.SendInvites {
		res.Invitations = sendInvites(ctx, pl, res.Result)
	}
	return res, nil
}

// userCreates counts the users p creates.
func userCreates(p *plan.Plan) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action == plan.Create && c.User != nil {
			n++
		}
	}
	return n
}

// takeLock takes the realm's apply lock, waiting up to opts.LockTimeout while another roster
// apply holds it: it tries again every few seconds (never more often than once a second) until
// the deadline, then reports who holds it. A lock roster did not make is reported at once.
func takeLock(ctx context.Context, r Realm, opts ApplyOptions, clock Clock) (keycloak.HeldLock, error) {
	lease := opts.LockLease
	if lease <= 0 {
		lease = keycloak.DefaultLockLease
	}
	poll := max(time.Second, min(2*time.Second, lease/4))
	deadline := clock.Now().Add(opts.LockTimeout)
	for {
		lock, err := r.TryLock(ctx, opts.LockHolder, lease)
		var locked *keycloak.LockedError
		if !errors.As(err, &locked) || locked.Expires.IsZero() {
			return lock, err
		}
		left := deadline.Sub(clock.Now())
		if left <= 0 {
			return nil, err
		}
		if err := clock.Sleep(ctx, min(poll, max(left, time.Second))); err != nil {
			return nil, err
		}
	}
}

// confirm shows the plan and asks; only "yes" goes on. Without anyone to ask, apply refuses.
func confirm(ctx context.Context, p Prompter, pl *plan.Plan) error {
	if p == nil {
		return errNoTerminal
	}
	if err := p.ShowPlan(pl); err != nil {
		return err
	}
	if !p.CanPrompt() {
		return errNoTerminal
	}
	answer, err := p.ConfirmApply(ctx, pl.Realm)
	if err != nil || strings.TrimSpace(answer) != "yes" {
		return ErrCancelled
	}
	return nil
}

var errNoTerminal = WithHint(errors.New("cannot ask for confirmation: no terminal"),
	"review the plan and pass --auto-approve, or apply a plan saved with roster plan --out")

// resolveSecrets reads every secret the changes of p send (the initial passwords of the users
// it creates, the client secrets of the identity providers it creates or rotates), and reports
// every one that does not resolve, so that a missing secret stops apply before its first write
// rather than halfway.
func resolveSecrets(p *plan.Plan, source secret.Source) (map[model.SecretRef]model.Secret, error) {
	values := map[model.SecretRef]model.Secret{}
	var problems []string
	need := func(what string, ref *model.SecretRef) {
		if _, done := values[*ref]; done {
			return
		}
		v, err := source.Resolve(*ref)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", what, err))
			return
		}
		values[*ref] = v
	}
	for _, c := range p.Changes {
		switch {
		case c.Action == plan.Create && c.User != nil && c.User.After != nil && c.User.After.InitialPassword != nil:
			need(c.Addr.Display()+" initial password", &c.User.After.InitialPassword.SecretRef)
		case c.IdentityProvider != nil && c.IdentityProvider.Secret != nil:
			need(c.Addr.Display()+" client secret", c.IdentityProvider.Secret)
		}
	}
	if len(problems) > 0 {
		return nil, &SecretsError{Problems: problems}
	}
	return values, nil
}

// SecretsError is apply's refusal to start while secrets the changes need do not resolve.
type SecretsError struct {
	// Problems name each change and why its secret does not resolve (never a value).
	Problems []string
}

func (e *SecretsError) Error() string {
	return fmt.Sprintf("cannot apply: %s the changes need cannot be read; nothing was changed", Plural(len(e.Problems), "secret"))
}

// Details are the problems, one a line.
func (e *SecretsError) Details() []string { return e.Problems }

// Hints say how to provide the secrets.
func (e *SecretsError) Hints() []string {
	return []string{"expose each secret to roster (an environment variable " + secret.EnvPrefix + "…, or a file in --secrets-dir), " +
		"then apply again; `roster validate --check-secrets` checks them all"}
}

// sendInvites emails every user this run created Keycloak's execute-actions link: their
// pending required actions, or UPDATE_PASSWORD and VERIFY_EMAIL.
func sendInvites(ctx context.Context, pl *Planned, result *apply.Result) []Invitation {
	var out []Invitation
	for i, o := range result.Outcomes {
		c := pl.Plan.Changes[i]
		if o.Status != apply.Applied || c.Action != plan.Create || c.User == nil {
			continue
		}
		u, found, err := pl.Realm.FindUser(ctx, c.User.New.Username)
		if err == nil && !found {
			err = errors.New("the user is gone")
		}
		if err == nil {
			actions := u.RequiredActions
			if len(actions) == 0 {
				actions = []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"}
			}
			err = pl.Realm.SendActionsEmail(ctx, u.ID, actions)
		}
		out = append(out, Invitation{Addr: o.Addr, Err: err})
	}
	return out
}

// ReadSavedPlan returns the saved plan when the first path is one, else nil, and the paths that
// follow it: the files or directories the plan must have been made from.
func ReadSavedPlan(paths []string, version string) (*planfile.File, []string, error) {
	f, err := os.Open(paths[0])
	if err != nil {
		return nil, nil, nil // not a readable file: the loader reports it
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || info.IsDir() {
		return nil, nil, nil
	}
	saved, err := planfile.Read(f, version)
	if errors.Is(err, planfile.ErrNotPlan) {
		if schema.IsYAMLName(paths[0]) {
			return nil, nil, nil // a configuration file: apply plans it
		}
		// Anything else named first is meant as a saved plan: planning it as configuration
		// would apply what nobody reviewed (a forged plan artifact, say).
		return nil, nil, WithHint(fmt.Errorf("%s is not a saved roster plan", paths[0]),
			"give apply a plan saved with roster plan --out, or configuration files named .yaml or .yml")
	}
	return saved, paths[1:], err
}

// errStale is the refusal of a saved plan that no longer describes the realm or configuration.
func errStale(why string) error {
	return WithHint(fmt.Errorf("the plan is stale: %s", why),
		"make a new plan with roster plan --out, review it, and apply that")
}

// checkSources refuses a saved plan whose configuration is not the one here: a source file that
// is missing or differs here, a planned directory that gained or lost a file, and, when paths
// are given, any difference between the files they name and the plan's. A saved plan is applied
// where its files are (the checkout that was reviewed): only what is here was reviewed.
func checkSources(saved *planfile.File, paths []string) error {
	planned := make(map[string]bool, len(saved.Sources))
	for _, s := range saved.Sources {
		planned[s.Path] = true
	}
	// A plan names its files relative to where it was made, inside the checkout: a path that
	// leaves it (absolute, or through ..) points at a file nobody reviewed.
	named := append([]string(nil), saved.Dirs...)
	for _, s := range saved.Sources {
		named = append(named, s.Path)
	}
	for _, p := range named {
		if !filepath.IsLocal(filepath.FromSlash(p)) && filepath.Clean(p) != "." {
			return WithHint(fmt.Errorf("the plan names %s, which is outside the directory it is applied in", p),
				"make the plan with paths inside the checkout (roster plan --out FILE access/) and apply it from there")
		}
	}
	for _, dir := range saved.Dirs {
		names, err := schema.DirFiles(dir)
		if err != nil {
			return WithHint(fmt.Errorf("the plan was made from directory %s, which cannot be read here: %w", dir, err),
				"apply a saved plan where the files it was made from are, e.g. in the checkout of the reviewed commit")
		}
		here := make(map[string]bool, len(names))
		for _, n := range names {
			n = filepath.ToSlash(n)
			here[n] = true
			if !planned[n] {
				return errStale(fmt.Sprintf("%s was added since the plan was made", n))
			}
		}
		for _, s := range saved.Sources {
			if path.Dir(s.Path) == dir && !here[s.Path] {
				return errStale(fmt.Sprintf("%s was removed since the plan was made", s.Path))
			}
		}
	}
	for _, s := range saved.Sources {
		local, err := os.ReadFile(s.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return WithHint(fmt.Errorf("the plan was made from %s, which is not here", s.Path),
				"apply a saved plan where the files it was made from are, e.g. in the checkout of the reviewed commit")
		case err != nil:
			return err
		case !bytes.Equal(local, s.Content):
			return errStale(fmt.Sprintf("%s changed since the plan was made", s.Path))
		}
	}
	return checkNamed(saved, paths)
}

// checkNamed refuses a saved plan unless paths, when given, name exactly the files it was made
// from: a forged plan that leaves a file out would otherwise plan without it. Paths compare
// cleaned: ./access/a.yaml is access/a.yaml.
func checkNamed(saved *planfile.File, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	planned := make(map[string]bool, len(saved.Sources))
	for _, s := range saved.Sources {
		planned[path.Clean(s.Path)] = true
	}
	want := map[string]bool{}
	for _, p := range paths {
		names := []string{p}
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			if names, err = schema.DirFiles(p); err != nil {
				return err
			}
		}
		for _, n := range names {
			n = path.Clean(filepath.ToSlash(n))
			want[n] = true
			if !planned[n] {
				return WithHint(fmt.Errorf("the plan was not made from %s", n),
					"make the plan from the same files or directories as the apply names: roster plan --out FILE "+strings.Join(paths, " "))
			}
		}
	}
	for _, s := range saved.Sources {
		if !want[path.Clean(s.Path)] {
			return WithHint(fmt.Errorf("the plan was made from %s too, which %s does not name", s.Path, strings.Join(paths, " ")),
				"make the plan from the same files or directories as the apply names: roster plan --out FILE "+strings.Join(paths, " "))
		}
	}
	return nil
}

// replan rebuilds a saved plan from its own configuration and the live realm, and refuses it
// unless it is exactly what the saved plan records.
func replan(ctx context.Context, opts ApplyOptions, saved *planfile.File, paths []string, deps Deps) (*Planned, error) {
	planFlags := Removal{Prune: saved.Prune, AllowMassRemoval: saved.AllowMassRemoval, RotateSecrets: saved.RotateSecrets}
	if planFlags != opts.Removal {
		return nil, WithHint(fmt.Errorf("the plan was made with %s, but apply was given %s", planFlags, opts.Removal),
			"pass apply the same --prune, --allow-mass-removal and --rotate-secrets as the plan: what a plan may remove or rotate "+
				"is then on the apply's command line too, not only in the file")
	}
	if err := checkSources(saved, paths); err != nil {
		return nil, err
	}
	var files []schema.File
	for _, s := range saved.Sources {
		files = append(files, schema.File{Name: s.Path, Data: s.Content})
	}
	cfg, diags := schema.LoadFiles(files, schema.Options{Secrets: opts.Secrets})
	deps.report(diags)
	if diags.HasErrors() {
		return nil, errors.New("the configuration saved in the plan is not valid for this version of roster: make the plan again")
	}
	if cfg.Realm != saved.Realm {
		return nil, &planfile.DamagedError{What: fmt.Sprintf("it is for realm %q, but its files are for realm %q", saved.Realm, cfg.Realm)}
	}
	if strings.TrimRight(opts.Server, "/") != strings.TrimRight(saved.Server, "/") {
		return nil, WithHint(fmt.Errorf("the plan was made for %s, not %s", saved.Server, opts.Server),
			"point --server or KEYCLOAK_URL at the server the plan was made for")
	}
	pl, err := planConfig(ctx, cfg, nil, planFlags.Options(), false, deps)
	if err != nil {
		return nil, err
	}
	if err := checkSaved(saved, pl.Live, pl.Plan); err != nil {
		return nil, err
	}
	return pl, nil
}

// checkSaved refuses a saved plan unless the realm is as it was when the plan was made and the
// plan p computed now is the one the file records: the same canonical change set, and the same
// plan for people to review.
func checkSaved(saved *planfile.File, live *model.Live, p *plan.Plan) error {
	if planfile.Fingerprint(live) != saved.LiveFingerprint {
		return errStale(fmt.Sprintf("realm %q changed since the plan was made (or the plan was applied already)", live.Realm))
	}
	if err := planfile.Check(saved.ChangesDigest, saved.Changes, planfile.ChangeSet(p)); err != nil {
		return err
	}
	rendered, err := json.Marshal(render.NewJSONPlan(p))
	if err != nil {
		return err
	}
	var reviewed bytes.Buffer
	if json.Compact(&reviewed, saved.Plan) != nil || !bytes.Equal(reviewed.Bytes(), rendered) {
		return &planfile.DamagedError{What: "the plan it shows for review is not the plan of its change set"}
	}
	return nil
}

// reread reads the realm again and plans again, once apply holds the lock: what it applies is
// then planned with no other apply running. A saved plan must still match the realm as it was
// when the plan was made, and the change set must still be the one it records.
func reread(ctx context.Context, pl *Planned, saved *planfile.File, deps Deps) error {
	done := deps.startRead(pl.Config.Realm)
	live, err := pl.Realm.ReadLive(ctx, keycloak.ReadOptionsFor(pl.Config))
	if err != nil {
		err = fmt.Errorf("failed to read realm %q: %w", pl.Config.Realm, err)
	}
	done(live, err)
	if err != nil {
		return err
	}
	p, err := plan.Build(pl.Config, live, pl.Options)
	if err != nil {
		return err
	}
	if saved != nil {
		if err := checkSaved(saved, live, p); err != nil {
			return err
		}
	}
	pl.Live, pl.Plan = live, p
	return nil
}
