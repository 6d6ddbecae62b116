package scenario

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// hostileServer logs roster in, then answers the first Admin API request as the answer says,
// over TLS when tls is set. Each answer runs against its own server; none needs Keycloak.
func hostileServer(t *testing.T, tls bool, answer func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/realms/r/protocol/openid-connect/token" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"t","expires_in":300,"token_type":"Bearer"}`)
			return
		}
		answer(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestHostileServer points roster at servers that answer garbage JSON, an HTML error page, a
// truncated body, a redirect to another host or from https to http on the same one: each ends
// in one clear error and its exit code, never a panic, and roster sends nothing where it was
// redirected.
func TestHostileServer(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("roster followed the redirect to another host: %s %s", r.Method, r.URL)
	}))
	t.Cleanup(other.Close)
	for _, tc := range []struct {
		name   string
		tls    bool
		answer func(w http.ResponseWriter, r *http.Request)
		code   int
		stderr string
	}{{
		name: "garbage JSON",
		answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"realm": "r", "enabled": tru`)
		},
		code: 1,
		stderr: "roster: GET /admin/realms/r: the server answered 200 with a body that is not the expected JSON (application/json): invalid character ' ' in literal true (expecting 'e')\n" +
			"roster: hint: check that $SERVER is Keycloak's base URL and that nothing between roster and Keycloak rewrites its answers\n",
	}, {
		name: "HTML error page",
		answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>")
		},
		code:   1,
		stderr: "roster: GET /admin/realms/r: 502 Bad Gateway\n",
	}, {
		name: "HTML instead of JSON",
		answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Sign in</body></html>")
		},
		code: 1,
		stderr: "roster: GET /admin/realms/r: the server answered 200 with a body that is not the expected JSON (text/html): invalid character '<' looking for beginning of value\n" +
			"roster: hint: check that $SERVER is Keycloak's base URL and that nothing between roster and Keycloak rewrites its answers\n",
	}, {
		name: "truncated body",
		answer: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "100")
			fmt.Fprint(w, `{"realm": "r", "ena`)
		},
		code:   3,
		stderr: "roster: failed to reach $SERVER (GET /admin/realms/r): the answer broke off before its end (unexpected EOF)\n",
	}, {
		name: "redirect to another host",
		answer: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusMovedPermanently)
		},
		code: 3,
		stderr: "roster: failed to reach $SERVER (GET /admin/realms/r): refusing to follow a redirect from $SERVER to $OTHER: " +
			"roster sends its credentials only to the server it was given; point roster at the address the server redirects to, if that is the server\n",
	}, {
		name: "redirect from https to http on the same host",
		tls:  true,
		answer: func(w http.ResponseWriter, r *http.Request) {
			if r.TLS == nil {
				t.Errorf("roster followed the redirect to http: %s %s", r.Method, r.URL)
			}
			http.Redirect(w, r, "http://"+r.Host+r.URL.Path, http.StatusFound)
		},
		code: 3,
		stderr: "roster: failed to reach $SERVER (GET /admin/realms/r): refusing to follow a redirect from $SERVER to http://$SERVER_HOST: " +
			"roster sends its credentials only to the server it was given; point roster at the address the server redirects to, if that is the server\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := hostileServer(t, tc.tls, tc.answer)
			r := &roster{t: t, bin: rosterBin(t), dir: t.TempDir(), env: []string{
				"KEYCLOAK_URL=" + srv.URL, "KEYCLOAK_CLIENT_ID=roster", "KEYCLOAK_CLIENT_SECRET=x"}}
			r.write("roster.yaml", "version: 1\nrealm: r\nusers: []\n")
			stdout, stderr, code := r.run("plan", "--insecure-skip-tls-verify", "roster.yaml")
			host := srv.Listener.Addr().String()
			stderr = strings.ReplaceAll(stderr, srv.URL, "$SERVER")
			stderr = strings.ReplaceAll(stderr, other.URL, "$OTHER")
			stderr = strings.ReplaceAll(stderr, host, "$SERVER_HOST")
			if code != tc.code || stdout != "" || stderr != tc.stderr {
				t.Errorf("exit %d, stdout %q, stderr:\n%s\nwant exit %d, stderr:\n%s", code, stdout, stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestPlanRefusesAnEmptyListing puts a proxy in front of the real server that answers the user
// listing with an empty list and 200, as a misconfigured gateway or an account limited to
// query-users might: plan must refuse, exit 1, say why and name the likely causes, instead of
// planning to create every declared user.
func TestPlanRefusesAnEmptyListing(t *testing.T) {
	realm := scenarioRealm(t, 5, 0)
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	proxy.Tamper(http.MethodGet, "/admin/realms/"+realm.Name+"/users", 100, func([]byte) []byte { return []byte("[]") })
	r := newRoster(t, realm, proxy.URL)
	r.write("roster.yaml", fmt.Sprintf("version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n  - {username: o000, role: developer, projects: {member: [proj0]}}\n", realm.Name))
	out, errOut, code := r.run("plan", "roster.yaml")
	want := fmt.Sprintf(`roster: failed to read realm %[1]q: the listing GET /users of realm %[1]q cannot be trusted: user "o000" holds realm role developer but is not in the user listing
roster: hint: a proxy or gateway between roster and Keycloak may shorten or page answers its own way: point roster at Keycloak directly
roster: hint: the account roster logs in with may see only some users (query-users instead of view-users, or fine-grained permissions): `+"`roster doctor`"+` checks its roles
roster: hint: roster plans nothing from a partial listing: it would create users that exist and overlook users it should change
`, realm.Name)
	if code != 1 || out != "" || errOut != want {
		t.Errorf("plan: exit %d, want 1\nstdout:\n%s\nstderr:\n%s\nwant stderr:\n%s", code, out, errOut, want)
	}
}
