package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/secret"
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
--diff reads both and lists only the users whose effective access differs: declared
users the realm grants something else or does not have, and undeclared users who can
sign in. A file user that leaves enabled alone is compared with the realm's enabled.

` + connectHelp,
		Example: `  # What can alice do, by the files?
  roster access --username alice access/

  # Who administers payments-ai, in the realm as it is?
  roster access --live --realm codemie-prod --project payments-ai

  # The review view: where the realm and the files disagree
  roster access --diff --format json access/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if err := opts.check(); err != nil {
				return err
			}
			return runAccess(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.BoolVar(&opts.Live, "live", false, "read the live realm instead of the files")
	f.BoolVar(&opts.Diff, "diff", false, "list the users whose access differs between the files and the realm")
	f.StringVar(&opts.Realm, "realm", "", "the realm for --live without files (default: the files' realm)")
	f.StringVar(&opts.User, "username", "", "show one user")
	f.StringVar(&opts.Project, "project", "", "show one project's admins and members")
	f.StringVar(&opts.Format, "format", "text", "output format: text or json")
	return cmd
}

func (o *accessOptions) check() error {
	switch {
	case o.Format != "text" && o.Format != "json":
		return withHint(fmt.Errorf("unknown format %q", o.Format), "use --format text or json")
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

func runAccess(ctx context.Context, ios *iostreams.IOStreams, opts *accessOptions) error {
	var cfg *model.Config
	realm := opts.Realm
	if len(opts.Paths) > 0 {
		var err error
		if cfg, err = loadConfig(ios, opts.Paths, secret.FromEnv("")); err != nil {
			return err
		}
		if realm == "" {
			realm = cfg.Realm
		}
	}
	var live *model.Live
	if opts.Live || opts.Diff {
		var err error
		if _, _, live, err = opts.connect.read(ctx, realm, keycloak.ReadOptions{}); err != nil {
			return err
		}
	}

	if opts.Diff {
		diffs := access.Diff(access.FromConfig(cfg), access.FromLive(live))
		if opts.User != "" {
			diffs = filterDiffs(diffs, opts.User)
		}
		if opts.Format == "json" {
			return access.WriteJSON(ios.Out, access.DiffDocument(realm, diffs))
		}
		return access.WriteDiff(ios.Out, diffs)
	}

	src, rows := access.SourceFile, []access.Row(nil)
	if opts.Live {
		src, rows = access.SourceLive, access.FromLive(live)
	} else {
		rows = access.FromConfig(cfg)
	}
	switch {
	case opts.User != "":
		r, ok := access.Find(rows, opts.User)
		if !ok {
			where := "the files"
			if opts.Live {
				where = fmt.Sprintf("realm %q", realm)
			}
			return withHint(fmt.Errorf("user %q is not in %s", opts.User, where), "run roster access without --username to list every user")
		}
		if opts.Format == "json" {
			return access.WriteJSON(ios.Out, access.UsersDocument(src, realm, []access.Row{r}))
		}
		return access.WriteUser(ios.Out, r)
	case opts.Project != "":
		p := access.ForProject(rows, opts.Project)
		if opts.Format == "json" {
			return access.WriteJSON(ios.Out, access.ProjectDocument(src, realm, p))
		}
		return access.WriteProject(ios.Out, p)
	}
	if opts.Format == "json" {
		return access.WriteJSON(ios.Out, access.UsersDocument(src, realm, rows))
	}
	return access.WriteTable(ios.Out, rows)
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
