package keycloak_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak"
)

// TestOpenRefusesIncompleteConfig: every configuration Open cannot log in with is refused before
// any request, with a message that says what to set.
func TestOpenRefusesIncompleteConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := keycloak.Config{URL: "https://kc.example.com", Realm: "r", ClientID: "roster", ClientSecret: "secret"}
	for _, tc := range []struct {
		change func(*keycloak.Config)
		want   string
	}{
		{func(c *keycloak.Config) { c.URL = "" }, "no Keycloak server given: set --server or KEYCLOAK_URL"},
		{func(c *keycloak.Config) { c.URL = "kc.example.com" },
			`server URL "kc.example.com" has no scheme: set --server or KEYCLOAK_URL to https://kc.example.com (or http://kc.example.com for a server without TLS)`},
		{func(c *keycloak.Config) { c.URL = "ftp://kc.example.com" }, `server URL "ftp://kc.example.com" is not an http(s) URL like https://keycloak.example.com`},
		{func(c *keycloak.Config) { c.Realm = "" }, "no realm given: set realm in the configuration or --realm"},
		{func(c *keycloak.Config) { c.Username, c.Password = "admin", "pw" }, "both a password and a client secret are set: use one kind of credential"},
		{func(c *keycloak.Config) { c.ClientID = "" }, "a client secret needs its client id: set --client-id or KEYCLOAK_CLIENT_ID"},
		{func(c *keycloak.Config) { c.ClientSecret, c.Username = "", "admin" }, "a password login needs both a username and a password"},
		{func(c *keycloak.Config) { c.ClientSecret = "" }, "no credentials given: set KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET " +
			"(service account) or KEYCLOAK_USER and KEYCLOAK_PASSWORD (administrator)"},
		{func(c *keycloak.Config) { c.CAFile = filepath.Join(dir, "missing.pem") },
			"failed to read the CA file: open " + filepath.Join(dir, "missing.pem") + ": no such file or directory"},
		{func(c *keycloak.Config) { c.CAFile = notPEM }, "the CA file " + notPEM + " holds no PEM certificate"},
	} {
		cfg := ok
		tc.change(&cfg)
		_, err := keycloak.Open(cfg)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Open(%+v) = %v\nwant: %s", cfg, err, tc.want)
		}
	}
}

// TestOpenDefaults: a password login goes to master through admin-cli, a service account to its
// own realm, and the identity Keycloak knows each by is lower case.
func TestOpenDefaults(t *testing.T) {
	t.Parallel()
	c, err := keycloak.Open(keycloak.Config{URL: "https://kc.example.com", Realm: "r", Username: "Admin", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Principal(); p != (keycloak.Principal{AuthRealm: "master", Username: "Admin"}) || c.Identity() != "admin" {
		t.Errorf("password login: %+v, identity %q", p, c.Identity())
	}
	c, err = keycloak.Open(keycloak.Config{URL: "https://kc.example.com/", Realm: "r", ClientID: "Roster", ClientSecret: "s", InsecureSkipTLSVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Principal(); p != (keycloak.Principal{AuthRealm: "r", ClientID: "Roster"}) || c.Identity() != "service-account-roster" {
		t.Errorf("service account: %+v, identity %q", p, c.Identity())
	}
	if c.Realm() != "r" || c.URL() != "https://kc.example.com/" || !c.Since().IsZero() {
		t.Errorf("Realm %q, URL %q, Since %v", c.Realm(), c.URL(), c.Since())
	}
}
