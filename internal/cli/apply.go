package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/plan/render"
	"github.com/rosterhq/roster/internal/planfile"
	"github.com/rosterhq/roster/internal/progress"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

// The Keycloak adapter is what apply writes to.
var _ apply.Target = (*keycloak.Client)(nil)

type applyOptions struct {
	connect     connectOptions
	removal     removalOptions
	Paths       []string
	AutoApprove bool
	Parallelism int
	BatchSize   int
	Lock        bool
	LockTimeout time.Duration
	LockLease   time.Duration
	Format      string
	SendInvites bool
	SecretsDir  string
}

func newApplyCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &applyOptions{}
	cmd := &cobra.Command{
		Use:   "apply PATH... | apply PLANFILE [PATH...]",
		Short: "Make the realm match the configuration",
		Long: `Apply plans like 'roster plan', shows the plan, asks for confirmation (only 'yes'
proceeds) and makes the changes: the unmanaged-attribute policy and realm roles first,
then user creations and updates (in parallel), then removals. After writing users it
reads them back and fails loudly if Keycloak did not store an attribute. Running apply
again on a converged realm changes nothing.

Given a saved plan (roster plan --out FILE), apply does what the plan records, without
asking, or nothing. It refuses a plan made by another roster version, a file edited
since roster wrote it, a plan whose files are not here or differ from the files here
(PATH... after the plan names exactly the files it must have been made from), other
--prune, --allow-mass-removal or --rotate-secrets than the plan was made with, a realm
that changed since the plan was made (or a plan applied already), and, holding the apply
lock, any difference between the changes it computes now and those the plan records.

Without a terminal to ask on, apply refuses unless --auto-approve is given.

When there are changes to make, apply takes the realm's apply lock (the realm role
roster-apply-lock), reads the realm and plans again under it, and holds it to the end: a
second apply of the realm is refused, or waits with --lock-timeout.

` + connectHelp + `
Exit codes: 0 applied (or nothing to do), 1 a change failed or apply refused,
3 the server could not be reached or refused the credentials.`,
		Example: `  # Review and apply
  roster apply access/

  # In CI, after review: apply the plan saved in the pull request, made from access/
  roster plan --out roster.plan access/
  roster apply roster.plan access/

  # Unattended, from the files
  roster apply --auto-approve access/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if err := opts.check(); err != nil {
				return err
			}
			return runApply(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.BoolVar(&opts.AutoApprove, "auto-approve", false, "apply without asking for confirmation")
	f.IntVar(&opts.Parallelism, "parallelism", apply.DefaultParallelism, "how many users (or batches of created users) to change at once")
	f.IntVar(&opts.BatchSize, "batch-size", apply.DefaultBatchSize, "how many users without an initial password to create per request (1: one request per user)")
	f.BoolVar(&opts.Lock, "lock", true, "hold the realm's apply lock (realm role "+keycloak.LockRole+") while applying, so that two applies never interleave")
	f.DurationVar(&opts.LockTimeout, "lock-timeout", 0, "how long to wait for the apply lock while another apply holds it")
	f.DurationVar(&opts.LockLease, "lock-lease", keycloak.DefaultLockLease, "how long the apply lock stays held after its last renewal (renewed every quarter of it; apply stops writing once it cannot prove it still holds it)")
	f.StringVar(&opts.Format, "format", "text", "output format: text, or json for a machine-readable result")
	completeValues(cmd, "format", "text", "json")
	opts.removal.addFlags(f)
	completeValues(cmd, "prune", string(model.PruneNone), string(model.PruneDisable), string(model.PruneDelete))
	f.BoolVar(&opts.SendInvites, "send-invites", false, "email each created user Keycloak's invitation to set a password and verify the address (needs the realm's SMTP server)")
	addSecretsDirFlag(f, &opts.SecretsDir)
	return cmd
}

func (o *applyOptions) check() error {
	if len(o.Paths) == 0 {
		return withHint(errors.New("no configuration given"), "name the files or directories to apply, or a plan saved with roster plan --out")
	}
	if o.Parallelism < 1 {
		return withHint(fmt.Errorf("--parallelism must be at least 1, not %d", o.Parallelism), "the default is 8")
	}
	if o.LockLease < time.Second {
		return withHint(fmt.Errorf("--lock-lease must be at least 1s, not %s", o.LockLease), "the default is 2m")
	}
	if o.BatchSize < 1 {
		return withHint(fmt.Errorf("--batch-size must be at least 1, not %d", o.BatchSize), "the default is 50; 1 creates each user with its own request")
	}
	switch o.Format {
	case "text", "json":
	default:
		return withHint(fmt.Errorf("unknown format %q", o.Format), "use --format text or json")
	}
	return o.removal.check()
}

func runApply(ctx context.Context, ios *iostreams.IOStreams, opts *applyOptions) (err error) {
	saved, planPaths, err := readSavedPlan(opts.Paths)
	if err != nil {
		return err
	}
	shown := progress.New(ios.ErrOut, progress.Options{Terminal: ios.IsStderrTTY(), TermFd: int(os.Stderr.Fd()), Color: ios.ErrColorEnabled()})
	defer shown.Close()
	ctx = context.WithValue(ctx, readProgressKey{}, shown)
	if requestLog(ctx) != nil {
		ctx = context.WithValue(ctx, requestLogKey{}, shown.Writer())
	}
	secrets := secret.FromEnv(opts.SecretsDir)
	var pl *planned
	if saved != nil {
		pl, err = replan(ctx, ios, opts, saved, planPaths, secrets)
	} else {
		pl, err = makePlan(ctx, ios, opts.Paths, &opts.connect, opts.removal.plan(), secrets)
	}
	if err != nil {
		return err
	}
	var lock keycloak.HeldLock
	if opts.Lock && pl.plan.HasChanges() {
		// An apply with nothing to do writes nothing, not even its lock.
		var lerr error
		lock, lerr = pl.client.TryLock(ctx, lockHolder(), opts.LockLease)
		if lerr != nil {
			return classify(lerr)
		}
		defer func() {
			// Released even after Ctrl-C, so the next run need not wait for the lease to end.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if rerr := lock.Release(rctx); rerr != nil && err == nil {
				err = rerr
			}
		}()
		if rerr := pl.reread(ctx, saved); rerr != nil {
			return rerr
		}
	}

	if opts.SendInvites {
		if err := checkEmail(pl.info); err != nil {
			return err
		}
	}
	text := opts.Format == "text"
	if !pl.plan.HasChanges() {
		if text {
			return render.NoChanges(ios.Out, pl.plan)
		}
		return writeJSON(ctx, ios, apply.Run(ctx, pl.plan, pl.client, apply.Options{}))
	}
	if saved == nil && !opts.AutoApprove {
		if err := renderPlan(ios.Out, pl.plan, "text", ios.ColorEnabled(), nil); err != nil {
			return err
		}
		if err := confirm(ctx, ios, pl.plan); err != nil {
			return err
		}
	}

	// Each secret resolved from the configuration joins those the output masks.
	aopts := apply.Options{Parallelism: opts.Parallelism, BatchSize: opts.BatchSize,
		Password: func(ref *model.SecretRef) (model.Password, error) {
			v, err := secrets.Resolve(*ref)
			ios.Secrets.Add(string(v))
			return model.Password{Value: v}, err
		},
		Secret: func(ref *model.SecretRef) (model.Secret, error) {
			v, err := secrets.Resolve(*ref)
			ios.Secrets.Add(string(v))
			return v, err
		},
		Since: pl.client.Since()}
	aopts.Progress = shown.Event
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
	result := apply.Run(actx, pl.plan, pl.client, aopts)
	shown.Close()
	if !text {
		if err := writeJSON(ctx, ios, result); err != nil {
			return err
		}
		if lock != nil && lock.Err() != nil {
			return lockLost(lock.Err(), result)
		}
		// The invitations' lines are diagnostics here: stdout holds only the JSON result.
		if opts.SendInvites && !sendInvites(ctx, ios.ErrOut, pl, result) || result.Err() != nil {
			return silentExit(ExitError)
		}
		return nil
	}
	// One line per change, in plan order whatever order they finished in.
	for _, o := range result.Outcomes {
		fmt.Fprintln(ios.Out, o)
	}
	fmt.Fprintln(ios.Out, result.Summary())
	if lock != nil && lock.Err() != nil {
		return lockLost(lock.Err(), result)
	}
	invited := true
	if opts.SendInvites {
		invited = sendInvites(ctx, ios.Out, pl, result)
	}
	if err := result.Err(); err != nil {
		return err
	}
	if !invited {
		return silentExit(ExitError)
	}
	return nil
}

// lockLost is the error of an apply that lost its lock: what it applied is listed above it, and
// another run may be applying now, so only a new plan tells what is left to do.
func lockLost(lost error, result *apply.Result) error {
	n := result.Added + result.Changed + result.Removed
	return withHint(fmt.Errorf("lost the apply lock after %s; run plan again: %w", plural(n, "change"), lost),
		"another apply may have taken the realm over; this run wrote nothing more once it could not prove it held the lock")
}

// lockHolder says who holds an apply lock, for whoever finds the realm locked.
func lockHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown host"
	}
	return fmt.Sprintf("%s pid %d, since %s", host, os.Getpid(), time.Now().UTC().Format(time.RFC3339))
}

// checkEmail refuses --send-invites for a realm without an SMTP server.
func checkEmail(info keycloak.RealmInfo) error {
	if !info.CanSendEmail() {
		return withHint(fmt.Errorf("realm %q has no SMTP server, so Keycloak cannot send invitations", info.Name),
			"configure one under Realm settings → Email, or apply without --send-invites")
	}
	return nil
}

// sendInvites emails every user this run created Keycloak's execute-actions link: their
// pending required actions, or UPDATE_PASSWORD and VERIFY_EMAIL, with a line each on w. It
// reports whether all went out.
func sendInvites(ctx context.Context, w io.Writer, pl *planned, result *apply.Result) bool {
	ok := true
	for i, o := range result.Outcomes {
		c := pl.plan.Changes[i]
		if o.Status != apply.Applied || c.Action != plan.Create || c.User == nil {
			continue
		}
		u, found, err := pl.client.FindUser(ctx, c.User.New.Username)
		if err == nil && !found {
			err = errors.New("the user is gone")
		}
		if err == nil {
			actions := u.RequiredActions
			if len(actions) == 0 {
				actions = []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"}
			}
			err = pl.client.SendActionsEmail(ctx, u.ID, actions)
		}
		if err != nil {
			ok = false
			fmt.Fprintln(w, escape.Text(fmt.Sprintf("%s: invitation failed: %v", o.Addr.Display(), err)))
			continue
		}
		fmt.Fprintf(w, "%s: invitation sent\n", escape.Text(o.Addr.Display()))
	}
	return ok
}

// writeJSON writes v, a JSON object, with the command's diagnostics.
func writeJSON(ctx context.Context, ios *iostreams.IOStreams, v any) error {
	return writeJSONDoc(ctx, ios.Out, func(w io.Writer) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}

// confirm asks on the terminal; only "yes" goes on. Ctrl-C or SIGTERM (ctx done) cancels at
// once, without waiting for the answer.
func confirm(ctx context.Context, ios *iostreams.IOStreams, p *plan.Plan) error {
	if !ios.CanPrompt() {
		return withHint(errors.New("cannot ask for confirmation: no terminal"),
			"review the plan and pass --auto-approve, or apply a plan saved with roster plan --out")
	}
	fmt.Fprintf(ios.ErrOut, "\nDo you want to apply these changes to realm %q?\n  Only 'yes' will be accepted.\n\n  Enter a value: ", p.Realm)
	_ = ios.Flush()
	answered := make(chan string, 1)
	go func() {
		// Left blocked on the terminal if ctx ends first; the process ends soon after.
		answer, _ := bufio.NewReader(ios.In).ReadString('\n')
		answered <- answer
	}()
	select {
	case answer := <-answered:
		if strings.TrimSpace(answer) == "yes" {
			return nil
		}
	case <-ctx.Done():
		fmt.Fprintln(ios.ErrOut)
	}
	return errors.New("apply cancelled: nothing was changed")
}

// readSavedPlan returns the saved plan when the first argument is one, else nil, and the paths
// that follow it: the files or directories the plan must have been made from.
func readSavedPlan(paths []string) (*planfile.File, []string, error) {
	f, err := os.Open(paths[0])
	if err != nil {
		return nil, nil, nil // not a readable file: the loader reports it
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || info.IsDir() {
		return nil, nil, nil
	}
	saved, err := planfile.Read(f, Version())
	if errors.Is(err, planfile.ErrNotPlan) {
		if schema.IsYAMLName(paths[0]) {
			return nil, nil, nil // a configuration file: apply plans it
		}
		// Anything else named first is meant as a saved plan: planning it as configuration
		// would apply what nobody reviewed (a forged plan artifact, say).
		return nil, nil, withHint(fmt.Errorf("%s is not a saved roster plan", paths[0]),
			"give apply a plan saved with roster plan --out, or configuration files named .yaml or .yml")
	}
	return saved, paths[1:], err
}

// errStale is the refusal of a saved plan that no longer describes the realm or configuration.
func errStale(why string) error {
	return withHint(fmt.Errorf("the plan is stale: %s", why),
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
			return withHint(fmt.Errorf("the plan names %s, which is outside the directory it is applied in", p),
				"make the plan with paths inside the checkout (roster plan --out FILE access/) and apply it from there")
		}
	}
	for _, dir := range saved.Dirs {
		names, err := schema.DirFiles(dir)
		if err != nil {
			return withHint(fmt.Errorf("the plan was made from directory %s, which cannot be read here: %w", dir, err),
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
			return withHint(fmt.Errorf("the plan was made from %s, which is not here", s.Path),
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
				return withHint(fmt.Errorf("the plan was not made from %s", n),
					"make the plan from the same files or directories as the apply names: roster plan --out FILE "+strings.Join(paths, " "))
			}
		}
	}
	for _, s := range saved.Sources {
		if !want[path.Clean(s.Path)] {
			return withHint(fmt.Errorf("the plan was made from %s too, which %s does not name", s.Path, strings.Join(paths, " ")),
				"make the plan from the same files or directories as the apply names: roster plan --out FILE "+strings.Join(paths, " "))
		}
	}
	return nil
}

// replan rebuilds a saved plan from its own configuration and the live realm, and refuses it
// unless it is exactly what the saved plan records.
func replan(ctx context.Context, ios *iostreams.IOStreams, opts *applyOptions, saved *planfile.File, paths []string, secrets secret.Source) (*planned, error) {
	planFlags := removalOptions{Prune: saved.Prune, AllowMassRemoval: saved.AllowMassRemoval, RotateSecrets: saved.RotateSecrets}
	if planFlags != opts.removal {
		return nil, withHint(fmt.Errorf("the plan was made with %s, but apply was given %s", planFlags, opts.removal),
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
	cfg, diags := schema.LoadFiles(files, schema.Options{Secrets: secrets})
	reportOf(ctx).add(diags)
	for _, d := range diags {
		fmt.Fprintln(ios.ErrOut, d)
	}
	if diags.HasErrors() {
		return nil, errors.New("the configuration saved in the plan is not valid for this version of roster: make the plan again")
	}
	if cfg.Realm != saved.Realm {
		return nil, &planfile.DamagedError{What: fmt.Sprintf("it is for realm %q, but its files are for realm %q", saved.Realm, cfg.Realm)}
	}
	server := opts.connect.config(cfg.Realm).URL
	if strings.TrimRight(server, "/") != strings.TrimRight(saved.Server, "/") {
		return nil, withHint(fmt.Errorf("the plan was made for %s, not %s", saved.Server, server),
			"point --server or KEYCLOAK_URL at the server the plan was made for")
	}
	c, info, live, err := opts.connect.read(ctx, cfg.Realm, keycloak.ReadOptionsFor(cfg))
	if err != nil {
		return nil, err
	}
	popts := plan.Options{Prune: model.Prune(saved.Prune), AllowMassRemoval: saved.AllowMassRemoval, RotateSecrets: saved.RotateSecrets}
	p, err := plan.Build(cfg, live, popts)
	if err != nil {
		return nil, err
	}
	if err := checkSaved(saved, live, p); err != nil {
		return nil, err
	}
	return &planned{cfg: cfg, info: info, live: live, plan: p, popts: popts, client: c}, nil
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
func (pl *planned) reread(ctx context.Context, saved *planfile.File) error {
	done := startRead(ctx, pl.cfg.Realm)
	live, err := pl.client.ReadLive(ctx, keycloak.ReadOptionsFor(pl.cfg))
	done(live, err)
	if err != nil {
		return classify(fmt.Errorf("failed to read realm %q: %w", pl.cfg.Realm, err))
	}
	p, err := plan.Build(pl.cfg, live, pl.popts)
	if err != nil {
		return err
	}
	if saved != nil {
		if err := checkSaved(saved, live, p); err != nil {
			return err
		}
	}
	pl.live, pl.plan = live, p
	return nil
}
