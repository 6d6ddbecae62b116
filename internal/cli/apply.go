package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/progress"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/views"
)

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
	Format      *output.Flag
	SendInvites bool
	SecretsDir  string
}

func newApplyCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &applyOptions{Format: output.NewFlag(views.ApplyFormats...)}
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
	f.Var(opts.Format, "format", "output format: text, or json for a machine-readable result")
	completeValues(cmd, "format", opts.Format.Names()...)
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
	return o.removal.check()
}

func runApply(ctx context.Context, ios *iostreams.IOStreams, opts *applyOptions) error {
	shown := progress.New(ios.ErrOut, progress.Options{Terminal: ios.IsStderrTTY(), TermFd: int(os.Stderr.Fd()), Color: ios.ErrColorEnabled()})
	defer shown.Close()
	if requestLog(ctx) != nil {
		ctx = context.WithValue(ctx, requestLogKey{}, shown.Writer())
	}
	deps := opts.connect.deps(ctx, ios)
	deps.Progress = shown
	deps.Prompter = terminalPrompter{ios}
	res, err := operation.Apply(ctx, operation.ApplyOptions{
		Paths:         opts.Paths,
		Removal:       opts.removal.Removal,
		AutoApprove:   opts.AutoApprove,
		Parallelism:   opts.Parallelism,
		BatchSize:     opts.BatchSize,
		Lock:          opts.Lock,
		LockTimeout:   opts.LockTimeout,
		LockLease:     opts.LockLease,
		LockHolder:    lockHolder(),
		SendInvites:   opts.SendInvites,
		Secrets:       secret.FromEnv(opts.SecretsDir),
		Server:        opts.connect.server(),
		RosterVersion: Version(),
	}, deps)
	shown.Close()
	if err != nil {
		return classify(err)
	}
	v := views.Apply{Out: ios.Out, ErrOut: ios.ErrOut, Format: opts.Format.Format()}
	if err := v.Result(res, reportOf(ctx).list()); err != nil {
		return err
	}
	err = res.Err()
	switch {
	case err == nil:
		return nil
	case res.LockLost != nil, err == res.ReleaseErr:
		return inResult(classify(err), opts.Format.Is(output.JSON))
	case opts.Format.Is(output.JSON), errors.Is(err, operation.ErrInvitations):
		return silentExit(ExitError) // the result says what failed
	}
	return err
}

// lockHolder says who holds an apply lock, for whoever finds the realm locked.
func lockHolder() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown host"
	}
	return fmt.Sprintf("%s pid %d, since %s", host, os.Getpid(), time.Now().UTC().Format(time.RFC3339))
}

// terminalPrompter asks on the terminal: the plan on stdout, the question on stderr.
type terminalPrompter struct{ ios *iostreams.IOStreams }

func (p terminalPrompter) CanPrompt() bool { return p.ios.CanPrompt() }

func (p terminalPrompter) ShowPlan(pl *plan.Plan) error {
	return views.Plan(p.ios.Out, output.Text, pl, p.ios.ColorEnabled(), nil)
}

// ConfirmApply asks and waits for a line. Ctrl-C or SIGTERM (ctx done) ends the wait at once,
// without waiting for the answer.
func (p terminalPrompter) ConfirmApply(ctx context.Context, realm string) (string, error) {
	views.ConfirmApply(p.ios.ErrOut, realm)
	_ = p.ios.Flush()
	answered := make(chan string, 1)
	go func() {
		// Left blocked on the terminal if ctx ends first; the process ends soon after.
		answer, _ := bufio.NewReader(p.ios.In).ReadString('\n')
		answered <- answer
	}()
	select {
	case answer := <-answered:
		return answer, nil
	case <-ctx.Done():
		fmt.Fprintln(p.ios.ErrOut)
		return "", ctx.Err()
	}
}
