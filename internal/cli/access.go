package cli

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/verify"
)

type accessOptions struct {
	connect connectOptions
	Paths   []string
	Live    bool
	Diff    bool
	Realm   string
	User    string
	Project string
	Format  string
	Out     string
	codemie codemieFlags

	Verify      bool
	Sample      int
	Parallelism int
}

func newAccessCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &accessOptions{}
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
			if err := opts.check(); err != nil {
				return err
			}
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
	f.StringVar(&opts.Format, "format", "text", "output format: text, json or html (not with --verify)")
	f.StringVar(&opts.Out, "out", "", "write the output to this file instead of stdout")
	f.BoolVar(&opts.Verify, "verify", false, "compare with what the tokens Keycloak issues make CodeMie grant")
	f.IntVar(&opts.Sample, "sample", 0, "with --verify, verify N users covering every CodeMie role instead of all")
	f.IntVar(&opts.Parallelism, "parallelism", verify.DefaultParallelism, "with --verify, how many users to verify at once")
	completeValues(cmd, "format", "text", "json")
	completeFromFiles(cmd, "realm", realmsOf)
	completeFromFiles(cmd, "username", usernamesOf)
	return cmd
}

func (o *accessOptions) check() error {
	if o.Verify {
		return o.checkVerify()
	}
	switch {
	case o.Sample != 0:
		return withHint(errors.New("--sample applies only with --verify"), "roster access --verify --sample N")
	case o.Format != "text" && o.Format != "json" && o.Format != "html":
		return withHint(fmt.Errorf("unknown format %q", o.Format), "use --format text, json or html")
	case o.Format == "html" && (o.User != "" || o.Project != "" || o.Diff):
		return withHint(errors.New("--format html shows every user"), "drop --username, --project and --diff; the page filters by project, team and role")
	case o.User != "" && o.Project != "":
		return withHint(errors.New("--username and --project cannot be combined"), "ask about one user or one project")
	case o.Diff && o.Live:
		return withHint(errors.New("--diff and --live cannot be combined"), "--diff reads both the files and the realm; drop --live")
	case o.Diff && o.Project != "":
		return withHint(errors.New("--diff and --project cannot be combined"), "use --diff alone, or with --username")
	case o.Diff && len(o.Paths) == 0:
		return withHint(errors.New("--diff needs the configuration"), "name the files or directories, e.g. roster access --diff access/")
	case o.Live && len(o.Paths) == 0 && o.Realm == "":
		return withHint(errors.New("--live needs a realm"), "give --realm REALM, or the files whose realm to read")
	case !o.Live && !o.Diff && len(o.Paths) == 0:
		return withHint(errors.New("no configuration given"), "name the files or directories, or read the realm with --live --realm REALM")
	case o.Realm != "" && !o.Live:
		return withHint(errors.New("--realm applies only with --live"), "the files name their realm")
	}
	o.Project = strings.ToLower(strings.TrimSpace(o.Project))
	return nil
}

// loadOptional loads the files when there are any, and returns them with the realm to read:
// --realm, else the files' realm.
func (o *accessOptions) loadOptional(ctx context.Context, ios *iostreams.IOStreams) (*model.Config, string, error) {
	if len(o.Paths) == 0 {
		return nil, o.Realm, nil
	}
	cfg, err := loadConfig(ctx, ios, o.Paths, secret.FromEnv(""))
	if err != nil {
		return nil, "", err
	}
	return cfg, cmp.Or(o.Realm, cfg.Realm), nil
}

// readOptions says how CodeMie reads the realm: as the files say, else as the --codemie-* flags
// say.
func (o *accessOptions) readOptions(cfg *model.Config) (keycloak.ReadOptions, error) {
	if cfg != nil {
		return keycloak.ReadOptions{CodeMie: cfg.Settings.CodeMie}, nil
	}
	cm, err := o.codemie.model()
	return keycloak.ReadOptions{CodeMie: cm}, err
}

func runAccess(ctx context.Context, ios *iostreams.IOStreams, opts *accessOptions) error {
	if opts.Out == "" {
		return writeAccess(ctx, ios.Out, ios, opts)
	}
	var buf bytes.Buffer
	if err := writeAccess(ctx, &buf, ios, opts); err != nil {
		return err
	}
	if err := ios.Secrets.WriteFile(opts.Out, buf.Bytes()); err != nil {
		return withHint(fmt.Errorf("writing %s: %w", opts.Out, err), "choose a file in a directory you can write")
	}
	return nil
}

// writeAccess writes the answer to out; ios carries the diagnostics.
func writeAccess(ctx context.Context, out io.Writer, ios *iostreams.IOStreams, opts *accessOptions) error {
	cfg, realm, err := opts.loadOptional(ctx, ios)
	if err != nil {
		return err
	}
	var live *model.Live
	if opts.Live || opts.Diff {
		ro, err := opts.readOptions(cfg)
		if err != nil {
			return err
		}
		if _, _, live, err = opts.connect.read(ctx, realm, ro); err != nil {
			return err
		}
	}

	if opts.Diff {
		diffs := access.Diff(access.FromConfig(cfg), access.FromLive(live))
		if opts.User != "" {
			diffs = filterDiffs(diffs, opts.User)
		}
		if opts.Format == "json" {
			return writeJSONDoc(ctx, out, func(w io.Writer) error { return access.WriteJSON(w, access.DiffDocument(realm, diffs)) })
		}
		return access.WriteDiff(out, diffs)
	}

	src, rows := access.SourceFile, []access.Row(nil)
	if opts.Live {
		src, rows = access.SourceLive, access.FromLive(live)
	} else {
		rows = access.FromConfig(cfg)
	}
	switch {
	case opts.Format == "html":
		page := access.Page{Source: src, Realm: realm, Generated: time.Now(), Rows: rows}
		if cfg != nil {
			page.Files, page.Projects, page.Teams = cfg.Files, cfg.Projects, cfg.Teams
		}
		if opts.Live {
			page.Server = serverForDisplay(opts.connect.config(realm).URL)
		}
		return access.WriteHTML(out, page)
	case opts.User != "":
		r, ok := access.Find(rows, opts.User)
		if !ok {
			return unknownUser(opts.User, realm, opts.Live, "roster access")
		}
		if opts.Format == "json" {
			return writeJSONDoc(ctx, out, func(w io.Writer) error { return access.WriteJSON(w, access.UsersDocument(src, realm, []access.Row{r})) })
		}
		return access.WriteUser(out, r)
	case opts.Project != "":
		p := access.ForProject(rows, opts.Project)
		if opts.Format == "json" {
			return writeJSONDoc(ctx, out, func(w io.Writer) error { return access.WriteJSON(w, access.ProjectDocument(src, realm, p)) })
		}
		return access.WriteProject(out, p)
	}
	if opts.Format == "json" {
		return writeJSONDoc(ctx, out, func(w io.Writer) error { return access.WriteJSON(w, access.UsersDocument(src, realm, rows)) })
	}
	return access.WriteTable(out, rows)
}

// unknownUser is the error for --username naming nobody in the files, or in the realm (live).
func unknownUser(user, realm string, live bool, command string) error {
	where := "the files"
	if live {
		where = fmt.Sprintf("realm %q", realm)
	}
	return withHint(fmt.Errorf("user %q is not in %s", user, where), "run "+command+" without --username to see every user")
}

// serverForDisplay is the server URL without user information, query or fragment: what a page
// shared with reviewers may say about where it read.
func serverForDisplay(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func filterDiffs(diffs []access.Difference, user string) []access.Difference {
	var out []access.Difference
	for _, d := range diffs {
		if strings.EqualFold(d.Username, user) {
			out = append(out, d)
		}
	}
	return out
}

func (o *accessOptions) checkVerify() error {
	switch {
	case o.Format != "text" && o.Format != "json":
		return withHint(fmt.Errorf("unknown format %q", o.Format), "use --format text or json")
	case o.Out != "":
		return withHint(errors.New("--out applies only without --verify"), "redirect the output of --verify instead")
	case o.Live || o.Diff || o.Project != "":
		return withHint(errors.New("--verify cannot be combined with --live, --diff or --project"),
			"--verify reads the realm itself: give the files, or --realm REALM for roster's reading of the realm")
	case len(o.Paths) > 0 && o.Realm != "":
		return withHint(errors.New("--realm applies only without files"), "the files name their realm")
	case len(o.Paths) == 0 && o.Realm == "":
		return withHint(errors.New("--verify needs the files or a realm"),
			"name the files or directories to compare with, or --realm REALM to compare with roster's reading of the realm")
	case o.Sample < 0:
		return withHint(fmt.Errorf("--sample must be at least 1, not %d", o.Sample), "leave it out to verify every user")
	case o.Sample > 0 && o.User != "":
		return withHint(errors.New("--sample and --username cannot be combined"), "verify one user or a sample")
	case o.Parallelism < 1:
		return withHint(fmt.Errorf("--parallelism must be at least 1, not %d", o.Parallelism), fmt.Sprintf("the default is %d", verify.DefaultParallelism))
	}
	return nil
}
