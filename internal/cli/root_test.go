package cli

import (
	"testing"

	"github.com/rosterhq/roster/internal/redact"
)

// TestRegisterSecrets: the credentials, a password in the server URL and every secret exposed
// to configurations are masked from the start, before any command reads them.
func TestRegisterSecrets(t *testing.T) {
	t.Setenv("KEYCLOAK_CLIENT_SECRET", "client-secret-1")
	t.Setenv("KEYCLOAK_PASSWORD", "admin-password-2")
	t.Setenv("KEYCLOAK_URL", "https://roster:url-password-3@kc.example.com")
	t.Setenv("ROSTER_SECRET_ENTRA", "entra-secret-4")
	t.Setenv("ROSTER_SECRETS_DIR", "/run/secrets")
	s := redact.New()
	registerSecrets(s)
	got := s.String("client-secret-1 admin-password-2 url-password-3 entra-secret-4 /run/secrets")
	if want := "*** *** *** *** /run/secrets"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
