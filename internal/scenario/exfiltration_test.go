package scenario

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// tokenStandIn is the token endpoint a hostile configuration points an identity provider at: an
// HTTP server on loopback that records every request Keycloak sends it and passes it on to the
// real token endpoint, so that a sign-in through it completes.
type tokenStandIn struct {
	*httptest.Server
	mu       sync.Mutex
	requests []url.Values // the form of each request
	raw      []string     // each request as received: method, URL, headers, body
}

func newTokenStandIn(t *testing.T, target string) *tokenStandIn {
	s := &tokenStandIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var head bytes.Buffer
		r.Header.Write(&head)
		form, _ := url.ParseQuery(string(body))
		s.mu.Lock()
		s.requests = append(s.requests, form)
		s.raw = append(s.raw, fmt.Sprintf("%s %s\n%s\n%s", r.Method, r.URL, head.String(), body))
		s.mu.Unlock()
		req, err := http.NewRequestWithContext(r.Context(), r.Method, target, bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(s.Close)
	return s
}

// received returns what the stand-in recorded so far.
func (s *tokenStandIn) received() ([]url.Values, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.requests...), append([]string(nil), s.raw...)
}

// TestNoSecretLeavesThroughAnIdentityProvider is the exfiltration a hostile pull request would
// try: identity providers whose token URL is a stand-in on loopback, each with a client secret
// naming something the operator never exposed — roster's own credential, another variable of the
// job, a file outside the secrets directory (../, an absolute path, a link). roster apply must
// refuse each before writing anything, so that a brokered sign-in through the provider sends the
// stand-in nothing; then a provider using the secret the operator did expose (a ROSTER_SECRET_
// variable) is applied, a brokered sign-in goes through the stand-in, and that secret — and
// nothing of roster's credential or the job's environment — is what Keycloak sent.
func TestNoSecretLeavesThroughAnIdentityProvider(t *testing.T) {
	realm := scenarioRealm(t, 0, 0)
	ctx := context.Background()
	allowed := randomSecret(t, "broker-secret-")
	_, issuer := keycloaktest.NewBroker(t, realm, allowed, nil)
	oidc := issuer + "/protocol/openid-connect"
	standIn := newTokenStandIn(t, oidc+"/token")

	r := newRoster(t, realm, realm.Server.URL)
	jobToken := randomSecret(t, "ci-job-token-")
	environ := randomSecret(t, "environment-dump-")
	r.env = append(r.env, "ROSTER_SECRET_BROKER="+allowed, "CI_JOB_TOKEN="+jobToken, "ROSTER_SECRETS_DIR=secrets")
	for _, dir := range []string{"secrets", "outside"} {
		if err := os.Mkdir(filepath.Join(r.dir, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	r.write("outside/environ", "CI_JOB_TOKEN="+jobToken+"\x00KEYCLOAK_CLIENT_SECRET="+realm.ClientSecret+"\x00"+environ+"\n")
	if err := os.Symlink("../outside/environ", filepath.Join(r.dir, "secrets", "environ")); err != nil {
		t.Fatal(err)
	}
	leaks := map[string]string{"roster's client secret": realm.ClientSecret, "the job's CI_JOB_TOKEN": jobToken,
		"the file outside the secrets directory": environ}

	provider := func(alias, ref string) string {
		return fmt.Sprintf(`version: 1
realm: %s
identityProviders:
  - alias: %s
    issuer: %s
    authorizationUrl: %s/auth
    tokenUrl: %s/token
    jwksUrl: %s/certs
    clientId: codemie-broker
    clientSecret: %s
`, realm.Name, alias, issuer, oidc, standIn.URL, oidc, ref)
	}
	for i, ref := range []string{
		"{env: KEYCLOAK_CLIENT_SECRET}",
		"{env: CI_JOB_TOKEN}",
		"{file: ../outside/environ}",
		"{file: " + filepath.Join(r.dir, "outside", "environ") + "}",
		"{file: environ}",
	} {
		alias := fmt.Sprintf("hostile-%d", i)
		r.write("hostile.yaml", provider(alias, ref))
		stdout, stderr, code := r.run("apply", "--auto-approve", "hostile.yaml")
		if code != 1 || !strings.Contains(stderr, "hostile.yaml:10:") || !strings.Contains(stderr, "the configuration is not valid") {
			t.Errorf("apply with clientSecret %s: exit %d, want 1 with the reference refused at hostile.yaml:10\nstdout:\n%s\nstderr:\n%s", ref, code, stdout, stderr)
		}
		// Were the provider there, this sign-in would make Keycloak post its secret to the stand-in.
		if err := realm.BrokeredSignIn(ctx, "codemie-e2e", alias, "ent", "Up-pa55"); err == nil {
			t.Errorf("a brokered sign-in through %s (clientSecret %s) succeeded: the provider was created", alias, ref)
		}
	}
	if forms, _ := standIn.received(); len(forms) != 0 {
		t.Errorf("the stand-in received %d requests from refused configurations", len(forms))
	}

	r.write("roster.yaml", provider("entra-id", "{env: ROSTER_SECRET_BROKER}"))
	if stdout, stderr, code := r.run("apply", "--auto-approve", "roster.yaml"); code != 0 {
		t.Fatalf("apply with the exposed secret: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if err := realm.BrokeredSignIn(ctx, "codemie-e2e", "entra-id", "ent", "Up-pa55"); err != nil {
		t.Fatalf("brokered sign-in with the exposed secret: %v", err)
	}
	forms, raw := standIn.received()
	if len(forms) == 0 {
		t.Fatal("the sign-in did not reach the stand-in token endpoint")
	}
	for i, f := range forms {
		if got := f.Get("client_secret"); got != allowed {
			t.Errorf("token request %d carried client_secret %q, want the exposed ROSTER_SECRET_BROKER", i, got)
		}
	}
	for _, req := range raw {
		for what, v := range leaks {
			if strings.Contains(req, v) || strings.Contains(req, url.QueryEscape(v)) {
				t.Errorf("the stand-in received %s:\n%s", what, req)
			}
		}
	}
}
