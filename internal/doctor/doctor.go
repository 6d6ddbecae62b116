package doctor

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/verify"
)

// Status is a check's outcome.
type Status string

const (
	Pass Status = "pass" // the prerequisite holds
	Warn Status = "warn" // it holds, but something deserves attention; doctor still exits 0
	Fail Status = "fail" // it does not hold; roster or CodeMie will not work as configured
	Skip Status = "skip" // it could not be checked, for the reason in Detail
)

// Check is one finding.
type Check struct {
	// Name says what was checked: "server", "login", "permission view-users", "role admin", …
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Detail says what doctor found, in a sentence.
	Detail string `json:"detail"`
	// Fix is the exact remedy (a roster command or a console step) for warn and fail; "" otherwise.
	Fix string `json:"fix"`
}

// Report is the outcome of Run.
type Report struct {
	Checks []Check
	// Unreachable is true when the server did not answer or refused the credentials, so that
	// nothing beyond the connection could be checked.
	Unreachable bool
}

// Failed reports whether a check failed.
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// Count returns the number of checks with status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == s {
			n++
		}
	}
	return n
}

// Job is what the credentials are checked for.
type Job string

const (
	// JobApply is plan and apply: the view and the manage roles. It is the zero Job's meaning.
	JobApply Job = "apply"
	// JobPlan is plan alone: the view roles; a manage role held is a warning.
	JobPlan Job = "plan"
	// JobVerify is roster access --verify: view-users, view-realm and view-clients.
	JobVerify Job = "verify"
)

// Want is what the realm should hold: the configuration's declarations, or CodeMie's defaults,
// and what the credentials are for.
type Want struct {
	// Job is the job the credentials are for; "" is JobApply.
	Job Job
	// Files are the configuration files, for fixes that run roster apply; nil for the defaults.
	Files []string
	// Roles are the realm roles that must exist.
	Roles []string
	// CodeMie names the realm roles CodeMie reads (settings.codemie).
	CodeMie model.CodeMie
	// ClientScope and Attributes are where the token mappers must be and which attributes they
	// carry into tokens.
	ClientScope string
	Attributes  []string
	// MappersDeclared is true when the files declare tokenMappers (apply then writes them), and
	// for the defaults, which stand for the recommended configuration.
	MappersDeclared bool
	// IdentityProviders are the declared identity providers.
	IdentityProviders []IdentityProvider
	// Config is the loaded configuration, whose users the token verification compares with;
	// nil for the defaults, which compare with roster's reading of the realm.
	Config *model.Config
}

// IdentityProvider is a declared identity provider.
type IdentityProvider struct {
	Alias string
	// Enabled is what the files declare; nil when they leave it alone.
	Enabled *bool
}

// Defaults is what CodeMie needs when no configuration is given: the roles admin and developer,
// and mappers for its three attributes on client scope profile.
func Defaults() Want {
	return Want{
		Roles:           []string{model.DefaultAdminRole, model.DefaultDeveloperRole},
		CodeMie:         model.DefaultCodeMie(),
		ClientScope:     "profile",
		Attributes:      model.CodeMieAttributes(),
		MappersDeclared: true,
	}
}

// FromConfig is what a loaded configuration declares. Without tokenMappers, the mappers CodeMie
// needs are checked all the same, at their defaults.
func FromConfig(cfg *model.Config) Want {
	w := Defaults()
	w.Files, w.Config = cfg.Files, cfg
	w.CodeMie = cfg.Settings.CodeMie
	w.Roles = nil
	for _, r := range cfg.Roles {
		w.Roles = append(w.Roles, r.Name)
	}
	w.MappersDeclared = cfg.TokenMappers != nil
	if tm := cfg.TokenMappers; tm != nil {
		w.ClientScope, w.Attributes = tm.ClientScope, tm.Attributes
	}
	for _, p := range cfg.IdentityProviders {
		w.IdentityProviders = append(w.IdentityProviders, IdentityProvider{Alias: p.Alias, Enabled: p.Enabled})
	}
	return w
}

// applyFix is the roster command that makes the realm match the files, or "" without files.
func (w Want) applyFix() string {
	if len(w.Files) == 0 {
		return ""
	}
	return "run `roster apply " + strings.Join(w.Files, " ") + "`"
}

// groups names the checks that need a login, for the report when there is none.
func (w Want) groups() []string {
	g := []string{"realm", "permissions", "user profile", "realm roles", "token mappers", "CodeMie's client"}
	if len(w.IdentityProviders) > 0 {
		g = append(g, "identity providers")
	}
	return append(g, "tokens")
}

// Target is the server doctor examines; *keycloak.Client implements it.
type Target interface {
	URL() string
	Realm() string
	Principal() keycloak.Principal
	Ping(ctx context.Context) error
	Login(ctx context.Context) (keycloak.ClockReading, error)
	ServerVersion(ctx context.Context) (string, error)
	RealmExists(ctx context.Context) (bool, error)
	Probe(ctx context.Context, p keycloak.Permission) (bool, error)
	ReadUserProfile(ctx context.Context) (model.UserProfile, error)
	ReadRoles(ctx context.Context) ([]model.RealmRole, error)
	ReadIndirectGrants(ctx context.Context, roles []string) (keycloak.IndirectGrants, error)
	ReadClientScope(ctx context.Context, name string) (*model.LiveClientScope, error)
	ReadCodeMieClient(ctx context.Context) (*model.LiveCodeMieClient, string, error)
	ReadIdentityProviders(ctx context.Context) ([]model.LiveIdentityProvider, error)
	ReadLive(ctx context.Context, opts keycloak.ReadOptions) (*model.Live, error)
	verify.Reader
	verify.Target
}

// Run checks t against w, in a fixed order: server, login, realm, permissions, user profile,
// realm roles, token mappers, CodeMie's client (the mappers that reach its tokens, read through
// roster's model of CodeMie's reading), identity providers, the tokens the client issues to a
// sample of users, clock. Each check stands alone where it can;
// those that need a login are skipped, and say so, when there is none.
func Run(ctx context.Context, t Target, w Want) Report {
	if pingErr := t.Ping(ctx); pingErr != nil {
		return Report{Unreachable: true, Checks: []Check{
			unreachable(t.URL(), pingErr),
			{Name: "clock", Status: Skip, Detail: "not checked: the server did not answer"},
		}}
	}
	clock, loginErr := t.Login(ctx)
	var version string
	var versionErr error
	if loginErr == nil {
		version, versionErr = t.ServerVersion(ctx)
	}
	var ce *keycloak.ConnError
	if errors.As(loginErr, &ce) && ce.BadURL {
		// Something answers, but not Keycloak at this URL: the server check fails, with the fix.
		r := Report{Unreachable: true, Checks: []Check{
			{Name: "server", Status: Fail, Detail: t.URL() + ": " + ce.Err.Error(), Fix: ce.Hint},
			{Name: "login", Status: Skip, Detail: "not checked: the server URL is wrong"},
		}}
		for _, name := range w.groups() {
			r.Checks = append(r.Checks, Check{Name: name, Status: Skip, Detail: "not checked: the server URL is wrong"})
		}
		r.Checks = append(r.Checks, Check{Name: "clock", Status: Skip, Detail: "not checked: the server URL is wrong"})
		return r
	}
	r := Report{Checks: []Check{serverCheck(t.URL(), version, versionErr, loginErr != nil)}}
	r.Checks = append(r.Checks, loginCheck(t.Principal(), loginErr))
	if loginErr != nil {
		r.Unreachable = true
		for _, name := range w.groups() {
			r.Checks = append(r.Checks, Check{Name: name, Status: Skip, Detail: "not checked: roster could not log in"})
		}
		r.Checks = append(r.Checks, Check{Name: "clock", Status: Skip,
			Detail: "not checked: doctor reads the server's clock off a token's issue time, and roster could not log in"})
		return r
	}

	exists, err := t.RealmExists(ctx)
	r.Checks = append(r.Checks, realmCheck(t.Realm(), exists, err))
	if err == nil && !exists {
		for _, name := range w.groups()[1:] {
			r.Checks = append(r.Checks, Check{Name: name, Status: Skip, Detail: "not checked: the realm does not exist"})
		}
		r.Checks = append(r.Checks, clockCheck(clock))
		return r
	}

	p := t.Principal()
	held := make(map[keycloak.Permission]bool)
	for _, need := range needs(w) {
		ok, err := t.Probe(ctx, need.perm)
		held[need.perm] = ok
		r.Checks = append(r.Checks, permissionCheck(t.Realm(), p, need, ok, err))
	}

	up, err := t.ReadUserProfile(ctx)
	r.Checks = append(r.Checks, userProfileCheck(up, err, w))

	roles, err := t.ReadRoles(ctx)
	r.Checks = append(r.Checks, roleChecks(roles, err, w)...)
	r.Checks = append(r.Checks, grantCheck(ctx, t, roles, err == nil && held[keycloak.ViewRealm], w))

	scope, err := t.ReadClientScope(ctx, w.ClientScope)
	r.Checks = append(r.Checks, mapperChecks(scope, err, held[keycloak.ViewClients], w)...)
	client, unread, err := t.ReadCodeMieClient(ctx)
	r.Checks = append(r.Checks, clientChecks(client, unread, err, held[keycloak.ViewRealm], w)...)

	if len(w.IdentityProviders) > 0 {
		idps, err := t.ReadIdentityProviders(ctx)
		r.Checks = append(r.Checks, identityProviderChecks(idps, err, w)...)
	}

	r.Checks = append(r.Checks, tokenChecks(ctx, t, w, held)...)

	r.Checks = append(r.Checks, clockCheck(clock))
	return r
}

// refused reports whether err is Keycloak refusing a read for want of a role.
func refused(err error) bool {
	var e *keycloak.APIError
	return errors.As(err, &e) && e.Status == http.StatusForbidden
}
