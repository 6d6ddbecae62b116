package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/verify"
	"github.com/rosterhq/roster/internal/views"
)

type accessOptions struct {
	connect connectOptions
	codemie codemieFlags
	format  *output.Flag
	operation.AccessOptions
}

func newAccessCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &accessOptions{format: output.NewFlag(views.AccessFormats...)}
	cmd := &cobra.Command{
		Use:   "access [PATH...]",
		Short: "Show who can do what in CodeMie, from the files or the live realm",
		Long: `Access answers "who can do what" with the rules CodeMie applies: the realm role admin
makes an Admin of every project; with developer, a project in applications_admin (alone
or in both attributes) makes a Project Admin of it, a project only in applications a
Regular User; user_type external makes an External User; no role, or a disabled
user, cannot sign in.

It reads the files (the default) or the live realm (--live), and prints a table of
every user, one user (--username), or one project's admins and members (--project).
--format html writes a self-contained page for access reviews: a users × projects
matrix with role badges, filters by project, team and role, and per-project and
per-team views (teams come from the files, also with --live).
--diff reads both and lists only the users whose effective access differs: declared
users the realm grants something else or does not have, and undeclared users who can
sign in. A file user that leaves enabled alone is compared with the realm's enabled.

--verify proves it: for every user of the files (or of the realm, with --realm), one
(--username) or a sample covering every CodeMie role (--sample N), it asks Keycloak
for the access token, ID token and userinfo it would issue through CodeMie's client
(settings.codemie.clientId, default codemie) without the user's password, reads their
claims as CodeMie does, and prints a line per user whose tokens grant something else,
with both sides and the likely cause. It exits 0 when all match and 1 otherwise. It
needs the realm-management roles view-users, view-realm and view-clients (roster
doctor --for verify).

` + connectHelp,
		Example: `  # What can alice do, by the files?
  roster access --username alice access/

  # Who administers payments-ai, in the realm as it is?
  roster access --live --realm codemie-prod --project payments-ai

  # An access-review page of the realm as it is, with the files' teams
  roster access --live --format html --out access.html access/

  # The review view: where the realm and the files disagree
  roster access --diff --format json access/

  # Proof from the tokens Keycloak issues: does CodeMie grant what the files say?
  roster access --verify access/

  # The same for 50 users of a realm, covering every CodeMie role
  roster access --verify --realm codemie-prod --sample 50`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if opts.Verify {
				return runVerify(cmd.Context(), ios, opts)
			}
			return runAccess(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	opts.codemie.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.BoolVar(&opts.Live, "live", false, "read the live realm instead of the files")
	f.BoolVar(&opts.Diff, "diff", false, "list the users whose access differs between the files and the realm")
	f.StringVar(&opts.Realm, "realm", "", "the realm for --live or --verify without files (default: the files' realm)")
	f.StringVar(&opts.User, "username", "", "show one user")
	f.StringVar(&opts.Project, "project", "", "show one project's admins and members")
	f.Var(opts.format, "format", "output format: "+opts.format.List()+" (not html with --verify)")
	f.StringVar(&opts.Out, "out", "", "write the output to this file instead of stdout")
	f.BoolVar(&opts.Verify, "verify", false, "compare with what the tokens Keycloak issues make CodeMie grant")
	f.IntVar(&opts.Sample, "sample", 0, "with --verify, verify N users covering every CodeMie role instead of all")
	f.IntVar(&opts.Parallelism, "parallelism", verify.DefaultParallelism, "with --verify, how many users to verify at once")
	completeValues(cmd, "format", opts.format.Names()...)
	completeFromFiles(cmd, "realm", realmsOf)
	completeFromFiles(cmd, "username", usernamesOf)
	return cmd
}

// fill completes the operation's options from the flags.
func (o *accessOptions) fill() error {
	o.Format, o.Secrets = o.format.Format(), secret.FromEnv("")
	o.Server = o.connect.server()
	if err := o.Validate(); err != nil {
		return err
	}
	cm, err := o.codemie.model()
	o.CodeMie = cm
	if len(o.Paths) > 0 {
		return nil // the files say how CodeMie reads the realm
	}
	return err
}

func runAccess(ctx context.Context, ios *iostreams.IOStreams, opts *accessOptions) error {
	if err := opts.fill(); err != nil {
		return err
	}
	deps := opts.connect.deps(ctx, ios)
	deps.Clock = clockOf(ctx)
	res, err := operation.Access(ctx, opts.AccessOptions, deps)
	if err != nil {
		return classify(err)
	}
	if opts.Out == "" {
		return renderDoc(ctx, ios.Out, opts.Format, func(w io.Writer) error { return views.Access(w, res, opts.Format) })
	}
	var buf bytes.Buffer
	if err := renderDoc(ctx, &buf, opts.Format, func(w io.Writer) error { return views.Access(w, res, opts.Format) }); err != nil {
		return err
	}
	if err := ios.Secrets.WriteFile(opts.Out, buf.Bytes()); err != nil {
		return withHint(fmt.Errorf("writing %s: %w", opts.Out, err), "choose a file in a directory you can write")
	}
	return nil
}

// renderDoc renders a result: as a JSON document with the command's diagnostics when f is JSON
// (writeJSONDoc), else as the view writes it.
func renderDoc(ctx context.Context, w io.Writer, f output.Format, view func(io.Writer) error) error {
	if f == output.JSON {
		return writeJSONDoc(ctx, w, view)
	}
	return view(w)
}
