package scenario

import (
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSVerifiedByDefault puts Keycloak behind a TLS server whose certificate no system trusts:
// roster refuses it (exit 3) with a hint to pass --ca-file, and trusts it with that file.
func TestTLSVerifiedByDefault(t *testing.T) {
	realm := scenarioRealm(t, 0, 0)
	target, err := url.Parse(realm.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	r := newRoster(t, realm, srv.URL)
	r.write("roster.yaml", "version: 1\nrealm: "+realm.Name+"\nusers: []\n")

	stdout, stderr, code := r.run("plan", "roster.yaml")
	want := "roster: failed to reach " + srv.URL + `: Post "` + srv.URL + "/realms/" + realm.Name +
		`/protocol/openid-connect/token": tls: failed to verify certificate: x509: certificate signed by unknown authority` + "\n" +
		"roster: hint: roster verifies the server's TLS certificate: if a private CA signed it, pass that CA's PEM file with --ca-file\n"
	if code != 3 || stdout != "" || stderr != want {
		t.Errorf("plan against an untrusted certificate: exit %d\nstdout: %s\nstderr:\n%s\nwant:\n%s", code, stdout, stderr, want)
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = r.run("plan", "--ca-file", ca, "roster.yaml")
	if code != 0 || !strings.HasSuffix(stdout, "No changes. The realm matches the configuration.\n") {
		t.Errorf("plan with --ca-file: exit %d\n%s%s", code, stdout, stderr)
	}
}
