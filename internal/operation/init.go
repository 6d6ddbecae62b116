package operation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

// CI is a CI platform whose settings init prints the commands for.
type CI string

// The CI platforms init knows; NoCI prints nothing.
const (
	NoCI   CI = ""
	GitHub CI = "github"
	GitLab CI = "gitlab"
)

// InitOptions are what roster init is asked.
type InitOptions struct {
	Realm string
	// PlanClient and ApplyClient are the client ids of the read-only and the write account.
	PlanClient, ApplyClient string
	// SecretsDir is where CLIENT.secret files go.
	SecretsDir string
	CI         CI
}

// clientIDPattern keeps client ids usable as file names and in shell commands unquoted.
var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate refuses options init cannot act on.
func (o *InitOptions) Validate() error {
	switch {
	case o.Realm == "":
		return WithHint(errors.New("no realm given"), "name the realm roster will manage with --realm REALM")
	case o.CI != NoCI && o.CI != GitHub && o.CI != GitLab:
		return WithHint(fmt.Errorf("unknown CI %q", string(o.CI)), "use --ci github or --ci gitlab, or leave it out")
	case o.PlanClient == o.ApplyClient:
		return WithHint(fmt.Errorf("--plan-client and --apply-client are both %q", o.PlanClient),
			"the plan account must not be able to write: give the two accounts different client ids")
	}
	for _, id := range []string{o.PlanClient, o.ApplyClient} {
		if !clientIDPattern.MatchString(id) {
			return WithHint(fmt.Errorf("client id %q is not allowed", escape.Text(id)),
				"use letters, digits, '.', '_' and '-', up to 64 characters, starting with a letter or digit")
		}
	}
	return nil
}

// SecretFile is where init writes the secret of the account clientID.
func (o *InitOptions) SecretFile(clientID string) string {
	return filepath.Join(o.SecretsDir, clientID+".secret")
}

// AccountAdmin is the administrator's side of the server init needs; *keycloak.Client
// implements it.
type AccountAdmin interface {
	URL() string
	ReadRealm(ctx context.Context) (keycloak.RealmInfo, error)
	FindClient(ctx context.Context, clientID string) (keycloak.ServiceClient, bool, error)
	CreateServiceClient(ctx context.Context, clientID, description string) (keycloak.ServiceClient, error)
	ClientSecret(ctx context.Context, id string) (string, error)
	ServiceAccountRoles(ctx context.Context, id string) ([]keycloak.Permission, error)
	GrantServiceAccountRoles(ctx context.Context, id string, perms []keycloak.Permission) error
}

// InitDeps are what init needs besides its options.
type InitDeps struct {
	// Dial logs in as the administrator.
	Dial Dial[AccountAdmin]
	// OpenAccount returns the server as the service account clientID with secret sees it,
	// without logging in, for doctor's checks.
	OpenAccount func(ctx context.Context, realm, clientID, secret string, cm model.CodeMie) (doctor.Target, error)
}

// accountRoles are the realm-management roles of the account for job, sorted: the view roles
// for the plan account, those and the manage roles for the apply account. They are what doctor
// --for plan and --for apply check.
func accountRoles(job doctor.Job) []keycloak.Permission {
	roles := keycloak.ViewPermissions()
	if job == doctor.JobApply {
		roles = append(roles, keycloak.ManagePermissions()...)
	}
	slices.Sort(roles)
	return roles
}

// AccountOutcome is what init found or did to an account's client.
type AccountOutcome int

const (
	AccountUnchanged AccountOutcome = iota // it exists as it should
	AccountCreated                         // created
	AccountCompleted                       // completed after an earlier init stopped halfway
	AccountDiffers                         // a client of its name exists with other settings
)

// Account is one service account init manages, and what it found and did.
type Account struct {
	ClientID    string
	Job         doctor.Job
	Description string
	// Roles are the realm-management roles the account holds, sorted.
	Roles   []keycloak.Permission
	Outcome AccountOutcome
	// Granted are the roles an AccountCompleted was missing.
	Granted []keycloak.Permission
	// Differences say how an AccountDiffers client is not as roster needs it.
	Differences []string
	// SecretFile is where the secret is, "" until init got there; SecretWritten is false when
	// the file held it already.
	SecretFile    string
	SecretWritten bool
	// Checked is true once doctor's checks ran as the account: Checks of them, Failed those
	// that did not pass, Passed whether all passed and the server answered.
	Checked bool
	Checks  int
	Failed  []doctor.Check
	Passed  bool
}

// InitResult is what init found and did, account by account. Done is false when an error
// stopped init; the accounts are then those it got to.
type InitResult struct {
	Options  InitOptions
	Server   string
	Accounts []Account
	Done     bool
}

// Created counts the accounts init created or completed.
func (r InitResult) Created() int {
	n := 0
	for _, a := range r.Accounts {
		if a.Outcome == AccountCreated || a.Outcome == AccountCompleted {
			n++
		}
	}
	return n
}

// Failed counts the accounts not as roster needs them.
func (r InitResult) Failed() int {
	n := 0
	for _, a := range r.Accounts {
		if a.Outcome == AccountDiffers || a.Checked && !a.Passed {
			n++
		}
	}
	return n
}

// Init creates the plan and apply service accounts, or finds them as roster needs them, writes
// their secrets, and checks each with doctor's checks for its job.
func Init(ctx context.Context, opts InitOptions, deps InitDeps) (InitResult, error) {
	res := InitResult{Options: opts}
	c, err := deps.Dial(ctx, opts.Realm, model.DefaultCodeMie())
	if err != nil {
		return res, err
	}
	res.Server = c.URL()
	if _, err := c.ReadRealm(ctx); err != nil {
		return res, err
	}
	accounts := []Account{
		{ClientID: opts.PlanClient, Job: doctor.JobPlan, Description: "roster plans and drift detection: realm-management view roles only",
			Roles: accountRoles(doctor.JobPlan)},
		{ClientID: opts.ApplyClient, Job: doctor.JobApply, Description: "roster apply after review: realm-management view and manage roles",
			Roles: accountRoles(doctor.JobApply)},
	}
	for _, a := range accounts {
		id, err := ensureAccount(ctx, c, &a)
		if err != nil {
			return res, err
		}
		res.Accounts = append(res.Accounts, a)
		if a.Outcome == AccountDiffers {
			continue
		}
		acc := &res.Accounts[len(res.Accounts)-1]
		secret, err := c.ClientSecret(ctx, id)
		if err != nil {
			return res, err
		}
		path := opts.SecretFile(acc.ClientID)
		if acc.SecretWritten, err = writeSecretFile(path, secret); err != nil {
			return res, err
		}
		acc.SecretFile = path
		if err := checkAccount(ctx, deps, opts.Realm, acc, secret); err != nil {
			return res, err
		}
	}
	res.Done = true
	return res, nil
}

// ensureAccount creates the account's client and grants its roles, or finds it as it should be,
// and returns the client's internal id; a.Outcome says which. A client that differs is
// described in a and left alone.
func ensureAccount(ctx context.Context, c AccountAdmin, a *Account) (string, error) {
	sc, ok, err := c.FindClient(ctx, a.ClientID)
	if err != nil {
		return "", err
	}
	if ok {
		diffs := sc.Differences()
		held, err := c.ServiceAccountRoles(ctx, sc.ID)
		if err != nil && sc.ServiceAccountsEnabled {
			return "", err
		}
		missing := missingRoles(held, a.Roles)
		switch {
		case err != nil || slices.Equal(held, a.Roles):
		case len(diffs) == 0 && sc.Description == a.Description && missing != nil:
			// An earlier init created it and stopped before granting every role: finish the job.
			if err := c.GrantServiceAccountRoles(ctx, sc.ID, missing); err != nil {
				return "", err
			}
			a.Outcome, a.Granted = AccountCompleted, missing
		default:
			diffs = append(diffs, "its service account holds the realm-management roles "+orNone(JoinPermissions(held)))
		}
		if len(diffs) > 0 {
			a.Outcome, a.Differences = AccountDiffers, diffs
			return "", nil
		}
	} else {
		sc, err = c.CreateServiceClient(ctx, a.ClientID, a.Description)
		if err != nil {
			return "", err
		}
		if err := c.GrantServiceAccountRoles(ctx, sc.ID, a.Roles); err != nil {
			return "", fmt.Errorf("client %s was created, but granting its roles failed (run roster init again): %w", a.ClientID, err)
		}
		a.Outcome = AccountCreated
	}
	return sc.ID, nil
}

// writeSecretFile writes secret to path, owner-only, unless the file holds it already; it
// reports whether it wrote.
func writeSecretFile(path, secret string) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, []byte(secret)) {
		return false, nil
	}
	// The run's own Secrets would mask the secret in the file: this file is where it belongs.
	err := os.MkdirAll(filepath.Dir(path), 0o700)
	if err == nil {
		err = redact.New().WriteFile(path, []byte(secret))
	}
	if err != nil {
		return false, WithHint(fmt.Errorf("write the secret: %w", err), "choose a writable directory with --secrets-dir")
	}
	return true, nil
}

// checkAccount logs in as the account and runs doctor's connection and permission checks for
// its job, and records them in a.
func checkAccount(ctx context.Context, deps InitDeps, realm string, a *Account, secret string) error {
	want := doctor.Defaults()
	want.Job = a.Job
	sa, err := deps.OpenAccount(ctx, realm, a.ClientID, secret, want.CodeMie)
	if err != nil {
		return err
	}
	report := doctor.Run(ctx, sa, want)
	for _, ch := range report.Checks {
		if ch.Name != "login" && !strings.HasPrefix(ch.Name, "permission ") {
			continue
		}
		a.Checks++
		if ch.Status != doctor.Pass && !(ch.Status == doctor.Skip && strings.HasPrefix(ch.Name, "permission ")) {
			a.Failed = append(a.Failed, ch)
		}
	}
	a.Checked, a.Passed = true, len(a.Failed) == 0 && !report.Unreachable
	return nil
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

// JoinPermissions lists permissions separated by commas.
func JoinPermissions(ps []keycloak.Permission) string {
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
