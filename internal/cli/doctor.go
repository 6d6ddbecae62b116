package cli

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/views"
)

type doctorOptions struct {
	connect connectOptions
	format  *output.Flag
	operation.DoctorOptions
}

func newDoctorCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &doctorOptions{format: output.NewFlag(views.DoctorFormats...)}
	cmd := &cobra.Command{
		Use:   "doctor [PATH...]",
		Short: "Check that Keycloak and the realm are ready for roster and CodeMie",
		Long: `Doctor checks a server and realm before roster's first apply, or when a pipeline
fails, and prints each finding with its fix. In order:

  server               Keycloak answers, and which version it runs
  login                the credentials work
  realm                the realm exists
  permission …         the credentials hold each realm-management role the job
                       needs (probed with requests that change nothing)
  user profile         administrators may write applications, applications_admin
                       and user_type; a warning when users may edit their own
  role …               the realm roles exist
  token mapper …       User Attribute mappers put the attributes into tokens,
                       single-valued, under their own names
  client codemie …     CodeMie's client (settings.codemie.clientId) exists and the
                       mappers that reach it carry what CodeMie reads
  identity provider …  the declared identity providers exist and are enabled
  tokens …             the tokens Keycloak issues through it to a sample of up to
                       30 users, covering each CodeMie role, make CodeMie grant
                       what the files (or roster's reading of the realm) say;
                       each difference with its cause, as roster access --verify
  clock                this machine's clock and the server's agree (a warning
                       from 5s apart, a failure from a minute)

With files, doctor checks what they declare; without, CodeMie's defaults for the
realm named by --realm (roles admin and developer, mappers on client scope profile).
It changes nothing.

--for says which job the credentials are for: apply (the default) needs the view and
the manage roles; plan needs only the view roles, and a manage role held is a warning:
pull-request plans should run with read-only credentials; verify (roster access
--verify) needs view-users, view-realm and view-clients.

` + connectHelp + `
Exit codes:
  0  every check passed (warnings allowed)
  1  a check failed, or an error such as an invalid configuration
  3  the server could not be reached or refused the credentials`,
		Example: `  # Before the first apply: is the realm ready for this configuration?
  roster doctor access/

  # CodeMie's defaults, without files
  roster doctor --realm codemie-prod

  # The read-only credentials of the pull-request plan job
  roster doctor --for plan access/

  # Can these credentials run roster access --verify?
  roster doctor --for verify --realm codemie-prod

  # For a pipeline or a ticket
  roster doctor --format json access/ > doctor.json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return runDoctor(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&opts.Realm, "realm", "", "the realm to check without files")
	f.Var(opts.format, "format", "output format: "+opts.format.List())
	f.StringVar((*string)(&opts.For), "for", string(doctor.JobApply), "the job the credentials are for: plan (view roles only), apply (view and manage roles) or verify (roster access --verify)")
	completeValues(cmd, "format", opts.format.Names()...)
	completeValues(cmd, "for", string(doctor.JobPlan), string(doctor.JobApply), string(doctor.JobVerify))
	completeFromFiles(cmd, "realm", realmsOf)
	return cmd
}

func runDoctor(ctx context.Context, ios *iostreams.IOStreams, opts *doctorOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	opts.Secrets = secret.FromEnv("")
	res, err := operation.Doctor(ctx, opts.DoctorOptions, operation.DoctorDeps{Open: opts.connect.doctorOpen(), Diagnostics: opts.connect.deps(ctx, ios).Diagnostics})
	if err != nil {
		return classify(err)
	}
	f := opts.format.Format()
	if err := renderDoc(ctx, ios.Out, f, func(w io.Writer) error { return views.Doctor(w, res, f) }); err != nil {
		return err
	}
	switch {
	case res.Report.Unreachable:
		return silentExit(ExitUnreachable)
	case res.Report.Failed():
		return silentExit(ExitError)
	}
	return nil
}
