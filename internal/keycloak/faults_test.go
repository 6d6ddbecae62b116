package keycloak_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

// The tests in this file put faults — what a real server cannot be made to do on demand — in
// front of the replayed Keycloak answers: refusals to serve (429, 503), broken connections,
// slow answers, hostile answers, listings that contradict themselves.

const (
	realmKey = "GET /admin/realms/fixture"
	loginKey = "POST /realms/fixture/protocol/openid-connect/token"
	rolesKey = "POST /admin/realms/fixture/roles"
	usersKey = "POST /admin/realms/fixture/users"
)

func status(code int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

// reset closes the connection without an answer.
func reset(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// offline is the env of a test that runs in parallel with others against the replay of the
// named fixture, and that replay.
func offline(t *testing.T, name string) (*env, *replay) {
	t.Parallel()
	e := replayEnv(t, name)
	return e, e.replay
}

// TestRetryOffline: a read is sent again after 503, 429, a reset connection and an answer that
// does not come within the timeout, up to five attempts in all, waiting as long as Retry-After
// says; the -v log names each retry.
func TestRetryOffline(t *testing.T) {
	e, r := offline(t, "login")
	var log strings.Builder // redact.Writer serialises the writes
	c := e.mustDial(func(cfg *keycloak.Config) {
		cfg.Log = redact.NewWriter(redact.New(), &log)
		// Long enough for any replayed answer on a loaded machine: an attempt that times out
		// by accident is one attempt more than the test counts.
		cfg.Timeout = 3 * time.Second
	})
	read := func(faults ...http.HandlerFunc) (int, time.Duration, error) {
		before := r.count(realmKey)
		for _, f := range faults {
			r.fault(realmKey, 1, f)
		}
		start := time.Now()
		_, err := c.ReadRealm(e.ctx)
		return r.count(realmKey) - before, time.Since(start), err
	}

	if n, _, err := read(status(503), status(503)); err != nil || n != 3 {
		t.Errorf("after two 503: %d attempts, %v; want 3 and success", n, err)
	}
	if n, took, err := read(status(429, "Retry-After", "1")); err != nil || n != 2 || took < time.Second {
		t.Errorf("after 429 with Retry-After 1: %d attempts in %v, %v; want 2, a second apart", n, took, err)
	}
	if n, _, err := read(reset); err != nil || n != 2 {
		t.Errorf("after a reset connection: %d attempts, %v; want 2 and success", n, err)
	}
	slow := func(w http.ResponseWriter, req *http.Request) { <-req.Context().Done() }
	if n, _, err := read(slow); err != nil || n != 2 {
		t.Errorf("after an answer slower than the timeout: %d attempts, %v; want 2 and success", n, err)
	}
	n, _, err := read(status(503), status(503), status(503), status(503), status(503))
	e.wantError(err, "GET /admin/realms/fixture: 503 Service Unavailable")
	if n != 5 {
		t.Errorf("a server that keeps answering 503 got %d attempts, want 5", n)
	}
	for _, want := range []string{
		`http: retry GET /admin/realms/fixture: attempt 2 of 5 in 1000ms, after 429 Too Many Requests`,
		`http: retry GET /admin/realms/fixture: attempt 5 of 5 in \d+ms, after 503 Service Unavailable`,
		`http: retry GET /admin/realms/fixture: attempt 2 of 5 in \d+ms, after no answer`,
		`http: GET /admin/realms/fixture 200 \d+ms \(headers \d+ms, body \d+ bytes\)`,
		`http: POST /realms/fixture/protocol/openid-connect/token 200 \d+ms`,
	} {
		if !regexp.MustCompile(`(?m)^` + want).MatchString(log.String()) {
			t.Errorf("no line %q in the log:\n%s", want, log.String())
		}
	}
}

// TestTimeoutNamesTheFlag: a read whose every attempt outlasts the timeout fails with a hint that
// names --timeout and the limit that passed, since a large realm read cold legitimately can.
func TestTimeoutNamesTheFlag(t *testing.T) {
	e, r := offline(t, "login")
	// Long enough for the replayed login on a loaded machine; only the realm's answers are slow.
	c := e.mustDial(func(cfg *keycloak.Config) { cfg.Timeout = 2 * time.Second })
	slow := func(w http.ResponseWriter, req *http.Request) { <-req.Context().Done() }
	r.fault(realmKey, 5, slow)
	_, err := c.ReadRealm(e.ctx)
	var conn *keycloak.ConnError
	if !errors.As(err, &conn) || !strings.HasSuffix(conn.Op, "(GET /admin/realms/fixture)") {
		t.Fatalf("ReadRealm = %v (%T), want a *keycloak.ConnError for GET /admin/realms/fixture", err, err)
	}
	want := []string{"Keycloak sent no whole answer within 2s, the time a request may take (--timeout): " +
		"a realm of many users read while Keycloak's cache does not hold them can take longer, " +
		"so raise it, for instance to --timeout 2m; otherwise check whether Keycloak is overloaded"}
	if diff := cmp.Diff(want, conn.Hints()); diff != "" {
		t.Errorf("hints (-want +got):\n%s", diff)
	}
	if n := r.count(realmKey); n != 5 {
		t.Errorf("a server that never answers in time got %d attempts, want 5", n)
	}
}

// TestWritesAreNotRepeatedOffline: a create is sent again only after an answer by which the
// server says it did not carry it out (429, 503); after any other failure it may have taken
// effect, and a user's create is repeated only when a lookup proves it did not.
func TestWritesAreNotRepeatedOffline(t *testing.T) {
	e, r := offline(t, "answers")
	c := e.mustDial(nil)

	r.fault(rolesKey, 1, status(502))
	err := c.CreateRole(e.ctx, model.RealmRole{Name: "fixture-role", Description: "made twice"})
	e.wantError(err, "POST /roles: 502 Bad Gateway")
	if n := r.count(rolesKey); n != 1 {
		t.Errorf("a create answered 502 was sent %d times, want once", n)
	}
	r.fault(rolesKey, 1, status(503))
	r.fault(rolesKey, 1, status(429))
	if err := c.CreateRole(e.ctx, model.RealmRole{Name: "fixture-role", Description: "made twice"}); err != nil {
		t.Errorf("CreateRole after 503 and 429: %v", err)
	}
	if n := r.count(rolesKey); n != 4 {
		t.Errorf("a create answered 503 and 429 was sent %d times in all, want 4", n)
	}

	// The lookup finds no user "ann" (the answer Keycloak gives a search that matches no one):
	// the create is sent again.
	lookup := "GET /admin/realms/fixture/users?briefRepresentation=false&exact=true&username=ann"
	r.fault(lookup, 1, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, "[]")
	})
	r.fault(usersKey, 1, reset)
	if _, err := c.CreateUser(e.ctx, model.NewUser{Username: "ann", Email: "ann@example.com", Enabled: true}); err != nil {
		t.Errorf("CreateUser after a reset: %v", err)
	}
	if n := r.count(usersKey); n != 2 || r.count(lookup) != 1 {
		t.Errorf("create sent %d times with %d lookups, want 2 and 1", n, r.count(lookup))
	}
}

// TestHostileAnswersOffline: an answer too large, a token answer that is not JSON, a redirect to
// another server: each is one clear error, and none is tried again.
func TestHostileAnswersOffline(t *testing.T) {
	e, r := offline(t, "login")
	huge := status(200, "Content-Type", "application/json", "Content-Length", fmt.Sprint(65<<20))

	r.fault(loginKey, 1, huge)
	_, err := e.dial(nil)
	e.wantError(err, `failed to log in to realm "fixture": the answer is larger than 64 MiB, more than Keycloak ever sends; roster stopped reading it`,
		"check that the server URL points at Keycloak and that nothing between roster and Keycloak rewrites its answers")

	r.fault(loginKey, 1, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>Sign in</html>")
	})
	_, err = e.dial(nil)
	e.wantError(err, `failed to log in to realm "fixture": POST /realms/fixture/protocol/openid-connect/token: the server answered 200 `+
		`with a body that is not the expected JSON (text/html): invalid character '<' looking for beginning of value`,
		"check that "+r.URL+" is Keycloak's base URL and that nothing between roster and Keycloak rewrites its answers")
	if n := r.count(loginKey); n != 2 {
		t.Errorf("%d logins, want 2: neither failure is tried again", n)
	}

	c := e.mustDial(nil)
	r.fault(realmKey, 1, huge)
	_, err = c.ReadRealm(e.ctx)
	e.wantError(err, "GET /admin/realms/fixture: the answer is larger than 64 MiB, more than Keycloak ever sends; roster stopped reading it",
		"check that the server URL points at Keycloak and that nothing between roster and Keycloak rewrites its answers")

	r.fault(realmKey, 1, func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, "http://elsewhere.example"+req.URL.Path, http.StatusFound)
	})
	_, err = c.ReadRealm(e.ctx)
	e.wantError(err, "failed to reach "+r.URL+" (GET /admin/realms/fixture): refusing to follow a redirect from "+r.URL+
		" to http://elsewhere.example: roster sends its credentials only to the server it was given; "+
		"point roster at the address the server redirects to, if that is the server")
	if n := r.count(realmKey); n != 2 {
		t.Errorf("%d reads, want 2: neither failure is tried again", n)
	}
}

// TestLoginRetriesOffline: a login is repeated after 503 and a reset, up to five attempts, and
// a server that never answers is named with the fix.
func TestLoginRetriesOffline(t *testing.T) {
	e, r := offline(t, "login-refused")
	r.fault(loginKey, 1, status(503))
	r.fault(loginKey, 1, reset)
	_, err := e.dial(nil)
	e.wantError(err, `failed to log in to realm "fixture" as client "roster": 401 Unauthorized: unauthorized_client: Invalid client or Invalid client credentials`,
		"check the credentials, and that the login realm is right (--auth-realm)")
	if n := r.count(loginKey); n != 3 {
		t.Errorf("%d login attempts, want 3: 503, reset, then the refusal", n)
	}
	r.fault(loginKey, 5, status(503))
	_, err = e.dial(nil)
	e.wantError(err, `failed to log in to realm "fixture" as client "roster": 503 Service Unavailable`)
	if n := r.count(loginKey); n != 8 {
		t.Errorf("%d login attempts, want 8: five more", n)
	}

	_, err = keycloak.Dial(e.ctx, keycloak.Config{URL: "http://127.0.0.1:1", Realm: "fixture", ClientID: "roster", ClientSecret: "x"})
	e.wantError(err, `failed to reach http://127.0.0.1:1: Post "http://127.0.0.1:1/realms/fixture/protocol/openid-connect/token": dial tcp 127.0.0.1:1: connect: connection refused`,
		"nothing listens at 127.0.0.1:1: check the host and port in --server or KEYCLOAK_URL (Keycloak listens on 8080 for http and 8443 for https unless configured otherwise) and that Keycloak is running")
	var ce *keycloak.ConnError
	if !errors.As(err, &ce) {
		t.Errorf("unreachable: %#v, want a *ConnError", err)
	}
}

// TestWrongURLOffline points roster at paths below the server's base URL: the login's refusal
// is then blamed on the URL, with the URL to use.
func TestWrongURLOffline(t *testing.T) {
	e, r := offline(t, "login-refused")
	for _, path := range []string{"/admin", "/realms/fixture"} {
		r.fault("POST "+path+"/realms/fixture/protocol/openid-connect/token", 1, status(404))
		r.fault("GET "+path+"/realms/master", 1, status(404))
	}
	_, err := e.dial(func(cfg *keycloak.Config) { cfg.URL = r.URL + "/admin" })
	e.wantError(err, "failed to reach Keycloak at "+r.URL+"/admin: the URL ends in /admin, a path of Keycloak's Admin API, which roster adds itself",
		"set --server or KEYCLOAK_URL to "+r.URL+", the server's base URL (Keycloak answers there)")
	_, err = e.dial(func(cfg *keycloak.Config) { cfg.URL = r.URL + "/realms/fixture" })
	e.wantError(err, "failed to reach Keycloak at "+r.URL+"/realms/fixture: the URL points at /realms/fixture, a realm's path, not at the server",
		"set --server or KEYCLOAK_URL to "+r.URL+", the server's base URL (Keycloak answers there); the realm comes from the configuration (or --realm), the login realm from --auth-realm")
}

// TestListingOffline: pages that overlap, and a listing that lacks a holder of a role, are
// refused; a server that ignores the page size and answers everything at once is believed.
func TestListingOffline(t *testing.T) {
	t.Parallel()
	first := "GET /admin/realms/fixture/users?briefRepresentation=false&first=0&max=500"
	second := "GET /admin/realms/fixture/users?briefRepresentation=false&first=500&max=500"
	page := func(r *replay, key string) []string {
		var users []json.RawMessage
		if err := json.Unmarshal(r.answers[key][0].JSON, &users); err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(users))
		for i, u := range users {
			out[i] = string(u)
		}
		return out
	}

	t.Run("overlap", func(t *testing.T) {
		e, r := offline(t, "paging")
		one := page(r, first)
		r.withBody(second, "["+one[499]+"]")
		_, err := e.mustDial(nil).ReadLive(e.ctx, keycloak.ReadOptions{})
		var le *keycloak.ListingError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), "came twice (the page from 500 overlaps an earlier one)") {
			t.Errorf("overlapping pages: %v, want a *ListingError", err)
		}
		if le != nil && len(le.Hints()) != 3 {
			t.Errorf("hints: %q", le.Hints())
		}
	})
	t.Run("role holder missing", func(t *testing.T) {
		e, r := offline(t, "paging")
		one := page(r, first)
		r.withBody(first, "["+strings.Join(one[1:], ",")+"]") // u0000 holds admin and developer
		_, err := e.mustDial(nil).ReadLive(e.ctx, keycloak.ReadOptions{})
		e.wantError(err, `the listing GET /users of realm "fixture" cannot be trusted: user "u0000" holds realm role admin but is not in the user listing`,
			"a proxy or gateway between roster and Keycloak may shorten or page answers its own way: point roster at Keycloak directly",
			"the account roster logs in with may see only some users (query-users instead of view-users, or fine-grained permissions): `roster doctor` checks its roles",
			"roster plans nothing from a partial listing: it would create users that exist and overlook users it should change")
		if n := r.count(first); n != 2 {
			t.Errorf("the listing was read %d times, want 2: once more after the mismatch", n)
		}
	})
	t.Run("one page for all", func(t *testing.T) {
		e, r := offline(t, "paging")
		all := append(page(r, first), page(r, second)...)
		r.withBody(first, "["+strings.Join(all, ",")+"]")
		live, err := e.mustDial(nil).ReadLive(e.ctx, keycloak.ReadOptions{})
		if err != nil || len(live.Users) != pagingUsers {
			t.Fatalf("ReadLive = %v; want %d users", err, pagingUsers)
		}
		if n := r.count(second); n != 0 {
			t.Errorf("the second page was asked for %d times after a first page holding everything", n)
		}
	})
}

// TestLockLostOffline fails every renewal of a held lock: the lock is lost, every write is
// refused from then on, and the lock is given back by deleting it.
func TestLockLostOffline(t *testing.T) {
	e, r := offline(t, "lock")
	c := e.mustDial(nil)
	var role struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.answers["GET /admin/realms/fixture/roles/"+keycloak.LockRole][0].JSON, &role); err != nil {
		t.Fatal(err)
	}
	r.fault("PUT /admin/realms/fixture/roles-by-id/"+role.ID, 100, status(500))
	// A lost lock is given back by deleting it (Keycloak answers 204), not by renaming it: a
	// renewal whose answer was lost could land after the rename and make the role a lock again.
	deleteLock := "DELETE /admin/realms/fixture/roles-by-id/" + role.ID
	r.fault(deleteLock, 1, status(http.StatusNoContent))
	l, err := c.TryLock(e.ctx, "fixture run", 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the lock was not lost while every renewal failed")
	}
	err = c.CreateRole(context.Background(), model.RealmRole{Name: "fixture-role"})
	var lost *keycloak.LockLostError
	if !errors.As(err, &lost) || !strings.HasPrefix(err.Error(), `lost the apply lock of realm "fixture": `) {
		t.Errorf("a write after the loss: %v, want a *LockLostError", err)
	}
	if err := l.Release(e.ctx); !errors.As(err, &lost) || strings.Contains(err.Error(), "failed to release") {
		t.Errorf("Release = %v, want the loss alone", err)
	}
	if n := r.count(deleteLock); n != 1 {
		t.Errorf("the lost lock was deleted %d times, want once", n)
	}
}

// TestLoginRequestOffline: the client-credentials grant sends the id and secret form-encoded
// before Basic auth, as OAuth 2 requires (a secret with '%', '+', '&' or '=' reaches Keycloak
// intact), and the password grant sends admin-cli's form; neither puts a credential in the URL.
func TestLoginRequestOffline(t *testing.T) {
	e, r := offline(t, "login")
	var got []*http.Request
	keep := func(w http.ResponseWriter, req *http.Request) {
		if err := req.ParseForm(); err != nil {
			t.Error(err)
		}
		got = append(got, req)
		w.WriteHeader(http.StatusUnauthorized)
	}
	r.fault(loginKey, 1, keep)
	r.fault("POST /realms/master/protocol/openid-connect/token", 1, keep)
	r.fault("GET /realms/master", 2, status(404))
	_, _ = e.dial(nil)
	_, _ = e.dial(func(cfg *keycloak.Config) {
		cfg.ClientID, cfg.ClientSecret, cfg.Username, cfg.Password = "", "", "Ops", "p&w=1%"
	})
	if len(got) != 2 {
		t.Fatalf("%d logins reached the server, want 2", len(got))
	}
	if user, pass, ok := got[0].BasicAuth(); !ok || user != "roster" || pass != "s3cret%25%2B%26%3Dfixture" {
		t.Errorf("client credentials: Basic %q:%q, want the form-encoded id and secret", user, pass)
	}
	if f := got[0].PostForm; f.Get("grant_type") != "client_credentials" || f.Has("client_secret") {
		t.Errorf("client credentials: form %v", f)
	}
	if f := got[1].PostForm; f.Get("grant_type") != "password" || f.Get("client_id") != "admin-cli" ||
		f.Get("username") != "Ops" || f.Get("password") != "p&w=1%" || got[1].Header.Get("Authorization") != "" {
		t.Errorf("password grant: form %v", f)
	}
	for _, req := range got {
		if req.URL.RawQuery != "" {
			t.Errorf("%s %s carries a query", req.Method, req.URL)
		}
	}
}
