package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/views"
)

type planOptions struct {
	connect          connectOptions
	removal          removalOptions
	Paths            []string
	Format           *output.Flag
	Out              string
	DetailedExitCode bool
	SecretsDir       string
}

// removalOptions are the flags plan and apply share about what the plan does beyond the files:
// removing users, and rotating identity-provider secrets.
type removalOptions struct{ operation.Removal }

func (o *removalOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Prune, "prune", "", "what to do with owned users missing from the files: none, disable or delete (default: the file's settings.prune)")
	fs.BoolVar(&o.AllowMassRemoval, "allow-mass-removal", false, "allow removing more users than settings.maxRemovals, and taking access from more than settings.maxAccessLosses")
	fs.BoolVar(&o.RotateSecrets, "rotate-secrets", false, "send the client secret of every declared identity provider, not only of new ones")
}

func (o *removalOptions) check() error {
	switch model.Prune(o.Prune) {
	case "", model.PruneNone, model.PruneDisable, model.PruneDelete:
		return nil
	}
	return withHint(fmt.Errorf("unknown prune mode %q", o.Prune), "use --prune none, disable or delete")
}

func newPlanCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &planOptions{Format: output.NewFlag(views.PlanFormats...)}
	cmd := &cobra.Command{
		Use:   "plan PATH...",
		Short: "Show what roster would change in the realm",
		Long: `Plan reads the desired state from files or directories, reads the live realm, and
prints the changes that would make the realm match, with what each change means in
CodeMie: "Regular User (payments) → Project Admin (payments)". It changes nothing.

Only what the files declare is managed. Users in the realm but not in the files are
left alone unless prune is set (in the file or with --prune), and then only users
carrying roster's ownership marker are disabled or deleted.

` + connectHelp + `
Exit codes:
  0  no changes (or changes, without --detailed-exitcode)
  1  error: invalid configuration, refused plan, failed request
  2  changes present (with --detailed-exitcode)
  3  the server could not be reached or refused the credentials
  4  no changes, but a prerequisite of CodeMie's reading fails (with --detailed-exitcode):
     CodeMie will not read the declared access; the plan's errors say how to fix it`,
		Example: `  # Plan with a service account of the realm
  export KEYCLOAK_URL=https://keycloak.example.com KEYCLOAK_CLIENT_ID=roster KEYCLOAK_CLIENT_SECRET=...
  roster plan access/

  # A pull-request comment, and a plan file for apply (roster show prints it again)
  roster plan --format markdown --out roster.plan access/ > comment.md

  # Nightly drift check: exit 2 when the realm drifted
  roster plan --detailed-exitcode access/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if err := opts.check(); err != nil {
				return err
			}
			return runPlan(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.Var(opts.Format, "format", "output format: text, markdown or json")
	completeValues(cmd, "format", opts.Format.Names()...)
	f.StringVar(&opts.Out, "out", "", "also save the plan to this file, for roster apply FILE")
	f.BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "exit 2 when there are changes, 4 when there are none but a prerequisite fails, 0 otherwise")
	opts.removal.addFlags(f)
	completeValues(cmd, "prune", string(model.PruneNone), string(model.PruneDisable), string(model.PruneDelete))
	addSecretsDirFlag(f, &opts.SecretsDir)
	return cmd
}

func (o *planOptions) check() error {
	if len(o.Paths) == 0 {
		return withHint(fmt.Errorf("no configuration given"), "name the files or directories to plan, e.g. roster plan access/")
	}
	return o.removal.check()
}

func runPlan(ctx context.Context, ios *iostreams.IOStreams, opts *planOptions) error {
	deps := opts.connect.deps(ctx, ios)
	pl, err := operation.Plan(ctx, operation.PlanOptions{Paths: opts.Paths, Removal: opts.removal.Removal,
		Secrets: secret.FromEnv(opts.SecretsDir)}, deps)
	if err != nil {
		return classify(err)
	}
	if err := views.Plan(ios.Out, opts.Format.Format(), pl.Plan, ios.ColorEnabled(), pl.Warnings); err != nil {
		return err
	}
	if opts.Out != "" {
		if err := operation.Save(pl, operation.SaveOptions{Out: opts.Out, Paths: opts.Paths, Removal: opts.removal.Removal,
			Server: opts.connect.server(), RosterVersion: Version()}, deps); err != nil {
			return err
		}
	}
	switch {
	case opts.DetailedExitCode && pl.Plan.HasChanges():
		return silentExit(ExitChanges)
	case opts.DetailedExitCode && pl.Plan.Failing() > 0:
		return silentExit(ExitPrerequisite)
	}
	return nil
}
