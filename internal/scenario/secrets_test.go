package scenario

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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
// password, unreachable server, an initial password that is not set, a create the plan refuses,
// a stale saved plan — and fails if any known secret appears, as is, URL-encoded or in Basic
// auth's base64, in stdout, stderr or any file roster wrote. To cover a new secret, add it to
// secrets and make a step use it.
//
// Some steps go through a proxy in front of the real server that plays a hostile or broken
// one: error pages that echo the request roster sent (its Authorization header — Basic
// credentials or the access token —, the login form with the administrator password, the
// bodies that carry initial passwords and the identity provider's client secret), redirects to
// another host and from http to https, and a server URL with credentials in it. Every access
// token an echo page receives joins the secrets. The files roster writes over existing ones
// readable by everyone end up readable by their owner only.
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
		"password in the server URL":   randomSecret(t, "url-pw-"),
	}
	// What the Authorization header of a client-credentials login carries.
	secrets["client's Basic credentials"] = base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(realm.ClientID) + ":" + url.QueryEscape(realm.ClientSecret)))
	r.env = append(r.env, "ROSTER_SECRET_ANN_PASSWORD="+secrets["initial password (env)"], "ROSTER_SECRET_IDP_CLIENT="+secrets["identity-provider secret"],
		"ROSTER_SECRETS_DIR=.")
	r.write("ben.pw", secrets["initial password (file)"]+"\n")
	r.write("roster.yaml", secretFile(realm.Name, false))
	r.write("clash.yaml", secretFile(realm.Name, true))
	for _, name := range []string{"saved.plan", "export.yaml"} {
		r.write(name, "an older file, readable by everyone\n")
		if err := os.Chmod(filepath.Join(r.dir, name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	admin := []string{"KEYCLOAK_CLIENT_ID=", "KEYCLOAK_CLIENT_SECRET=", "KEYCLOAK_USER=" + realm.Server.AdminUser}

	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	viaProxy := "KEYCLOAK_URL=" + proxy.URL
	var tokensMu sync.Mutex
	tokens := 0
	echo := func(w http.ResponseWriter, req *http.Request) {
		if token, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
			tokensMu.Lock()
			tokens++
			secrets[fmt.Sprintf("access token %d", tokens)] = token
			tokensMu.Unlock()
		}
		echoRequest(w, req)
	}
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		t.Errorf("roster followed a redirect to another host: %s %s (Authorization %q)", req.Method, req.URL, req.Header.Get("Authorization"))
	}))
	t.Cleanup(elsewhere.Close)
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, req *http.Request) {
			http.Redirect(w, req, to+req.URL.Path, http.StatusTemporaryRedirect)
		}
	}
	tokenPath := func(realm string) string { return "/realms/" + realm + "/protocol/openid-connect/token" }
	admin2 := "/admin/realms/" + realm.Name
	urlWithPassword := strings.Replace(realm.Server.URL, "://", "://roster:"+secrets["password in the server URL"]+"@", 1)

	steps := []struct {
		name   string
		args   []string
		env    []string
		code   int
		setup  func()
		stderr string // a line stderr must hold
		local  bool   // ends before any request
	}{
		{name: "validate", args: []string{"validate", "--check-secrets", "roster.yaml"}, local: true},
		{name: "plan text", args: []string{"plan", "-v", "roster.yaml"}},
		{name: "plan markdown", args: []string{"plan", "-v", "--format", "markdown", "roster.yaml"}},
		{name: "plan json", args: []string{"plan", "-v", "--format", "json", "roster.yaml"}},
		{name: "plan as administrator", args: []string{"plan", "-v", "roster.yaml"}, env: append(admin, "KEYCLOAK_PASSWORD="+secrets["administrator password"])},
		{name: "plan --out over a file readable by everyone", args: []string{"plan", "-v", "--out", "saved.plan", "roster.yaml"}},
		{name: "login error page echoing the client credentials", args: []string{"plan", "-v", "roster.yaml"}, env: []string{viaProxy}, code: 3,
			setup: func() { proxy.Answer("POST", tokenPath(realm.Name), 1, echo) }},
		{name: "login error page echoing the administrator password", args: []string{"plan", "-v", "roster.yaml"}, code: 3,
			env:   append(admin, "KEYCLOAK_PASSWORD="+secrets["administrator password"], viaProxy),
			setup: func() { proxy.Answer("POST", tokenPath("master"), 1, echo) }},
		{name: "error page echoing the access token", args: []string{"plan", "-v", "roster.yaml"}, env: []string{viaProxy}, code: 1,
			setup: func() { proxy.Answer("GET", admin2, 1, echo) }},
		{name: "error pages echoing initial passwords and the identity provider's secret", args: []string{"apply", "-v", "--auto-approve", "roster.yaml"},
			env: []string{viaProxy}, code: 1,
			setup: func() {
				proxy.Answer("POST", admin2+"/users", 3, echo) // ann, ben and cat, in any order
				proxy.Answer("POST", admin2+"/identity-provider/instances", 1, echo)
			}},
		{name: "login redirected to another host", args: []string{"plan", "-v", "roster.yaml"}, env: []string{viaProxy}, code: 3,
			setup:  func() { proxy.Answer("POST", tokenPath(realm.Name), 1, redirect(elsewhere.URL)) },
			stderr: "refusing to follow a redirect from " + proxy.URL + " to " + elsewhere.URL},
		{name: "request redirected from http to https", args: []string{"plan", "-v", "roster.yaml"}, env: []string{viaProxy}, code: 3,
			setup:  func() { proxy.Answer("GET", admin2, 1, redirect(strings.Replace(proxy.URL, "http:", "https:", 1))) },
			stderr: "refusing to follow a redirect from " + proxy.URL + " to " + strings.Replace(proxy.URL, "http:", "https:", 1)},
		{name: "credentials in the server URL", args: []string{"plan", "-v", "--out", "url.plan", "roster.yaml"}, env: []string{"KEYCLOAK_URL=" + urlWithPassword}, code: 1, local: true,
			stderr: "roster: the server URL carries credentials (user:password@ before " + realm.Server.URL + "): roster does not use them"},
		{name: "apply without the initial password", args: []string{"apply", "-v", "--auto-approve", "roster.yaml"}, env: []string{"ROSTER_SECRET_ANN_PASSWORD="}, code: 1},
		{name: "apply saved plan, stale", args: []string{"apply", "-v", "saved.plan"}, code: 1,
			setup: func() { // apply reads its secrets before writing: the realm changes here instead
				if err := realm.SeedUsers(context.Background(), []keycloaktest.User{{Username: "yan", Enabled: true}}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "plan --out again", args: []string{"plan", "-v", "--out", "saved2.plan", "roster.yaml"}},
		{name: "apply saved plan", args: []string{"apply", "-v", "saved2.plan"}},
		{name: "apply refused create", args: []string{"apply", "-v", "--auto-approve", "clash.yaml"}, code: 1},
		{name: "apply json", args: []string{"apply", "-v", "--auto-approve", "--format", "json", "roster.yaml"}},
		{name: "export", args: []string{"export", "-v", "--realm", realm.Name, "--adopt"}},
		{name: "export --out over a file readable by everyone", args: []string{"export", "-v", "--realm", realm.Name, "--out", "export.yaml"}},
		{name: "export --split", args: []string{"export", "-v", "--realm", realm.Name, "--split", "exported"}},
		{name: "access --live", args: []string{"access", "-v", "--live", "--realm", realm.Name}},
		{name: "doctor", args: []string{"doctor", "-v", "roster.yaml"}}, // CodeMie's client and its mappers are in place
		{name: "init", args: []string{"init", "-v", "--realm", realm.Name, "--secrets-dir", "init", "--ci", "gitlab"},
			env: append(admin, "KEYCLOAK_PASSWORD="+secrets["administrator password"])},
		{name: "wrong client secret", args: []string{"plan", "-v", "roster.yaml"}, env: []string{"KEYCLOAK_CLIENT_SECRET=" + secrets["wrong client secret"]}, code: 3},
		{name: "wrong administrator password", args: []string{"plan", "-v", "roster.yaml"}, env: append(admin, "KEYCLOAK_PASSWORD="+secrets["wrong administrator password"]), code: 3},
		{name: "unreachable server", args: []string{"plan", "-v", "--server", "http://127.0.0.1:1", "roster.yaml"}, code: 3},
	}
	leaks, logged := 0, 0
	for _, s := range steps {
		if s.setup != nil {
			s.setup()
		}
		cmd := r.command(s.args, s.env...)
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		_ = cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != s.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", s.name, code, s.code, out.String(), errOut.String())
		}
		if s.stderr != "" && !strings.Contains(errOut.String(), s.stderr) {
			t.Errorf("%s: stderr does not say %q:\n%s", s.name, s.stderr, errOut.String())
		}
		for _, l := range strings.Split(errOut.String(), "\n") {
			if strings.HasPrefix(l, "http: ") && !logLine.MatchString(l) {
				t.Errorf("%s: request log line %q is not METHOD PATH STATUS DURATION", s.name, l)
			}
		}
		if strings.Contains(errOut.String(), "http: ") {
			logged++
		} else if !s.local {
			t.Errorf("%s: no request log on stderr with --verbose:\n%s", s.name, errOut.String())
		}
		if os.Getenv("DEBUG_STEPS") != "" {
			t.Logf("%s:\n%s%s", s.name, out.String(), errOut.String())
		}
		tokensMu.Lock() // the echo pages add tokens
		leaks += findSecrets(t, s.name+" stdout", out.String(), secrets)
		leaks += findSecrets(t, s.name+" stderr", errOut.String(), secrets)
		tokensMu.Unlock()
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
		tokensMu.Lock()
		leaks += findSecrets(t, "file "+strings.TrimPrefix(path, r.dir+"/"), string(b), secrets)
		tokensMu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"saved.plan", "saved2.plan", "export.yaml", "exported/realm.yaml"} {
		if info, err := os.Stat(filepath.Join(r.dir, name)); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, want a file readable by its owner only (-rw-------)", name, describeMode(info, err))
		}
	}
	if _, err := os.Stat(filepath.Join(r.dir, "url.plan")); err == nil {
		t.Errorf("url.plan was written despite the credentials in the server URL")
	}
	if tokens == 0 {
		t.Errorf("no echo page saw an access token")
	}
	t.Logf("steps: %d (%d with request logs); files checked: %d; secrets: %d (%d access tokens); leaked secrets: %d",
		len(steps), logged, files, len(secrets), tokens, leaks)
}

func describeMode(info fs.FileInfo, err error) string {
	if err != nil {
		return err.Error()
	}
	return info.Mode().String()
}

// echoRequest answers 400 with an error body, in both of Keycloak's error shapes, that repeats
// the whole request: method, URL, every header and the body — as some proxies and servers'
// debug pages do.
func echoRequest(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var headers strings.Builder
	_ = req.Header.Write(&headers)
	echoed := fmt.Sprintf("cannot handle %s %s\n%s\n%s", req.Method, req.URL, headers.String(), body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": echoed, "errorMessage": echoed})
}

// logLine is a line of --verbose: method, path without query, status or the transport's error,
// and duration.
var logLine = regexp.MustCompile(`^http: ((GET|POST|PUT|DELETE) /[^ ?]* (\d{3} \d+ms \(headers \d+ms, body \d+ bytes(, broke off: .+)?\)|no answer: .+ \d+ms)|retry (GET|POST|PUT|DELETE) /[^ ?]*: attempt \d of \d in \d+ms, after (\d{3} .+|no answer))$`)

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
