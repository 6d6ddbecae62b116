package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/redact"
)

// connectOptions are the flags that say how to reach and log in to Keycloak. Secrets come only
// from the environment, never from flags, so they stay out of shell history and process lists.
type connectOptions struct {
	Server    string
	AuthRealm string
	ClientID  string
	User      string
	CAFile    string
	Insecure  bool
	Timeout   time.Duration
	// AllowMaster lets roster work on the master realm, which holds Keycloak's own administrators.
	AllowMaster bool

	// transport, when set by tests, carries every request.
	transport http.RoundTripper
}

const connectHelp = `Connection (flags override the environment):
  --server        KEYCLOAK_URL            the server's base URL
  --auth-realm    KEYCLOAK_AUTH_REALM     realm to log in to (default: master for a user,
                                          the managed realm for a service account)
  --client-id     KEYCLOAK_CLIENT_ID      service-account client; secret in KEYCLOAK_CLIENT_SECRET
  --user          KEYCLOAK_USER           administrator; password in KEYCLOAK_PASSWORD
`

func (o *connectOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Server, "server", "", "Keycloak base URL (default $KEYCLOAK_URL)")
	fs.StringVar(&o.AuthRealm, "auth-realm", "", "realm to log in to (default $KEYCLOAK_AUTH_REALM, else master for --user and the managed realm for --client-id)")
	fs.StringVar(&o.ClientID, "client-id", "", "service-account client id; the secret is read from $KEYCLOAK_CLIENT_SECRET (default $KEYCLOAK_CLIENT_ID)")
	fs.StringVar(&o.User, "user", "", "administrator username; the password is read from $KEYCLOAK_PASSWORD (default $KEYCLOAK_USER)")
	fs.StringVar(&o.CAFile, "ca-file", "", "PEM file of certificate authorities to trust besides the system's")
	fs.BoolVar(&o.Insecure, "insecure-skip-tls-verify", false, "do not verify the server's TLS certificate (throwaway servers only)")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "time limit for each HTTP request")
	fs.BoolVar(&o.AllowMaster, "allow-master-realm", false, "allow working on the master realm, which holds Keycloak's own administrators")
}

// config builds the adapter configuration for realm from flags and environment. With a user,
// KEYCLOAK_CLIENT_ID is ignored (the password grant goes through admin-cli unless --client-id
// says otherwise); a client secret set as well is reported as a conflict by keycloak.Dial.
func (o *connectOptions) config(realm string) keycloak.Config {
	cfg := keycloak.Config{
		URL:                   o.server(),
		Realm:                 realm,
		AuthRealm:             orEnv(o.AuthRealm, "KEYCLOAK_AUTH_REALM"),
		Username:              orEnv(o.User, "KEYCLOAK_USER"),
		ClientSecret:          os.Getenv("KEYCLOAK_CLIENT_SECRET"),
		CAFile:                o.CAFile,
		InsecureSkipTLSVerify: o.Insecure,
		Timeout:               o.Timeout,
		Transport:             o.transport,
	}
	if cfg.Username != "" {
		cfg.Password = os.Getenv("KEYCLOAK_PASSWORD")
		cfg.ClientID = o.ClientID
	} else {
		cfg.ClientID = orEnv(o.ClientID, "KEYCLOAK_CLIENT_ID")
	}
	return cfg
}

// server is the Keycloak base URL: --server, else KEYCLOAK_URL.
func (o *connectOptions) server() string { return orEnv(o.Server, "KEYCLOAK_URL") }

// deps are the operations' dependencies wired to the real world: the Keycloak adapter (dialled
// with these options), the configuration's diagnostics printed on stderr and kept for the JSON
// output, and the secrets masked in the output.
func (o *connectOptions) deps(ctx context.Context, ios *iostreams.IOStreams) operation.Deps {
	return operation.Deps{
		Dial: func(ctx context.Context, realm string, codemie model.CodeMie) (operation.Realm, error) {
			c, err := o.dial(ctx, realm, codemie)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		Diagnostics: func(l diag.List) {
			reportOf(ctx).add(l)
			for _, d := range l {
				fmt.Fprintln(ios.ErrOut, d)
			}
		},
		Secrets: ios.Secrets,
	}
}

// clientConfig is config with what the command's context adds: the request log of --verbose
// and the secrets to mask, which the client extends with the tokens it obtains.
func (o *connectOptions) clientConfig(ctx context.Context, realm string) keycloak.Config {
	cfg := o.config(realm)
	cfg.Log = requestLog(ctx)
	cfg.Secrets = runSecrets(ctx)
	return cfg
}

// dial logs in; failures to reach the server or to log in end the command with exit code 3.
// The master realm is refused unless --allow-master-realm: it holds Keycloak's own
// administrators, and CodeMie never runs there.
func (o *connectOptions) dial(ctx context.Context, realm string, codemie model.CodeMie) (*keycloak.Client, error) {
	if err := o.checkRealm(realm); err != nil {
		return nil, err
	}
	cfg := o.clientConfig(ctx, realm)
	cfg.CodeMie = codemie
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		return nil, classify(err)
	}
	return c, nil
}

// checkRealm refuses the master realm unless --allow-master-realm.
func (o *connectOptions) checkRealm(realm string) error {
	if realm == "master" && !o.AllowMaster {
		return withHint(errors.New("refusing to work on the master realm: it holds Keycloak's own administrators"),
			"CodeMie uses a realm of its own (codemie-prod by default); pass --allow-master-realm if you really mean master")
	}
	return nil
}

// classify gives connection and login failures exit code 3 so that a drift job can tell a broken
// connection from drift (2) and from other errors (1).
func classify(err error) error {
	if errors.Is(err, context.Canceled) {
		return err // interrupted by SIGINT or SIGTERM: an error (1), the server did nothing wrong
	}
	var ce *keycloak.ConnError
	if errors.As(err, &ce) {
		return &exitError{Code: ExitUnreachable, Err: err}
	}
	return err
}

func orEnv(v, name string) string {
	if v != "" {
		return v
	}
	return os.Getenv(name)
}

// secretsKey carries the run's secrets (iostreams.IOStreams.Secrets) in a command's context.
type secretsKey struct{}

// runSecrets returns the secrets masked in the command's output.
func runSecrets(ctx context.Context) *redact.Secrets {
	s, _ := ctx.Value(secretsKey{}).(*redact.Secrets)
	return s
}

// requestLogKey carries the writer --verbose logs requests to in a command's context.
type requestLogKey struct{}

// requestLog returns where to log HTTP requests, or nil without --verbose.
func requestLog(ctx context.Context) io.Writer {
	w, _ := ctx.Value(requestLogKey{}).(io.Writer)
	return w
}

// codemieFlags say how CodeMie reads a realm that no configuration describes (export, access
// --live --realm): settings.codemie as flags.
type codemieFlags struct {
	AdminRole, DeveloperRole, ClientID string
}

func (c *codemieFlags) addFlags(fs *pflag.FlagSet) {
	d := model.DefaultCodeMie()
	fs.StringVar(&c.AdminRole, "codemie-admin-role", d.AdminRole, "the realm role CodeMie reads as Admin (its ADMIN_ROLE_NAME), as settings.codemie.adminRole")
	fs.StringVar(&c.DeveloperRole, "codemie-developer-role", d.DeveloperRole, "the realm role that lets a standard user into CodeMie, as settings.codemie.developerRole")
	fs.StringVar(&c.ClientID, "codemie-client", d.ClientID, "CodeMie's client, whose token mappers roster reads, as settings.codemie.clientId")
}

// model returns the flags as model.CodeMie, refusing what the loader refuses.
func (c *codemieFlags) model() (model.CodeMie, error) {
	cm := model.CodeMie{AdminRole: c.AdminRole, DeveloperRole: c.DeveloperRole, ClientID: c.ClientID}
	switch {
	case cm.AdminRole == "" || cm.DeveloperRole == "" || cm.ClientID == "":
		return cm, withHint(errors.New("--codemie-admin-role, --codemie-developer-role and --codemie-client cannot be empty"),
			"leave them out for CodeMie's defaults (admin, developer, codemie)")
	case model.IsApplyRole(cm.AdminRole) || model.IsApplyRole(cm.DeveloperRole):
		return cm, withHint(fmt.Errorf("--codemie-admin-role and --codemie-developer-role cannot name a realm role roster apply keeps for its lock (%s, %s, %s…)",
			model.ApplyLockRole, model.ApplyMarkRole, model.ApplyReleasedPrefix),
			"name the realm roles CodeMie's ADMIN_ROLE_NAME and oauth2-proxy's allowed_roles use")
	case cm.AdminRole == cm.DeveloperRole:
		return cm, withHint(fmt.Errorf("--codemie-admin-role and --codemie-developer-role are both %q: every user CodeMie lets in would be an Admin", cm.AdminRole),
			"name the realm roles CodeMie's ADMIN_ROLE_NAME and oauth2-proxy's allowed_roles use")
	}
	return cm, nil
}
