package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/secret"
)

type doctorOptions struct {
	connect connectOptions
	Paths   []string
	Realm   string
	Format  string
	For     string
}

func newDoctorCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &doctorOptions{}
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
			if err := opts.check(); err != nil {
				return err
			}
			return runDoctor(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&opts.Realm, "realm", "", "the realm to check without files")
	f.StringVar(&opts.Format, "format", "text", "output format: text or json")
	f.StringVar(&opts.For, "for", string(doctor.JobApply), "the job the credentials are for: plan (view roles only), apply (view and manage roles) or verify (roster access --verify)")
	completeValues(cmd, "format", "text", "json")
	completeValues(cmd, "for", string(doctor.JobPlan), string(doctor.JobApply), string(doctor.JobVerify))
	completeFromFiles(cmd, "realm", realmsOf)
	return cmd
}

func (o *doctorOptions) check() error {
	switch {
	case o.Format != "text" && o.Format != "json":
		return withHint(fmt.Errorf("unknown format %q", o.Format), "use --format text or json")
	case o.For != string(doctor.JobPlan) && o.For != string(doctor.JobApply) && o.For != string(doctor.JobVerify):
		return withHint(fmt.Errorf("unknown job %q", o.For), "use --for plan, --for apply or --for verify")
	case len(o.Paths) > 0 && o.Realm != "":
		return withHint(errors.New("--realm applies only without files"), "the files name their realm")
	case len(o.Paths) == 0 && o.Realm == "":
		return withHint(errors.New("no realm given"), "name the files to check against, or the realm with --realm REALM")
	}
	return nil
}

func runDoctor(ctx context.Context, ios *iostreams.IOStreams, opts *doctorOptions) error {
	realm, want := opts.Realm, doctor.Defaults()
	if len(opts.Paths) > 0 {
		cfg, err := loadConfig(ctx, ios, opts.Paths, secret.FromEnv(""))
		if err != nil {
			return err
		}
		realm, want = cfg.Realm, doctor.FromConfig(cfg)
	}
	want.Job = doctor.Job(opts.For)
	if err := opts.connect.checkRealm(realm); err != nil {
		return err
	}
	kc := opts.connect.clientConfig(ctx, realm)
	kc.CodeMie = want.CodeMie
	c, err := keycloak.Open(kc)
	if err != nil {
		return err
	}
	report := doctor.Run(ctx, c, want)
	if opts.Format == "json" {
		err = writeJSONDoc(ctx, ios.Out, func(w io.Writer) error { return writeDoctorJSON(w, c, want.Job, report) })
	} else {
		err = writeDoctorText(ios.Out, report)
	}
	switch {
	case err != nil:
		return err
	case report.Unreachable:
		return silentExit(ExitUnreachable)
	case report.Failed():
		return silentExit(ExitError)
	}
	return nil
}

// writeDoctorText writes a line per check, and one for its fix. Names, details and fixes quote
// realm, role and mapper names and server answers: they go through escape.Text.
func writeDoctorText(w io.Writer, r doctor.Report) error {
	checks := make([]doctor.Check, len(r.Checks))
	width := 0
	for i, c := range r.Checks {
		c.Name, c.Detail, c.Fix = escape.Text(c.Name), escape.Text(c.Detail), escape.Text(c.Fix)
		checks[i] = c
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", strings.ToUpper(string(c.Status)), width, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(&b, "      %-*s  fix: %s\n", width, "", c.Fix)
		}
	}
	fmt.Fprintf(&b, "\n%s: %d passed, %s, %d failed, %d skipped.\n", plural(len(r.Checks), "check"),
		r.Count(doctor.Pass), plural(r.Count(doctor.Warn), "warning"), r.Count(doctor.Fail), r.Count(doctor.Skip))
	_, err := io.WriteString(w, b.String())
	return err
}

type doctorJSON struct {
	FormatVersion string `json:"format_version"`
	Server        string `json:"server"`
	Realm         string `json:"realm"`
	// For is the job the credentials were checked for: "plan" or "apply".
	For     string         `json:"for"`
	Checks  []doctor.Check `json:"checks"`
	Summary struct {
		Pass int `json:"pass"`
		Warn int `json:"warn"`
		Fail int `json:"fail"`
		Skip int `json:"skip"`
		// OK is true when no check failed and the server answered and accepted the credentials.
		OK bool `json:"ok"`
	} `json:"summary"`
}

func writeDoctorJSON(w io.Writer, c *keycloak.Client, job doctor.Job, r doctor.Report) error {
	doc := doctorJSON{FormatVersion: output.DoctorDocument.Version(), Server: c.URL(), Realm: c.Realm(), For: string(job), Checks: r.Checks}
	doc.Summary.Pass, doc.Summary.Warn = r.Count(doctor.Pass), r.Count(doctor.Warn)
	doc.Summary.Fail, doc.Summary.Skip = r.Count(doctor.Fail), r.Count(doctor.Skip)
	doc.Summary.OK = !r.Failed() && !r.Unreachable
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
