package operation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloakfake"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

// The tests of export, access, verify, doctor, init and fmt share these stand-ins.

// readAt is the time the tests' clock gives.
var readAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// stoppedClock says it is always readAt.
type stoppedClock struct{ SystemClock }

func (stoppedClock) Now() time.Time { return readAt }

// realmDeps are Deps on r, at readAt, with the diagnostics collected in the list returned.
func realmDeps(r Realm) (Deps, *diag.List) {
	var diags diag.List
	return Deps{
		Dial:        func(context.Context, string, model.CodeMie) (Realm, error) { return r, nil },
		Clock:       stoppedClock{},
		Diagnostics: func(l diag.List) { diags = append(diags, l...) },
		Secrets:     redact.New(),
	}, &diags
}

// failDialer is a Dialer that fails as an unreachable server does.
func failDialer() Dialer {
	return func(context.Context, string, model.CodeMie) (Realm, error) {
		return nil, &keycloak.ConnError{Err: errors.New("connection refused")}
	}
}

// diagText is the diagnostics, one a line.
func diagText(l *diag.List) string {
	var b strings.Builder
	for _, d := range *l {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

// dialFake dials r, recording the realm and CodeMie reading asked for.
func dialFake[C any](r C, asked *dialed) Dial[C] {
	return func(_ context.Context, realm string, cm model.CodeMie) (C, error) {
		if asked != nil {
			asked.realm, asked.codemie = realm, cm
		}
		return r, nil
	}
}

type dialed struct {
	realm   string
	codemie model.CodeMie
}

// failDial is a dial that fails as an unreachable server does.
func failDial[C any]() Dial[C] {
	return func(context.Context, string, model.CodeMie) (C, error) {
		var none C
		return none, &keycloak.ConnError{Err: errors.New("connection refused")}
	}
}

// user is an enabled user of the fake with the given roles and attributes (name, values...).
func user(name string, roles []model.Role, attrs ...[]string) model.LiveUser {
	u := model.LiveUser{ID: "id-" + name, Username: name, Email: name + "@example.com", Enabled: true, Roles: roles,
		Attributes: map[string][]string{}}
	for _, a := range attrs {
		u.Attributes[a[0]] = a[1:]
	}
	return u
}

var (
	admin     = []model.Role{model.RoleAdmin}
	developer = []model.Role{model.RoleDeveloper}
)

// fakeRealm is a realm with an admin, a developer of payments, a user without a role and a
// service account.
func fakeRealm() *keycloakfake.Realm {
	return keycloakfake.New("codemie-test",
		user("alice", admin),
		user("bob", developer, []string{model.AttrApplications, "payments"}),
		user("carol", nil),
		user("service-account-ci", nil),
	)
}

// writeConfig writes a configuration file into a new directory and returns its path.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "roster.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantErr fails unless err's message contains want.
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want one containing %q", err, want)
	}
}
