package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/plan/render"
	"github.com/rosterhq/roster/internal/planfile"
	"github.com/rosterhq/roster/internal/redact"
	"github.com/rosterhq/roster/internal/secret"
)

type planOptions struct {
	connect          connectOptions
	removal          removalOptions
	Paths            []string
	Format           string
	Out              string
	DetailedExitCode bool
	SecretsDir       string
}

// removalOptions are the flags plan and apply share about what the plan does beyond the files:
// removing users, and rotating identity-provider secrets.
type removalOptions struct {
	Prune            string
	AllowMassRemoval bool
	RotateSecrets    bool
}

func (o *removalOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Prune, "prune", "", "what to do with owned users missing from the files: none, disable or delete (default: the file's settings.prune)")
	fs.BoolVar(&o.AllowMassRemoval, "allow-mass-removal", false, "allow removing more users than settings.maxRemovals, and taking access from more than settings.maxAccessLosses")
	fs.BoolVar(&o.RotateSecrets, "rotate-secrets", false, "send the client secret of every declared identity provider, not only of new ones")
}

// String lists the flags as given, or says there are none.
func (o removalOptions) String() string {
	var flags []string
	if o.Prune != "" {
		flags = append(flags, "--prune "+o.Prune)
	}
	if o.AllowMassRemoval {
		flags = append(flags, "--allow-mass-removal")
	}
	if o.RotateSecrets {
		flags = append(flags, "--rotate-secrets")
	}
	if len(flags) == 0 {
		return "no --prune, --allow-mass-removal or --rotate-secrets"
	}
	return strings.Join(flags, " ")
}

func (o *removalOptions) check() error {
	switch model.Prune(o.Prune) {
	case "", model.PruneNone, model.PruneDisable, model.PruneDelete:
		return nil
	}
	return withHint(fmt.Errorf("unknown prune mode %q", o.Prune), "use --prune none, disable or delete")
}

// plan returns the options for plan.Build.
func (o *removalOptions) plan() plan.Options {
	return plan.Options{Prune: model.Prune(o.Prune), AllowMassRemoval: o.AllowMassRemoval, RotateSecrets: o.RotateSecrets}
}

func newPlanCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &planOptions{}
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
	f.StringVar(&opts.Format, "format", "text", "output format: text, markdown or json")
	completeValues(cmd, "format", "text", "markdown", "json")
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
	switch o.Format {
	case "text", "markdown", "json":
	default:
		return withHint(fmt.Errorf("unknown format %q", o.Format), "use --format text, markdown or json")
	}
	return o.removal.check()
}

// planned is a plan together with what it was computed from.
type planned struct {
	cfg *model.Config
	// warnings are the configuration's warnings, already written to stderr.
	warnings []diag.Diagnostic
	info     keycloak.RealmInfo
	live     *model.Live
	plan     *plan.Plan
	popts    plan.Options
	client   *keycloak.Client
}

// makePlan loads the configuration, reads the live realm and diffs them. Diagnostics go to
// stderr; errors in the configuration stop it.
func makePlan(ctx context.Context, ios *iostreams.IOStreams, paths []string, connect *connectOptions, popts plan.Options, secrets secret.Source) (*planned, error) {
	cfg, warnings, err := loadConfigWarnings(ctx, ios, paths, secrets)
	if err != nil {
		return nil, err
	}
	c, info, live, err := connect.read(ctx, cfg.Realm, keycloak.ReadOptionsFor(cfg))
	if err != nil {
		return nil, err
	}
	p, err := plan.Build(cfg, live, popts)
	if err != nil {
		return nil, err
	}
	return &planned{cfg: cfg, warnings: warnings, info: info, live: live, plan: p, popts: popts, client: c}, nil
}

func runPlan(ctx context.Context, ios *iostreams.IOStreams, opts *planOptions) error {
	pl, err := makePlan(ctx, ios, opts.Paths, &opts.connect, opts.removal.plan(), secret.FromEnv(opts.SecretsDir))
	if err != nil {
		return err
	}
	if err := renderPlan(ios.Out, pl.plan, opts.Format, ios.ColorEnabled(), pl.warnings); err != nil {
		return err
	}
	if opts.Out != "" {
		if err := savePlan(opts, pl, ios.Secrets); err != nil {
			return err
		}
	}
	switch {
	case opts.DetailedExitCode && pl.plan.HasChanges():
		return silentExit(ExitChanges)
	case opts.DetailedExitCode && pl.plan.Failing() > 0:
		return silentExit(ExitPrerequisite)
	}
	return nil
}

// renderPlan writes the plan in format; the markdown comment and the JSON plan also show the
// configuration's warnings, which the text leaves to stderr.
func renderPlan(w io.Writer, p *plan.Plan, format string, color bool, warnings []diag.Diagnostic) error {
	switch format {
	case "markdown":
		return render.Markdown(w, p, render.MarkdownOptions{Warnings: warnings})
	case "json":
		return render.JSON(w, p, warnings)
	}
	return render.Text(w, p, render.TextOptions{Color: color})
}

func savePlan(opts *planOptions, pl *planned, redacted *redact.Secrets) error {
	sources, err := planfile.ReadSources(pl.cfg.Files)
	if err != nil {
		return err
	}
	var dirs []string
	for _, p := range opts.Paths {
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			dirs = append(dirs, filepath.ToSlash(filepath.Clean(p)))
		}
	}
	js, err := json.Marshal(render.NewJSONPlan(pl.plan))
	if err != nil {
		return err
	}
	return planfile.Write(opts.Out, &planfile.File{
		RosterVersion:    Version(),
		Server:           opts.connect.config(pl.cfg.Realm).URL,
		Realm:            pl.cfg.Realm,
		Sources:          sources,
		Dirs:             dirs,
		Prune:            opts.removal.Prune,
		AllowMassRemoval: opts.removal.AllowMassRemoval,
		RotateSecrets:    opts.removal.RotateSecrets,
		LiveFingerprint:  planfile.Fingerprint(pl.live),
		Changes:          planfile.ChangeSet(pl.plan),
		Plan:             js,
	}, redacted)
}
