package operation

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

// doctorTarget is a server for doctor's checks: it answers, lets in whoever logs in unless
// loginErr, has the realm unless missing, and grants the permissions held. What it does not
// model (user profile, client scopes, CodeMie's client, tokens) it refuses to read, so those
// checks fail; the tests look at the checks they are about.
type doctorTarget struct {
	realm    string
	pingErr  error
	loginErr error
	missing  bool
	held     []keycloak.Permission
	probed   []keycloak.Permission
}

var errNotModelled = errors.New("not modelled by the test server")

func (d *doctorTarget) URL() string   { return "https://kc.example.com" }
func (d *doctorTarget) Realm() string { return d.realm }
func (d *doctorTarget) Principal() keycloak.Principal {
	return keycloak.Principal{AuthRealm: d.realm, ClientID: "ci"}
}
func (d *doctorTarget) Ping(context.Context) error { return d.pingErr }
func (d *doctorTarget) Login(context.Context) (keycloak.ClockReading, error) {
	return keycloak.ClockReading{}, d.loginErr
}
func (d *doctorTarget) ServerVersion(context.Context) (string, error) { return "26.7.3", nil }
func (d *doctorTarget) RealmExists(context.Context) (bool, error)     { return !d.missing, nil }
func (d *doctorTarget) Probe(_ context.Context, p keycloak.Permission) (bool, error) {
	d.probed = append(d.probed, p)
	return slices.Contains(d.held, p), nil
}
func (d *doctorTarget) ReadUserProfile(context.Context) (model.UserProfile, error) {
	return model.UserProfile{}, errNotModelled
}
func (d *doctorTarget) ReadIndirectGrants(context.Context, []string) (keycloak.IndirectGrants, error) {
	return keycloak.IndirectGrants{}, errNotModelled
}
func (d *doctorTarget) ReadRoles(context.Context) ([]model.RealmRole, error) {
	return nil, errNotModelled
}
func (d *doctorTarget) ReadClientScope(context.Context, string) (*model.LiveClientScope, error) {
	return nil, errNotModelled
}
func (d *doctorTarget) ReadCodeMieClient(context.Context) (*model.LiveCodeMieClient, string, error) {
	return nil, "", errNotModelled
}
func (d *doctorTarget) ReadIdentityProviders(context.Context) ([]model.LiveIdentityProvider, error) {
	return nil, errNotModelled
}
func (d *doctorTarget) ReadLive(context.Context, keycloak.ReadOptions) (*model.Live, error) {
	return nil, errNotModelled
}
func (d *doctorTarget) ReadClientScopes(context.Context) ([]model.LiveClientScope, error) {
	return nil, errNotModelled
}
func (d *doctorTarget) ExampleClaims(context.Context, string, string) (keycloak.ExampleClaims, error) {
	return keycloak.ExampleClaims{}, errNotModelled
}

func openDoctor(t *doctorTarget, asked *dialed) Dial[doctor.Target] {
	return func(_ context.Context, realm string, cm model.CodeMie) (doctor.Target, error) {
		t.realm = realm
		if asked != nil {
			asked.realm, asked.codemie = realm, cm
		}
		return t, nil
	}
}

// check returns the check named name.
func check(t *testing.T, r doctor.Report, name string) doctor.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q among %+v", name, r.Checks)
	return doctor.Check{}
}

// TestDoctorForEachJob: the permissions probed and required follow --for.
func TestDoctorForEachJob(t *testing.T) {
	t.Parallel()
	view := []keycloak.Permission{keycloak.ViewUsers, keycloak.ViewRealm, keycloak.ViewClients}
	for _, tt := range []struct {
		job        doctor.Job
		held       []keycloak.Permission
		manageUser doctor.Status // the check of manage-users
	}{
		{doctor.JobPlan, view, doctor.Pass},                                             // not held: as it should be
		{doctor.JobPlan, append(slices.Clone(view), keycloak.ManageUsers), doctor.Warn}, // a plan job that can write
		{doctor.JobApply, view, doctor.Fail},                                            // apply cannot write users
		{doctor.JobVerify, view, ""},                                                    // not probed at all
	} {
		t.Run(string(tt.job), func(t *testing.T) {
			target := &doctorTarget{held: tt.held}
			var asked dialed
			res, err := Doctor(context.Background(), DoctorOptions{Realm: "codemie-test", For: tt.job}, DoctorDeps{Open: openDoctor(target, &asked)})
			if err != nil {
				t.Fatal(err)
			}
			if res.For != tt.job || res.Realm != "codemie-test" || res.Server != "https://kc.example.com" || asked.codemie != model.DefaultCodeMie() {
				t.Errorf("result %+v, dialed %+v", res, asked)
			}
			if got := check(t, res.Report, "permission view-users").Status; got != doctor.Pass {
				t.Errorf("view-users: %s", got)
			}
			probedManage := slices.Contains(target.probed, keycloak.ManageUsers)
			if tt.manageUser == "" {
				if probedManage {
					t.Errorf("--for verify probed manage-users")
				}
				return
			}
			if got := check(t, res.Report, "permission manage-users").Status; got != tt.manageUser {
				t.Errorf("manage-users: %s, want %s", got, tt.manageUser)
			}
			if !res.Report.Failed() {
				t.Errorf("the checks the test server does not model did not fail")
			}
		})
	}
}

// TestDoctorFailures: a server that does not answer or refuses the login is unreachable; a
// missing realm fails; the files' realm and CodeMie settings are what doctor checks.
func TestDoctorFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	res, err := Doctor(ctx, DoctorOptions{Realm: "r", For: doctor.JobApply}, DoctorDeps{Open: openDoctor(&doctorTarget{pingErr: errors.New("refused")}, nil)})
	if err != nil || !res.Report.Unreachable {
		t.Errorf("no answer: %+v, %v", res.Report, err)
	}
	res, err = Doctor(ctx, DoctorOptions{Realm: "r", For: doctor.JobApply}, DoctorDeps{Open: openDoctor(&doctorTarget{loginErr: errors.New("invalid_client")}, nil)})
	if err != nil || !res.Report.Unreachable || check(t, res.Report, "login").Status != doctor.Fail {
		t.Errorf("refused login: %+v, %v", res.Report, err)
	}
	res, err = Doctor(ctx, DoctorOptions{Realm: "r", For: doctor.JobApply}, DoctorDeps{Open: openDoctor(&doctorTarget{missing: true}, nil)})
	if err != nil || res.Report.Unreachable || !res.Report.Failed() || check(t, res.Report, "realm").Status != doctor.Fail {
		t.Errorf("missing realm: %+v, %v", res.Report, err)
	}

	cfg := writeConfig(t, "version: 1\nrealm: from-files\nsettings:\n  codemie: {clientId: codemie-ui}\n")
	var asked dialed
	res, err = Doctor(ctx, DoctorOptions{Paths: []string{cfg}, For: doctor.JobApply}, DoctorDeps{Open: openDoctor(&doctorTarget{}, &asked)})
	if err != nil || asked.realm != "from-files" || asked.codemie.ClientID != "codemie-ui" || res.Realm != "from-files" {
		t.Errorf("with files: dialed %+v, %v", asked, err)
	}

	_, err = Doctor(ctx, DoctorOptions{Paths: []string{writeConfig(t, "nope: 1\n")}, For: doctor.JobApply}, DoctorDeps{})
	if err == nil {
		t.Error("an invalid configuration was checked")
	}
	open := func(context.Context, string, model.CodeMie) (doctor.Target, error) {
		return nil, errors.New("bad CA file")
	}
	_, err = Doctor(ctx, DoctorOptions{Realm: "r", For: doctor.JobApply}, DoctorDeps{Open: open})
	wantErr(t, err, "bad CA file")
}

func TestDoctorOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts DoctorOptions
		want string
	}{
		{DoctorOptions{Realm: "r", For: "audit"}, `unknown job "audit"`},
		{DoctorOptions{Realm: "r", Paths: []string{"a"}, For: doctor.JobPlan}, "--realm applies only without files"},
		{DoctorOptions{For: doctor.JobVerify}, "no realm given"},
	} {
		wantErr(t, tt.opts.Validate(), tt.want)
	}
	if err := (&DoctorOptions{Realm: "r", For: doctor.JobVerify}).Validate(); err != nil {
		t.Error(err)
	}
}
