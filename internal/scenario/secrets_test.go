package scenario

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// secretFile declares users with initial passwords from the environment and from a file, an
// identity provider whose client secret comes from the environment, and, when clash is set, a
// user whose email a user outside the file has (so that its create fails with Keycloak's
// message).
func secretFile(realm string, clash bool) string {
	s := fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ADMIN_EDIT}
identityProviders:
  - alias: entra-id
    tenant: 6a1c5f0e-2b7d-4c1e-9f3a-0d8e7b6c5a41
    clientId: roster-app
    clientSecret: {env: ROSTER_SECRET_IDP_CLIENT}
users:
  - {username: ann, email: ann@example.com, role: developer, projects: {member: [alpha]}, initialPassword: {env: ROSTER_SECRET_ANN_PASSWORD}}
  - {username: ben, email: ben@example.com, role: admin, initialPassword: {file: ben.pw, temporary: false}}
  - {username: cat, role: developer, projects: {member: [alpha]}}
`, realm)
	if clash {
		s += "  - {username: dan, email: zed@example.com, role: developer, projects: {member: [alpha]}, initialPassword: {env: ROSTER_SECRET_ANN_PASSWORD}}\n"
	}
	return s
}

func randomSecret(t *testing.T, prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

// TestSecretsNeverLeak runs every command that handles secrets, in every output format and with
// --verbose, and the error paths that involve them — wrong client secret, wrong administrator
// password, unreachable server, an initial password that is not set, a create Keycloak refuses,
// a stale saved plan — and fails if any known secret appears, as is, URL-encoded or in Basic
// auth's base64, in stdout, stderr or any file roster wrote. To cover a new secret, add it to
// secrets and make a step use it.
func TestSecretsNeverLeak(t *testing.T) {
	realm := scenarioRealm(t, 0, 0)
	if err := realm.SeedUsers(context.Background(), []keycloaktest.User{{Username: "zed", Email: "zed@example.com", Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	r := newRoster(t, realm, realm.Server.URL)
	secrets := map[string]string{
		"client secret":                realm.ClientSecret,
		"administrator password":       realm.Server.AdminPassword,
		"initial password (env)":       randomSecret(t, "ann-pw-"),
		"initial password (file)":      randomSecret(t, "ben-pw-"),
		"identity-provider secret":     randomSecret(t, "idp-secret-"),
		"wrong client secret":          randomSecret(t, "wrong-secret-"),
		"wrong administrator password": randomSecret(t, "wrong-pw-"),
	}
	r.env = append(r.env, "ROSTER_SECRET_ANN_PASSWORD="+secrets["initial password (env)"], "ROSTER_SECRET_IDP_CLIENT="+secrets["identity-provider secret"],
		"ROSTER_SECRETS_DIR=.")
	r.write("ben.pw", secrets["initial password (file)"]+"\n")
	r.write("roster.yaml", secretFile(realm.Name, false))
	r.write("clash.yaml", secretFile(realm.Name, true))
	admin := []string{"KEYCLOAK_CLIENT_ID=", "KEYCLOAK_CLIENT_SECRET=", "KEYCLOAK_USER=" + realm.Server.AdminUser}

	steps := []struct {
		name string
		args []string
		env  []string
		code int
	}{
		{"validate", []string{"validate", "--check-secrets", "roster.yaml"}, nil, 0},
		{"plan text", []string{"plan", "-v", "roster.yaml"}, nil, 0},
		{"plan markdown", []string{"plan", "-v", "--format", "markdown", "roster.yaml"}, nil, 0},
		{"plan json", []string{"plan", "-v", "--format", "json", "roster.yaml"}, nil, 0},
		{"plan as administrator", []string{"plan", "-v", "roster.yaml"}, append(admin, "KEYCLOAK_PASSWORD="+secrets["administrator password"]), 0},
		{"plan --out", []string{"plan", "-v", "--out", "saved.plan", "roster.yaml"}, nil, 0},
		{"apply without the initial password", []string{"apply", "-v", "--auto-approve", "roster.yaml"}, []string{"ROSTER_SECRET_ANN_PASSWORD="}, 1},
		{"apply saved plan, stale", []string{"apply", "-v", "saved.plan"}, nil, 1},
		{"plan --out again", []string{"plan", "-v", "--out", "saved2.plan", "roster.yaml"}, nil, 0},
		{"apply saved plan", []string{"apply", "-v", "saved2.plan"}, nil, 0},
		{"apply refused create", []string{"apply", "-v", "--auto-approve", "clash.yaml"}, nil, 1},
		{"apply json", []string{"apply", "-v", "--auto-approve", "--format", "json", "roster.yaml"}, nil, 0},
		{"export", []string{"export", "-v", "--realm", realm.Name, "--adopt"}, nil, 0},
		{"export --split", []string{"export", "-v", "--realm", realm.Name, "--split", "exported"}, nil, 0},
		{"access --live", []string{"access", "-v", "--live", "--realm", realm.Name}, nil, 0},
		{"doctor", []string{"doctor", "-v", "roster.yaml"}, nil, 1}, // fails: the realm has no token mappers
		{"wrong client secret", []string{"plan", "-v", "roster.yaml"}, []string{"KEYCLOAK_CLIENT_SECRET=" + secrets["wrong client secret"]}, 3},
		{"wrong administrator password", []string{"plan", "-v", "roster.yaml"}, append(admin, "KEYCLOAK_PASSWORD="+secrets["wrong administrator password"]), 3},
		{"unreachable server", []string{"plan", "-v", "--server", "http://127.0.0.1:1", "roster.yaml"}, nil, 3},
	}
	leaks, logged := 0, 0
	for _, s := range steps {
		cmd := r.command(s.args, s.env...)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		_ = cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != s.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", s.name, code, s.code, out.String(), errOut.String())
		}
		for _, l := range strings.Split(errOut.String(), "\n") {
			if strings.HasPrefix(l, "http: ") && !logLine.MatchString(l) {
				t.Errorf("%s: request log line %q is not METHOD PATH STATUS DURATION", s.name, l)
			}
		}
		if strings.Contains(errOut.String(), "http: ") {
			logged++
		} else if s.name != "validate" {
			t.Errorf("%s: no request log on stderr with --verbose:\n%s", s.name, errOut.String())
		}
		leaks += findSecrets(t, s.name+" stdout", out.String(), secrets)
		leaks += findSecrets(t, s.name+" stderr", errOut.String(), secrets)
	}
	files := 0
	err := filepath.WalkDir(r.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "ben.pw" {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		leaks += findSecrets(t, "file "+strings.TrimPrefix(path, r.dir+"/"), string(b), secrets)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("steps: %d (%d with request logs); files checked: %d; secrets: %d; leaked secrets: %d", len(steps), logged, files, len(secrets), leaks)
}

// logLine is a line of --verbose: method, path without query, status or the transport's error,
// and duration.
var logLine = regexp.MustCompile(`^http: (GET|POST|PUT|DELETE) /[^ ?]* (\d{3}|no answer: .+) \d+ms$`)

// findSecrets reports each secret that text holds, in any of the forms it travels in.
func findSecrets(t *testing.T, where, text string, secrets map[string]string) int {
	t.Helper()
	n := 0
	for name, v := range secrets {
		for _, form := range []string{v, url.QueryEscape(v), base64.StdEncoding.EncodeToString([]byte(v))} {
			if strings.Contains(text, form) {
				t.Errorf("%s holds the %s", where, name)
				n++
				break
			}
		}
	}
	return n
}
