package operation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

func TestMissingRoles(t *testing.T) {
	t.Parallel()
	view := []keycloak.Permission{keycloak.ViewClients, keycloak.ViewRealm, keycloak.ViewUsers}
	for _, tt := range []struct {
		name string
		held []keycloak.Permission
		want []keycloak.Permission
	}{
		{"none held: all missing", nil, view},
		{"some held", []keycloak.Permission{keycloak.ViewRealm}, []keycloak.Permission{keycloak.ViewClients, keycloak.ViewUsers}},
		{"all held: none missing", view, nil},
		// A role the account should not have makes it someone else's: nothing is completed.
		{"an extra role", []keycloak.Permission{keycloak.ViewRealm, keycloak.ManageUsers}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := missingRoles(tt.held, view); !slices.Equal(got, tt.want) {
				t.Errorf("missingRoles(%v) = %v, want %v", tt.held, got, tt.want)
			}
		})
	}
}

func TestServiceClientDifferences(t *testing.T) {
	t.Parallel()
	good := keycloak.ServiceClient{Enabled: true, ServiceAccountsEnabled: true, ClientAuthenticatorType: "client-secret"}
	if d := good.Differences(); d != nil {
		t.Errorf("a service-account-only client differs: %q", d)
	}
	bad := keycloak.ServiceClient{PublicClient: true, StandardFlowEnabled: true, DirectAccessGrantsEnabled: true, ClientAuthenticatorType: "client-jwt"}
	want := []string{
		"it is disabled",
		"it is a public client (no secret)",
		"its service account is off",
		"the standard flow (browser login) is on",
		"direct access grants (passwords) are on",
		`it authenticates with "client-jwt", not a client secret`,
	}
	if d := bad.Differences(); !slices.Equal(d, want) {
		t.Errorf("Differences:\ngot  %q\nwant %q", d, want)
	}
}

// accountServer is the administrator's view of a realm's service-account clients, with their
// realm-management roles and secrets, by client id.
type accountServer struct {
	clients map[string]*keycloak.ServiceClient
	roles   map[string][]keycloak.Permission // by internal id
	fail    map[string]error                 // by method name
	calls   []string
}

func newAccountServer() *accountServer {
	return &accountServer{clients: map[string]*keycloak.ServiceClient{}, roles: map[string][]keycloak.Permission{}, fail: map[string]error{}}
}

func (s *accountServer) URL() string { return "https://kc.example.com" }
func (s *accountServer) ReadRealm(context.Context) (keycloak.RealmInfo, error) {
	return keycloak.RealmInfo{Name: "codemie-test"}, s.fail["ReadRealm"]
}
func (s *accountServer) FindClient(_ context.Context, clientID string) (keycloak.ServiceClient, bool, error) {
	if sc, ok := s.clients[clientID]; ok {
		return *sc, true, s.fail["FindClient"]
	}
	return keycloak.ServiceClient{}, false, s.fail["FindClient"]
}
func (s *accountServer) CreateServiceClient(_ context.Context, clientID, description string) (keycloak.ServiceClient, error) {
	if err := s.fail["CreateServiceClient"]; err != nil {
		return keycloak.ServiceClient{}, err
	}
	s.calls = append(s.calls, "create "+clientID)
	sc := &keycloak.ServiceClient{ID: "id-" + clientID, ClientID: clientID, Description: description, Enabled: true,
		ServiceAccountsEnabled: true, ClientAuthenticatorType: "client-secret"}
	s.clients[clientID] = sc
	return *sc, nil
}
func (s *accountServer) ClientSecret(_ context.Context, id string) (string, error) {
	return "secret-of-" + id, s.fail["ClientSecret"]
}
func (s *accountServer) ServiceAccountRoles(_ context.Context, id string) ([]keycloak.Permission, error) {
	return slices.Sorted(slices.Values(s.roles[id])), s.fail["ServiceAccountRoles"]
}
func (s *accountServer) GrantServiceAccountRoles(_ context.Context, id string, perms []keycloak.Permission) error {
	if err := s.fail["GrantServiceAccountRoles"]; err != nil {
		return err
	}
	s.calls = append(s.calls, "grant "+id+" "+JoinPermissions(perms))
	s.roles[id] = append(s.roles[id], perms...)
	return nil
}

// initDeps dials s and opens each account as a doctorTarget holding its roles in s, the
// secrets checked.
func initDeps(t *testing.T, s *accountServer) InitDeps {
	return InitDeps{
		Dial: dialFake[AccountAdmin](s, nil),
		OpenAccount: func(_ context.Context, realm, clientID, secret string, _ model.CodeMie) (doctor.Target, error) {
			if want := "secret-of-id-" + clientID; secret != want {
				t.Errorf("account %s opened with secret %q, want %q", clientID, secret, want)
			}
			return &doctorTarget{realm: realm, held: s.roles["id-"+clientID]}, nil
		},
	}
}

func initOptions(t *testing.T) InitOptions {
	return InitOptions{Realm: "codemie-test", PlanClient: "roster-plan", ApplyClient: "roster-apply", SecretsDir: filepath.Join(t.TempDir(), "secrets")}
}

// TestInitCreatesThenFindsTheAccounts: the first run creates both accounts with their roles and
// writes their secrets for their owner only; the second changes nothing.
func TestInitCreatesThenFindsTheAccounts(t *testing.T) {
	t.Parallel()
	s := newAccountServer()
	opts := initOptions(t)
	res, err := Init(context.Background(), opts, initDeps(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Done || res.Created() != 2 || res.Failed() != 0 || res.Server != "https://kc.example.com" {
		t.Fatalf("result %+v", res)
	}
	want := []string{"create roster-plan", "grant id-roster-plan " + JoinPermissions(res.Accounts[0].Roles),
		"create roster-apply", "grant id-roster-apply " + JoinPermissions(res.Accounts[1].Roles)}
	if !slices.Equal(s.calls, want) {
		t.Errorf("calls %q, want %q", s.calls, want)
	}
	if len(res.Accounts[0].Roles) != 4 || len(res.Accounts[1].Roles) != 8 {
		t.Errorf("roles %v and %v, want the 4 view roles and those with the 4 manage roles", res.Accounts[0].Roles, res.Accounts[1].Roles)
	}
	for _, a := range res.Accounts {
		if a.Outcome != AccountCreated || !a.SecretWritten || !a.Checked || !a.Passed || a.Checks == 0 {
			t.Errorf("%s: %+v", a.ClientID, a)
		}
		info, err := os.Stat(a.SecretFile)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", a.SecretFile, info.Mode().Perm())
		}
		if b, _ := os.ReadFile(a.SecretFile); string(b) != "secret-of-id-"+a.ClientID {
			t.Errorf("%s holds %q", a.SecretFile, b)
		}
	}

	s.calls = nil
	res, err = Init(context.Background(), opts, initDeps(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if res.Created() != 0 || res.Failed() != 0 || s.calls != nil {
		t.Errorf("second run: %+v, calls %q", res, s.calls)
	}
	for _, a := range res.Accounts {
		if a.Outcome != AccountUnchanged || a.SecretWritten {
			t.Errorf("second run, %s: %+v", a.ClientID, a)
		}
	}
}

// TestInitCompletesAndRefuses: an account an earlier init left without all its roles is
// completed; a client of the same name with other settings is left alone and fails init.
func TestInitCompletesAndRefuses(t *testing.T) {
	t.Parallel()
	s := newAccountServer()
	opts := initOptions(t)
	sc, _ := s.CreateServiceClient(context.Background(), "roster-plan", "roster plans and drift detection: realm-management view roles only")
	s.roles[sc.ID] = []keycloak.Permission{keycloak.ViewUsers}
	s.clients["roster-apply"] = &keycloak.ServiceClient{ID: "id-roster-apply", ClientID: "roster-apply", Enabled: true, PublicClient: true}
	res, err := Init(context.Background(), opts, initDeps(t, s))
	if err != nil {
		t.Fatal(err)
	}
	plan, apply := res.Accounts[0], res.Accounts[1]
	if plan.Outcome != AccountCompleted || len(plan.Granted) != 3 || !plan.Passed {
		t.Errorf("plan account: %+v", plan)
	}
	if apply.Outcome != AccountDiffers || apply.SecretFile != "" || apply.Checked ||
		!slices.Contains(apply.Differences, "it is a public client (no secret)") ||
		!slices.Contains(apply.Differences, "its service account holds the realm-management roles (none)") {
		t.Errorf("apply account: %+v", apply)
	}
	if res.Created() != 1 || res.Failed() != 1 || !res.Done {
		t.Errorf("result: created %d, failed %d", res.Created(), res.Failed())
	}
}

// TestInitFailures: an account whose checks fail fails init; an error stops init after the
// accounts it got to.
func TestInitFailures(t *testing.T) {
	t.Parallel()
	s := newAccountServer()
	opts := initOptions(t)
	deps := initDeps(t, s)
	deps.OpenAccount = func(context.Context, string, string, string, model.CodeMie) (doctor.Target, error) {
		return &doctorTarget{loginErr: errors.New("invalid_client")}, nil
	}
	res, err := Init(context.Background(), opts, deps)
	if err != nil || res.Failed() != 2 || res.Accounts[0].Passed || len(res.Accounts[0].Failed) == 0 {
		t.Errorf("failed checks: %+v, %v", res, err)
	}
	deps.OpenAccount = func(context.Context, string, string, string, model.CodeMie) (doctor.Target, error) {
		return nil, errors.New("bad CA file")
	}
	_, err = Init(context.Background(), opts, deps)
	wantErr(t, err, "bad CA file")

	s = newAccountServer()
	s.fail["ClientSecret"] = errors.New("503")
	res, err = Init(context.Background(), opts, initDeps(t, s))
	wantErr(t, err, "503")
	if res.Done || len(res.Accounts) != 1 || res.Accounts[0].Outcome != AccountCreated || res.Accounts[0].SecretFile != "" {
		t.Errorf("stopped at the first secret: %+v", res)
	}

	s = newAccountServer()
	s.fail["GrantServiceAccountRoles"] = errors.New("403")
	_, err = Init(context.Background(), opts, initDeps(t, s))
	wantErr(t, err, "client roster-plan was created, but granting its roles failed (run roster init again): 403")

	for _, call := range []string{"ReadRealm", "FindClient", "CreateServiceClient"} {
		s = newAccountServer()
		s.fail[call] = errors.New(call + " failed")
		if _, err := Init(context.Background(), opts, initDeps(t, s)); err == nil {
			t.Errorf("%s failing: no error", call)
		}
	}
	s = newAccountServer()
	s.clients["roster-plan"] = &keycloak.ServiceClient{ID: "id-roster-plan", ServiceAccountsEnabled: true}
	s.fail["ServiceAccountRoles"] = errors.New("roles unreadable")
	_, err = Init(context.Background(), opts, initDeps(t, s))
	wantErr(t, err, "roles unreadable")

	deps = initDeps(t, newAccountServer())
	deps.Dial = failDial[AccountAdmin]()
	_, err = Init(context.Background(), opts, deps)
	wantErr(t, err, "connection refused")

	// A secrets directory that cannot be made.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	opts.SecretsDir = filepath.Join(file, "secrets")
	_, err = Init(context.Background(), opts, initDeps(t, newAccountServer()))
	wantErr(t, err, "write the secret")
}

func TestInitOptionsValidate(t *testing.T) {
	t.Parallel()
	ok := InitOptions{Realm: "r", PlanClient: "p", ApplyClient: "a"}
	for _, tt := range []struct {
		edit func(*InitOptions)
		want string
	}{
		{func(o *InitOptions) { o.Realm = "" }, "no realm given"},
		{func(o *InitOptions) { o.CI = "jenkins" }, `unknown CI "jenkins"`},
		{func(o *InitOptions) { o.ApplyClient = "p" }, `--plan-client and --apply-client are both "p"`},
		{func(o *InitOptions) { o.PlanClient = "-x" }, `client id "-x" is not allowed`},
	} {
		o := ok
		tt.edit(&o)
		wantErr(t, o.Validate(), tt.want)
	}
	o := ok
	o.CI = GitLab
	if err := o.Validate(); err != nil {
		t.Error(err)
	}
}
