package scenario

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// endlessCap is where the endless answer gives up after all, so that a roster that reads without
// limit fails this test instead of exhausting the machine.
const endlessCap = 512 << 20

// endless answers 200 with a JSON array that never ends (up to endlessCap), as a broken proxy
// or a hostile server might.
func endless(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	chunk := []byte(strings.Repeat(`{"id":"x","username":"x"},`, 2520)) // 64 KiB
	w.Write([]byte("["))
	for sent := 0; sent < endlessCap; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return // roster hung up
		}
	}
}

// TestEndlessAnswers answers a page of the user listing, and the login, with an endless body,
// through the fault proxy in front of the real server: roster must stop reading at its limit,
// say why, and exit 1 — not grow until the process dies with exit 2, which plan
// --detailed-exitcode would report as changes. It checks the time and the peak memory the
// process took.
func TestEndlessAnswers(t *testing.T) {
	realm := scenarioRealm(t, 0, 0)
	for _, tc := range []struct {
		name, method, path string
		stderr             string
	}{{
		name: "users page", method: "GET", path: "/admin/realms/" + realm.Name + "/users",
		stderr: "roster: failed to read realm \"$REALM\": GET /users?briefRepresentation=false&first=0&max=500: the answer is larger than 64 MiB, more than Keycloak ever sends; roster stopped reading it\n" +
			"roster: hint: check that the server URL points at Keycloak and that nothing between roster and Keycloak rewrites its answers\n",
	}, {
		name: "login", method: "POST", path: "/realms/" + realm.Name + "/protocol/openid-connect/token",
		stderr: "roster: failed to log in to realm \"$REALM\": the answer is larger than 64 MiB, more than Keycloak ever sends; roster stopped reading it\n" +
			"roster: hint: check that the server URL points at Keycloak and that nothing between roster and Keycloak rewrites its answers\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := keycloaktest.NewFaultProxy(t, realm.Server)
			proxy.Answer(tc.method, tc.path, 5, endless)
			r := newRoster(t, realm, proxy.URL)
			r.write("roster.yaml", fmt.Sprintf("version: 1\nrealm: %s\nusers: []\n", realm.Name))
			start := time.Now()
			stdout, stderr, code := r.run("plan", "--detailed-exitcode", "roster.yaml")
			took := time.Since(start)
			stderr = strings.ReplaceAll(stderr, realm.Name, "$REALM")
			if code != 1 || stdout != "" || stderr != tc.stderr {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit 1, stderr:\n%s", code, stdout, stderr, tc.stderr)
			}
			rss := r.lastMaxRSS
			if rss > 256<<20 || took > 30*time.Second {
				t.Errorf("took %s and %d MiB at the peak; want at most 30s and 256 MiB", took.Round(time.Millisecond), rss>>20)
			}
			if n := proxy.Seen(tc.method, tc.path); n != 1 {
				t.Errorf("roster asked %d times, want once: a too large answer is not worth repeating", n)
			}
			t.Logf("endless %s: exit %d after %s, peak memory %d MiB", tc.name, code, took.Round(time.Millisecond), rss>>20)
		})
	}
}
