package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

type initOptions struct {
	connect     connectOptions
	Realm       string
	PlanClient  string
	ApplyClient string
	SecretsDir  string
	CI          string
}

// viewRoles are the realm-management roles of the plan account; the apply account holds them and
// manageRoles. They are what doctor --for plan and --for apply check.
var (
	viewRoles   = []keycloak.Permission{keycloak.ViewUsers, keycloak.ViewRealm, keycloak.ViewClients, keycloak.ViewIdentityProviders}
	manageRoles = []keycloak.Permission{keycloak.ManageUsers, keycloak.ManageRealm, keycloak.ManageClients, keycloak.ManageIdentityProviders}
)

// clientIDPattern keeps client ids usable as file names and in shell commands unquoted.
var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func newInitCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init --realm REALM",
		Short: "Create the plan and apply service accounts a pipeline needs",
		Long: `Init creates, once, the two Keycloak service accounts roster's pipeline logs in as,
each with the least privilege its job needs:

  roster-plan   realm-management view-users, view-realm, view-clients and
                view-identity-providers: pull-request plans and drift detection
  roster-apply  those and manage-users, manage-realm, manage-clients and
                manage-identity-providers: the apply job after review

Each is a confidential client that can only log in as its service account, with a
secret Keycloak generates. Init then logs in as each and checks its permissions as
roster doctor --for plan and --for apply do, and writes each secret to
SECRETS-DIR/CLIENT.secret, readable by its owner only. Secrets are never printed:
--ci github or --ci gitlab prints the gh or glab commands that store the accounts in
the repository's CI settings, reading the secrets from those files.

Run it as an administrator: KEYCLOAK_USER and KEYCLOAK_PASSWORD of the master realm.
Running it again changes nothing and says so, and rewrites a missing secret file. A
client of the same name with other settings or other roles is reported and left as
it is; init then fails.

` + connectHelp + `
Exit codes:
  0  both accounts exist as roster needs them and pass doctor's checks
  1  an account exists with other settings, fails a check, or another error
  3  the server could not be reached or refused the credentials`,
		Example: `  # Once, as an administrator; then store the accounts in GitHub
  KEYCLOAK_USER=admin KEYCLOAK_PASSWORD=... roster init --realm codemie-prod --secrets-dir ~/.roster --ci github

  # Other client names
  roster init --realm codemie-prod --plan-client ci-read --apply-client ci-write`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.check(); err != nil {
				return err
			}
			return runInit(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&opts.Realm, "realm", "", "the realm roster will manage")
	f.StringVar(&opts.PlanClient, "plan-client", "roster-plan", "client id of the read-only account, for plans")
	f.StringVar(&opts.ApplyClient, "apply-client", "roster-apply", "client id of the write account, for apply")
	f.StringVar(&opts.SecretsDir, "secrets-dir", ".", "directory to write CLIENT.secret files to (0600)")
	f.StringVar(&opts.CI, "ci", "", "print the commands that store the accounts in CI: github (gh) or gitlab (glab)")
	return cmd
}

func (o *initOptions) check() error {
	switch {
	case o.Realm == "":
		return withHint(errors.New("no realm given"), "name the realm roster will manage with --realm REALM")
	case o.CI != "" && ciStore[o.CI][0] == "":
		return withHint(fmt.Errorf("unknown CI %q", o.CI), "use --ci github or --ci gitlab, or leave it out")
	case o.PlanClient == o.ApplyClient:
		return withHint(fmt.Errorf("--plan-client and --apply-client are both %q", o.PlanClient),
			"the plan account must not be able to write: give the two accounts different client ids")
	}
	for _, id := range []string{o.PlanClient, o.ApplyClient} {
		if !clientIDPattern.MatchString(id) {
			return withHint(fmt.Errorf("client id %q is not allowed", escape.Text(id)),
				"use letters, digits, '.', '_' and '-', up to 64 characters, starting with a letter or digit")
		}
	}
	return nil
}

// initAccount is one service account init manages.
type initAccount struct {
	clientID    string
	job         doctor.Job
	description string
	roles       []keycloak.Permission
}

func runInit(ctx context.Context, ios *iostreams.IOStreams, opts *initOptions) error {
	c, err := opts.connect.dial(ctx, opts.Realm, model.DefaultCodeMie())
	if err != nil {
		return err
	}
	if _, err := c.ReadRealm(ctx); err != nil {
		return classify(err)
	}
	accounts := []initAccount{
		{opts.PlanClient, doctor.JobPlan, "roster plans and drift detection: realm-management view roles only", slices.Sorted(slices.Values(viewRoles))},
		{opts.ApplyClient, doctor.JobApply, "roster apply after review: realm-management view and manage roles", slices.Sorted(slices.Values(append(slices.Clone(viewRoles), manageRoles...)))},
	}
	var b strings.Builder
	// stop ends the run on an error, after what was done so far.
	stop := func(err error) error {
		io.WriteString(ios.Out, b.String())
		return err
	}
	created, failed := 0, 0
	for _, a := range accounts {
		secret, outcome, err := ensureAccount(ctx, c, a, &b)
		switch {
		case err != nil:
			return stop(err)
		case outcome == accountDiffers:
			failed++
			continue
		case outcome == accountCreated:
			created++
		}
		if err := writeSecretFile(filepath.Join(opts.SecretsDir, a.clientID+".secret"), secret, &b); err != nil {
			return stop(err)
		}
		ok, err := checkAccount(ctx, opts, a, secret, &b)
		if err != nil {
			return stop(err)
		}
		if !ok {
			failed++
		}
	}
	switch {
	case failed == 1:
		b.WriteString("\n1 account not as roster needs it: see above.\n")
	case failed > 1:
		fmt.Fprintf(&b, "\n%d accounts not as roster needs them: see above.\n", failed)
	case created == 0:
		b.WriteString("\nNo changes. Both service accounts exist as roster needs them.\n")
	default:
		fmt.Fprintf(&b, "\nCreated %s in realm %q.\n", plural(created, "service account"), opts.Realm)
	}
	if failed == 0 && opts.CI != "" {
		b.WriteString(ciCommands(opts, c.URL()))
	}
	if _, err := io.WriteString(ios.Out, b.String()); err != nil {
		return err
	}
	if failed > 0 {
		return silentExit(ExitError)
	}
	return nil
}

// accountOutcome is what ensureAccount found or did.
type accountOutcome int

const (
	accountUnchanged accountOutcome = iota // it exists as it should
	accountCreated                         // created, or completed after an earlier init stopped
	accountDiffers                         // a client of its name exists with other settings
)

// ensureAccount creates the account's client and grants its roles, or finds it as it should be,
// and returns its secret; it says which in b. A client that differs is described in b and left
// alone.
func ensureAccount(ctx context.Context, c *keycloak.Client, a initAccount, b *strings.Builder) (string, accountOutcome, error) {
	roles := joinPerms(a.roles)
	outcome := accountUnchanged
	sc, ok, err := c.FindClient(ctx, a.clientID)
	if err != nil {
		return "", outcome, classify(err)
	}
	if ok {
		diffs := sc.Differences()
		held, err := c.ServiceAccountRoles(ctx, sc.ID)
		if err != nil && sc.ServiceAccountsEnabled {
			return "", outcome, classify(err)
		}
		missing := missingRoles(held, a.roles)
		switch {
		case err != nil || slices.Equal(held, a.roles):
		case len(diffs) == 0 && sc.Description == a.description && missing != nil:
			// An earlier init created it and stopped before granting every role: finish the job.
			if err := c.GrantServiceAccountRoles(ctx, sc.ID, missing); err != nil {
				return "", outcome, classify(err)
			}
			fmt.Fprintf(b, "client %s: completed: granted %s (an earlier init stopped halfway)\n", a.clientID, joinPerms(missing))
			outcome = accountCreated
		default:
			diffs = append(diffs, "its service account holds the realm-management roles "+orNone(joinPerms(held)))
		}
		if len(diffs) > 0 {
			fmt.Fprintf(b, "client %s: exists with other settings, left as it is: %s\n", a.clientID, escape.Text(strings.Join(diffs, "; ")))
			fmt.Fprintf(b, "  fix: make it a confidential client with only its service account enabled, holding exactly %s; "+
				"or delete it and run roster init again; or choose another name with --%s-client\n", roles, a.job)
			return "", accountDiffers, nil
		}
		if outcome == accountUnchanged {
			fmt.Fprintf(b, "client %s: unchanged (service account holding %s)\n", a.clientID, roles)
		}
	} else {
		sc, err = c.CreateServiceClient(ctx, a.clientID, a.description)
		if err != nil {
			return "", outcome, classify(err)
		}
		if err := c.GrantServiceAccountRoles(ctx, sc.ID, a.roles); err != nil {
			return "", outcome, classify(fmt.Errorf("client %s was created, but granting its roles failed (run roster init again): %w", a.clientID, err))
		}
		fmt.Fprintf(b, "client %s: created (service account holding %s)\n", a.clientID, roles)
		outcome = accountCreated
	}
	secret, err := c.ClientSecret(ctx, sc.ID)
	return secret, outcome, classify(err)
}

// writeSecretFile writes secret to path, owner-only, unless the file holds it already.
func writeSecretFile(path, secret string, b *strings.Builder) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, []byte(secret)) {
		fmt.Fprintf(b, "  secret: %s, unchanged\n", escape.Text(path))
		return nil
	}
	// The run's own Secrets would mask the secret in the file: this file is where it belongs.
	err := os.MkdirAll(filepath.Dir(path), 0o700)
	if err == nil {
		err = redact.New().WriteFile(path, []byte(secret))
	}
	if err != nil {
		return withHint(fmt.Errorf("write the secret: %w", err), "choose a writable directory with --secrets-dir")
	}
	fmt.Fprintf(b, "  secret: %s, written (readable by its owner only)\n", escape.Text(path))
	return nil
}

// checkAccount logs in as the account and runs doctor's connection and permission checks for
// its job; it reports them in b and whether they passed.
func checkAccount(ctx context.Context, opts *initOptions, a initAccount, secret string, b *strings.Builder) (bool, error) {
	cfg := opts.connect.clientConfig(ctx, opts.Realm)
	cfg.Username, cfg.Password, cfg.AuthRealm = "", "", ""
	cfg.ClientID, cfg.ClientSecret = a.clientID, secret
	want := doctor.Defaults()
	want.Job = a.job
	cfg.CodeMie = want.CodeMie
	sa, err := keycloak.Open(cfg)
	if err != nil {
		return false, err
	}
	report := doctor.Run(ctx, sa, want)
	var bad []doctor.Check
	n := 0
	for _, ch := range report.Checks {
		if ch.Name != "login" && !strings.HasPrefix(ch.Name, "permission ") {
			continue
		}
		n++
		if ch.Status != doctor.Pass && !(ch.Status == doctor.Skip && strings.HasPrefix(ch.Name, "permission ")) {
			bad = append(bad, ch)
		}
	}
	if len(bad) == 0 && !report.Unreachable {
		fmt.Fprintf(b, "  doctor --for %s: %s passed\n", a.job, plural(n, "check"))
		return true, nil
	}
	fmt.Fprintf(b, "  doctor --for %s: %d of %s did not pass:\n", a.job, len(bad), plural(n, "check"))
	for _, ch := range bad {
		fmt.Fprintf(b, "    %s %s: %s\n", strings.ToUpper(string(ch.Status)), escape.Text(ch.Name), escape.Text(ch.Detail))
	}
	return false, nil
}

// ciStore is how each CI platform's command-line tool stores the accounts as the examples in
// examples/ci read them: a heading, then the commands for KEYCLOAK_URL, the plan account's id and
// secret, and the apply account's id and secret; a secret command reads it from stdin.
var ciStore = map[string][6]string{
	"github": {
		"Store the accounts as the workflows in examples/ci/github expect (run in the repository):",
		"gh secret set KEYCLOAK_URL --body %s",
		"gh secret set KEYCLOAK_READ_CLIENT_ID --body %s",
		"gh secret set KEYCLOAK_READ_CLIENT_SECRET < %s",
		"gh secret set KEYCLOAK_CLIENT_ID --env roster-apply --body %s",
		"gh secret set KEYCLOAK_CLIENT_SECRET --env roster-apply < %s",
	},
	"gitlab": {
		"Store the accounts as examples/ci/gitlab/.gitlab-ci.yml expects (run in the project):",
		"glab variable set KEYCLOAK_URL %s",
		"glab variable set KEYCLOAK_READ_CLIENT_ID %s",
		"glab variable set KEYCLOAK_READ_CLIENT_SECRET --masked < %s",
		"glab variable set KEYCLOAK_CLIENT_ID --protected %s",
		"glab variable set KEYCLOAK_CLIENT_SECRET --masked --protected < %s",
	},
}

// ciCommands are the commands that store the accounts in the CI settings, the secrets read from
// their files so that they appear nowhere else.
func ciCommands(opts *initOptions, server string) string {
	plan := shellQuote(filepath.Join(opts.SecretsDir, opts.PlanClient+".secret"))
	apply := shellQuote(filepath.Join(opts.SecretsDir, opts.ApplyClient+".secret"))
	cmds := ciStore[opts.CI]
	var b strings.Builder
	fmt.Fprintf(&b, "\n# %s\n", cmds[0])
	for i, arg := range []string{shellQuote(server), opts.PlanClient, plan, opts.ApplyClient, apply} {
		fmt.Fprintf(&b, cmds[i+1]+"\n", arg)
	}
	fmt.Fprintf(&b, "# then delete the secret files: rm %s %s\n", plan, apply)
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// missingRoles returns the roles of want that held lacks, or nil when held has a role want does
// not (or lacks none).
func missingRoles(held, want []keycloak.Permission) []keycloak.Permission {
	var missing []keycloak.Permission
	for _, p := range held {
		if !slices.Contains(want, p) {
			return nil
		}
	}
	for _, p := range want {
		if !slices.Contains(held, p) {
			missing = append(missing, p)
		}
	}
	return missing
}

func joinPerms(ps []keycloak.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
