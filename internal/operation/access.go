package operation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/verify"
)

// AccessOptions are what roster access is asked, with or without --verify.
type AccessOptions struct {
	// Paths are the configuration's files and directories; none reads only the realm.
	Paths []string
	// Live reads the realm instead of the files; Diff reads both and compares.
	Live, Diff bool
	// Realm is the realm to read without files.
	Realm string
	// User and Project narrow the answer to one user or one project.
	User, Project string
	Format        output.Format
	// Out is the file the answer goes to, "" for stdout.
	Out string
	// CodeMie is how CodeMie reads a realm no configuration describes (the --codemie-* flags).
	CodeMie model.CodeMie
	// Secrets are what the operator exposed to the configuration: references are located, not
	// read.
	Secrets secret.Source
	// Server is the server's URL, which the HTML page of the live realm names.
	Server string

	// Verify compares with the tokens Keycloak issues; Sample verifies that many users
	// covering every CodeMie role, Parallelism that many at once.
	Verify      bool
	Sample      int
	Parallelism int
}

// Validate refuses combinations of options that have no answer, and lowercases the project as the
// format names it.
func (o *AccessOptions) Validate() error {
	if o.Verify {
		return o.checkVerify()
	}
	switch {
	case o.Sample != 0:
		return WithHint(errors.New("--sample applies only with --verify"), "roster access --verify --sample N")
	case o.Format == output.HTML && (o.User != "" || o.Project != "" || o.Diff):
		return WithHint(errors.New("--format html shows every user"), "drop --username, --project and --diff; the page filters by project, team and role")
	case o.User != "" && o.Project != "":
		return WithHint(errors.New("--username and --project cannot be combined"), "ask about one user or one project")
	case o.Diff && o.Live:
		return WithHint(errors.New("--diff and --live cannot be combined"), "--diff reads both the files and the realm; drop --live")
	case o.Diff && o.Project != "":
		return WithHint(errors.New("--diff and --project cannot be combined"), "use --diff alone, or with --username")
	case o.Diff && len(o.Paths) == 0:
		return WithHint(errors.New("--diff needs the configuration"), "name the files or directories, e.g. roster access --diff access/")
	case o.Live && len(o.Paths) == 0 && o.Realm == "":
		return WithHint(errors.New("--live needs a realm"), "give --realm REALM, or the files whose realm to read")
	case !o.Live && !o.Diff && len(o.Paths) == 0:
		return WithHint(errors.New("no configuration given"), "name the files or directories, or read the realm with --live --realm REALM")
	case o.Realm != "" && !o.Live:
		return WithHint(errors.New("--realm applies only with --live"), "the files name their realm")
	}
	o.Project = strings.ToLower(strings.TrimSpace(o.Project))
	return nil
}

func (o *AccessOptions) checkVerify() error {
	switch {
	case o.Format != output.Text && o.Format != output.JSON:
		return WithHint(fmt.Errorf("unknown format %q", o.Format), "use --format text or json")
	case o.Out != "":
		return WithHint(errors.New("--out applies only without --verify"), "redirect the output of --verify instead")
	case o.Live || o.Diff || o.Project != "":
		return WithHint(errors.New("--verify cannot be combined with --live, --diff or --project"),
			"--verify reads the realm itself: give the files, or --realm REALM for roster's reading of the realm")
	case len(o.Paths) > 0 && o.Realm != "":
		return WithHint(errors.New("--realm applies only without files"), "the files name their realm")
	case len(o.Paths) == 0 && o.Realm == "":
		return WithHint(errors.New("--verify needs the files or a realm"),
			"name the files or directories to compare with, or --realm REALM to compare with roster's reading of the realm")
	case o.Sample < 0:
		return WithHint(fmt.Errorf("--sample must be at least 1, not %d", o.Sample), "leave it out to verify every user")
	case o.Sample > 0 && o.User != "":
		return WithHint(errors.New("--sample and --username cannot be combined"), "verify one user or a sample")
	case o.Parallelism < 1:
		return WithHint(fmt.Errorf("--parallelism must be at least 1, not %d", o.Parallelism), fmt.Sprintf("the default is %d", verify.DefaultParallelism))
	}
	return nil
}

// load loads the files when there are any, and returns them with the realm to read: --realm,
// else the files' realm; and how CodeMie reads that realm: as the files say, else as the
// --codemie-* flags say.
func (o *AccessOptions) load(deps Deps) (*model.Config, string, keycloak.ReadOptions, error) {
	if len(o.Paths) == 0 {
		return nil, o.Realm, keycloak.ReadOptions{CodeMie: o.CodeMie}, nil
	}
	cfg, _, err := LoadConfig(o.Paths, o.Secrets, deps)
	if err != nil {
		return nil, "", keycloak.ReadOptions{}, err
	}
	return cfg, cmp.Or(o.Realm, cfg.Realm), keycloak.ReadOptions{CodeMie: cfg.Settings.CodeMie}, nil
}

// AccessAnswer is which question an access result answers.
type AccessAnswer int

const (
	AccessTable   AccessAnswer = iota // every user
	AccessUser                        // one user (--username)
	AccessProject                     // one project's admins and members (--project)
	AccessDiff                        // the users whose access differs (--diff)
	AccessPage                        // the access-review page (--format html)
)

// AccessResult is access's answer.
type AccessResult struct {
	Answer AccessAnswer
	Source access.Source
	Realm  string
	// Rows are the users (AccessTable), or the one user (AccessUser).
	Rows    []access.Row
	Project access.Project
	Diffs   []access.Difference
	Page    access.Page
}

// Access answers who can do what in CodeMie, by the files, the live realm, or both. It uses
// deps.Dial, deps.Diagnostics and deps.Clock (when the HTML page was made).
func Access(ctx context.Context, opts AccessOptions, deps Deps) (AccessResult, error) {
	cfg, realm, ro, err := opts.load(deps)
	if err != nil {
		return AccessResult{}, err
	}
	res := AccessResult{Realm: realm, Source: access.SourceFile}
	var live *model.Live
	if opts.Live || opts.Diff {
		r, err := deps.Dial(ctx, realm, ro.CodeMie)
		if err != nil {
			return res, err
		}
		if live, err = readLive(ctx, r, realm, ro); err != nil {
			return res, err
		}
	}

	if opts.Diff {
		res.Answer, res.Diffs = AccessDiff, access.Diff(access.FromConfig(cfg), access.FromLive(live))
		if opts.User != "" {
			res.Diffs = filterDiffs(res.Diffs, opts.User)
		}
		return res, nil
	}

	if opts.Live {
		res.Source, res.Rows = access.SourceLive, access.FromLive(live)
	} else {
		res.Rows = access.FromConfig(cfg)
	}
	switch {
	case opts.Format == output.HTML:
		res.Answer = AccessPage
		res.Page = access.Page{Source: res.Source, Realm: realm, Generated: deps.clock().Now(), Rows: res.Rows}
		if cfg != nil {
			res.Page.Files, res.Page.Projects, res.Page.Teams = cfg.Files, cfg.Projects, cfg.Teams
		}
		if opts.Live {
			res.Page.Server = serverForDisplay(opts.Server)
		}
	case opts.User != "":
		r, ok := access.Find(res.Rows, opts.User)
		if !ok {
			return res, unknownUser(opts.User, realm, opts.Live, "roster access")
		}
		res.Answer, res.Rows = AccessUser, []access.Row{r}
	case opts.Project != "":
		res.Answer, res.Project = AccessProject, access.ForProject(res.Rows, opts.Project)
	}
	return res, nil
}

// VerifyRealm is the server access --verify asks; *keycloak.Client implements it.
type VerifyRealm interface {
	Reader
	verify.Reader
	verify.Target
}

// VerifyDeps are what access --verify needs besides its options.
type VerifyDeps struct {
	Dial Dial[VerifyRealm]
	// Diagnostics receives the configuration's diagnostics (Deps.Diagnostics).
	Diagnostics func(diag.List)
	// Progress, when set, is told how many users are done.
	Progress func(done, total int)
}

// Verify is access --verify: the access the files (or roster's reading of the realm) say,
// against what the tokens Keycloak issues through CodeMie's client make CodeMie grant. The
// report's Differ lists the users whose tokens grant something else.
func Verify(ctx context.Context, opts AccessOptions, deps VerifyDeps) (verify.Report, error) {
	cfg, realm, ro, err := opts.load(Deps{Diagnostics: deps.Diagnostics})
	if err != nil {
		return verify.Report{}, err
	}
	c, err := deps.Dial(ctx, realm, ro.CodeMie)
	if err != nil {
		return verify.Report{}, err
	}
	live, err := readLive(ctx, c, realm, ro)
	if err != nil {
		return verify.Report{}, err
	}
	facts, subjects, err := verify.Prepare(ctx, c, live, cfg)
	if err != nil {
		return verify.Report{}, err
	}
	switch {
	case opts.User != "":
		s, ok := verify.Find(subjects, opts.User)
		if !ok {
			return verify.Report{}, unknownUser(opts.User, realm, cfg == nil, "roster access --verify")
		}
		subjects = []verify.Subject{s}
	case opts.Sample > 0:
		subjects = verify.Sample(subjects, opts.Sample)
	}
	results := verify.Run(ctx, c, facts, subjects, verify.Options{Parallelism: opts.Parallelism, Progress: deps.Progress})
	report := verify.Report{Realm: realm, Client: facts.Client.ClientID, FromFiles: facts.FromFiles, Results: results}
	return report, report.Failure()
}

// unknownUser is the error for --username naming nobody in the files, or in the realm (live).
func unknownUser(user, realm string, live bool, command string) error {
	where := "the files"
	if live {
		where = fmt.Sprintf("realm %q", realm)
	}
	return WithHint(fmt.Errorf("user %q is not in %s", user, where), "run "+command+" without --username to see every user")
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
