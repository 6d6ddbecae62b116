package cli

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/iostreams"
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

// TestFinishWritesOneJSONDocument: an error the command's own JSON document already carries
// (apply's lock lost or not released) is said on stderr, with no failure document after the
// result; an error the command did not report gets the failure document.
func TestFinishWritesOneJSONDocument(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		code     int
		document bool
	}{
		{"in the result", inResult(errors.New("lost the apply lock"), true), ExitError, false},
		{"in the result, unreachable", inResult(&exitError{Code: ExitUnreachable, Err: errors.New("gone")}, true), ExitUnreachable, false},
		{"not reported", errors.New("stale plan"), ExitError, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			cmd := newApplyCmd(ios)
			if err := cmd.Flags().Set("format", "json"); err != nil {
				t.Fatal(err)
			}
			ctx := context.WithValue(context.Background(), reportKey{}, &runReport{})
			if code := finish(ctx, ios, cmd, tc.err); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if got := strings.Contains(out.String(), `"failed": true`); got != tc.document {
				t.Errorf("stdout = %q; want a failure document: %v", out.String(), tc.document)
			}
			if !strings.HasPrefix(errOut.String(), "roster: ") {
				t.Errorf("stderr = %q, want the error", errOut.String())
			}
		})
	}
}
