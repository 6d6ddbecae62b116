package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/views"
)

type initOptions struct {
	connect connectOptions
	operation.InitOptions
}

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
			return runInit(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&opts.Realm, "realm", "", "the realm roster will manage")
	f.StringVar(&opts.PlanClient, "plan-client", "roster-plan", "client id of the read-only account, for plans")
	f.StringVar(&opts.ApplyClient, "apply-client", "roster-apply", "client id of the write account, for apply")
	f.StringVar(&opts.SecretsDir, "secrets-dir", ".", "directory to write CLIENT.secret files to (0600)")
	f.StringVar((*string)(&opts.CI), "ci", "", "print the commands that store the accounts in CI: github (gh) or gitlab (glab)")
	return cmd
}

func runInit(ctx context.Context, ios *iostreams.IOStreams, opts *initOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	res, err := operation.Init(ctx, opts.InitOptions, operation.InitDeps{
		Dial: dialAs(&opts.connect, asAccountAdmin), OpenAccount: opts.connect.openAccount,
	})
	if verr := views.Init(ios.Out, res); err == nil {
		err = verr
	}
	switch {
	case err != nil:
		return classify(err)
	case res.Failed() > 0:
		return silentExit(ExitError)
	}
	return nil
}

// openAccount returns the server as the service account clientID with secret sees it, for the
// checks init runs as each account it manages.
func (o *connectOptions) openAccount(ctx context.Context, realm, clientID, secret string, cm model.CodeMie) (doctor.Target, error) {
	cfg := o.clientConfig(ctx, realm)
	cfg.Username, cfg.Password, cfg.AuthRealm = "", "", ""
	cfg.ClientID, cfg.ClientSecret = clientID, secret
	cfg.CodeMie = cm
	return openTarget(cfg)
}
