package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/peakrss"
)

// sizes are the realm sizes measured; ROSTER_BENCH_USERS overrides them ("1000,5000,10000").
func sizes(t testing.TB) []int { return sizesFrom(t, "ROSTER_BENCH_USERS", "10000") }

// sizesFrom reads a comma-separated list of sizes from the environment variable env, or def.
func sizesFrom(t testing.TB, env, def string) []int {
	spec := os.Getenv(env)
	if spec == "" {
		spec = def
	}
	var out []int
	for _, s := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			t.Fatalf("%s: %q is not a positive number", env, s)
		}
		out = append(out, n)
	}
	return out
}

// rosterBin is the binary under test; `make bench` builds it and sets ROSTER_BIN.
func rosterBin(t testing.TB) string {
	bin := os.Getenv("ROSTER_BIN")
	if bin == "" {
		t.Skip("set ROSTER_BIN to a built roster binary (make bench does)")
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// seeded returns a realm filled with n users — 1% admins, 89% developers with projects, 10%
// without a role — and the matching desired-state file (so a plan has no changes). Each size is
// seeded once and shared by the benchmarks, which only read it; TestMain deletes the realms.
func seeded(t testing.TB, n int) (*keycloaktest.Realm, string) {
	seedMu.Lock()
	defer seedMu.Unlock()
	if s, ok := seededRealms[n]; ok {
		return s.realm, s.file
	}
	ctx := context.Background()
	server := keycloaktest.Require(t)
	checkHeap(t, server, n)
	realm, err := server.CreateRealm(ctx)
	check(t, err)
	check(t, realm.SetPolicy(ctx, "ADMIN_EDIT"))
	check(t, realm.CreateRoles(ctx, "admin", "developer"))
	_, err = realm.CodeMieClient(ctx, "codemie", "profile", false) // CodeMie's client, as its guide sets it up
	check(t, err)
	var users []keycloaktest.User
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 1\nrealm: %s\nsettings:\n  unmanagedAttributePolicy: ADMIN_EDIT\nusers:\n", realm.Name)
	for i := range n {
		name := fmt.Sprintf("user%05d", i)
		u := keycloaktest.User{Username: name, Email: name + "@example.com", FirstName: "User", LastName: fmt.Sprint(i), Enabled: true}
		switch {
		case i%100 == 0:
			u.RealmRoles = []string{"admin"}
			yaml.WriteString(desiredUser(i))
		case i%10 == 0:
			// no role: not in the file, so the plan leaves them alone
		default:
			u.RealmRoles = []string{"developer"}
			p, q := userProjects(i)
			u.Attributes = map[string][]string{"applications": {p + "," + q}, "applications_admin": {q}}
			yaml.WriteString(desiredUser(i))
		}
		users = append(users, u)
	}
	start := time.Now()
	check(t, realm.SeedUsers(ctx, users))
	took := time.Since(start)
	report.seeding = append(report.seeding, seedRow{users: n, wall: took})
	t.Logf("seeded %d users in %s", n, took.Round(time.Millisecond))
	dir, err := os.MkdirTemp("", "roster-bench-")
	check(t, err)
	file := filepath.Join(dir, "roster.yaml")
	check(t, os.WriteFile(file, []byte(yaml.String()), 0o644))
	seededRealms[n] = seededRealm{realm: realm, file: file}
	return realm, file
}

// desiredUser is the line of the desired-state file for user i: an admin for every hundredth,
// else a developer who is a member of one project and the admin of another.
func desiredUser(i int) string {
	name := fmt.Sprintf("user%05d", i)
	if i%100 == 0 {
		return fmt.Sprintf("  - {username: %s, email: %s@example.com, role: admin}\n", name, name)
	}
	p, q := userProjects(i)
	return fmt.Sprintf("  - {username: %s, email: %s@example.com, role: developer, projects: {member: [%s], admin: [%s]}}\n", name, name, p, q)
}

// userProjects are the project user i is a member of and the one they administer.
func userProjects(i int) (member, admin string) {
	return fmt.Sprintf("proj%d", i%37), fmt.Sprintf("team%d", i%11)
}

// heapPerUser is the server's heap a seeded user needs, with room to list them: the development
// server keeps its database in memory, and Keycloak 26.7.3 in its default heap of 512 MB ended
// with OutOfMemoryError listing a realm of 100,000 users.
const heapPerUser = 16 << 10

// checkHeap stops before seeding n users into a server whose heap cannot hold them beside the
// users of the seeded realms: it would take the server down for everyone using it. seedMu must
// be held.
func checkHeap(t testing.TB, server *keycloaktest.Server, n int) {
	info, err := server.ServerInfo(context.Background())
	check(t, err)
	if info.Heap == 0 {
		return
	}
	held := 0
	for size := range seededRealms {
		held += size
	}
	if need := int64(n+held) * heapPerUser; info.Heap < need {
		t.Fatalf("the server's heap of %d MB cannot hold %d more users beside the %d it holds (about %d MB): start it with "+
			"JAVA_OPTS_KC_HEAP=-Xmx6g (make bench does for the servers it starts; BENCH_HEAP)", info.Heap>>20, n, held, need>>20)
	}
}

type seededRealm struct {
	realm *keycloaktest.Realm
	file  string
}

var (
	seedMu       sync.Mutex
	seededRealms = map[int]seededRealm{}
)

// TestMain writes the figures to the file ROSTER_BENCH_DOC names (make bench:
// docs/benchmarks.md), then deletes the seeded realms — unless the server is a temporary one
// scripts/keycloak.sh started for this run (KEYCLOAK_TEMPORARY), which takes them with it:
// deleting a realm of 100,000 users one user at a time takes minutes.
func TestMain(m *testing.M) {
	peakrss.Main()
	start := time.Now()
	code := m.Run()
	report.took = time.Since(start)
	if doc := os.Getenv("ROSTER_BENCH_DOC"); doc != "" && code == 0 {
		if err := writeReport(doc); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			code = 1
		}
	}
	for _, s := range seededRealms {
		os.RemoveAll(filepath.Dir(s.file))
		if os.Getenv("KEYCLOAK_TEMPORARY") != "" {
			continue
		}
		if err := s.realm.Delete(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// counter counts the requests through a proxy, and the writes among them: requests that may
// change state, neither GET nor HEAD nor a login. It also keeps the pages of the listings asked
// for (listings), which the floor asks for again, and when the example tokens were asked for.
type counter struct {
	requests, writes atomic.Int64

	mu    sync.Mutex
	pages map[string][]string // page URIs below the realm by listing (path and filters)
	// From the start of the first request for a user's example token to the end of the last.
	firstToken, lastToken time.Time
}

func (c *counter) reset() {
	c.requests.Store(0)
	c.writes.Store(0)
	c.mu.Lock()
	c.pages = nil
	c.firstToken, c.lastToken = time.Time{}, time.Time{}
	c.mu.Unlock()
}

// exampleToken is in the path of every request access --verify makes for a user's tokens.
const exampleToken = "/evaluate-scopes/generate-example-"

// tokened records a request for an example token that started at start and has just ended.
func (c *counter) tokened(start time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.firstToken.IsZero() || start.Before(c.firstToken) {
		c.firstToken = start
	}
	c.lastToken = time.Now()
}

// tokenSpan is the time from the start of the first request for an example token since the
// last reset to the end of the last one: 0 if there was none.
func (c *counter) tokenSpan() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastToken.Sub(c.firstToken)
}

// record keeps r's page, if r asks for one of a listing (first and max) below realm path base.
func (c *counter) record(r *http.Request, base string) {
	q := r.URL.Query()
	if r.Method != http.MethodGet || !q.Has("first") || !strings.HasPrefix(r.URL.Path, base) {
		return
	}
	page := strings.TrimPrefix(r.URL.RequestURI(), base)
	q.Del("first")
	q.Del("max")
	listing := strings.TrimPrefix(r.URL.Path, base) + "?" + q.Encode()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil {
		c.pages = make(map[string][]string)
	}
	c.pages[listing] = append(c.pages[listing], page)
}

// floorListings returns the pages of the listings the floor reads that were recorded since the
// last reset, in the order asked: those of the users and of the members of admin and developer.
func (c *counter) floorListings() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out [][]string
	for _, l := range []string{"/users?briefRepresentation=false", "/roles/admin/users?briefRepresentation=true",
		"/roles/developer/users?briefRepresentation=true"} {
		out = append(out, slices.Clone(c.pages[l]))
	}
	return out
}

// countingProxy is a reverse proxy in front of the real server that counts requests and records
// the pages of the listings of realm asked for.
func countingProxy(t testing.TB, target, realm string) (*httptest.Server, *counter) {
	var n counter
	base := "/admin/realms/" + realm
	srv := proxy(t, target, func(r *http.Request, forward func()) {
		n.requests.Add(1)
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasSuffix(r.URL.Path, "/protocol/openid-connect/token") {
			n.writes.Add(1)
		}
		n.record(r, base)
		if strings.Contains(r.URL.Path, exampleToken) {
			start := time.Now()
			forward()
			n.tokened(start)
			return
		}
		forward()
	})
	return srv, &n
}

// proxy is a reverse proxy in front of the real server that hands each request to serve, which
// calls forward to pass it on; it is closed when the test ends.
func proxy(t testing.TB, target string, serve func(r *http.Request, forward func())) *httptest.Server {
	u, err := url.Parse(target)
	check(t, err)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(r, func() { rp.ServeHTTP(w, r) })
	}))
	t.Cleanup(srv.Close)
	return srv
}

// BenchmarkPlan measures `roster plan` on a converged realm of each size, and the floor.
func BenchmarkPlan(b *testing.B) {
	bin := rosterBin(b)
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			realm, file := seeded(b, n)
			proxy, requests := countingProxy(b, realm.Server.URL, realm.Name)

			// Warm Keycloak's caches first, so that neither side pays for the first read after
			// seeding.
			listingFloor(b, realm, fixedListings(n))
			runPlan(b, bin, proxy.URL, realm, file)

			var floor time.Duration
			var planWall time.Duration
			var maxRSS int64
			var planRequests int64
			var floorRequests int
			for b.Loop() {
				pages := requests.floorListings() // those of the run before
				start := time.Now()
				floorRequests = listingFloor(b, realm, pages)
				floor += time.Since(start)

				requests.reset()
				start = time.Now()
				rss := runPlan(b, bin, proxy.URL, realm, file)
				planWall += time.Since(start)
				planRequests = requests.requests.Load()
				maxRSS = max(maxRSS, rss)
				b.ReportMetric(float64(floorRequests), "floor-requests/op")
			}
			loops := float64(b.N)
			b.ReportMetric(float64(planRequests), "requests/op")
			b.ReportMetric(planWall.Seconds()/loops, "plan-s/op")
			b.ReportMetric(floor.Seconds()/loops, "floor-s/op")
			b.ReportMetric((planWall.Seconds()/loops)/(floor.Seconds()/loops), "plan/floor")
			b.ReportMetric(float64(maxRSS)/1024, "peak-RSS-MB")
			report.runs = b.N
			report.plan = append(report.plan, planRow{users: n, requests: planRequests, floorRequests: floorRequests,
				wall: planWall / time.Duration(b.N), floorWall: floor / time.Duration(b.N), rssKiB: maxRSS})
		})
	}
}

// runPlan runs `roster plan` on the converged realm through the proxy and returns its peak RSS
// in KiB.
func runPlan(b testing.TB, bin, proxyURL string, realm *keycloaktest.Realm, file string) int64 {
	cmd := exec.Command(bin, "plan", "--detailed-exitcode", file)
	cmd.Env = append(os.Environ(), "KEYCLOAK_URL="+proxyURL, "KEYCLOAK_CLIENT_ID="+realm.ClientID,
		"KEYCLOAK_CLIENT_SECRET="+realm.ClientSecret)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	rss, err := peakrss.Run(cmd)
	if err != nil {
		b.Fatalf("roster plan: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "No changes.") {
		b.Fatalf("roster plan on the seeded realm has changes:\n%s", stdout.String())
	}
	return rss
}

// listingFloor fetches the pages of listings with the least possible work and the concurrency
// roster uses: one login, then at once the pages of each listing (up to floorParallelism of each
// in flight), the user profile and the role list. It returns the number of requests. Given the
// pages a run of roster asked for (counter.floorListings), it asks for the same pages; given
// fixedListings, for those roster asked for before its pages grew.
func listingFloor(b testing.TB, realm *keycloaktest.Realm, listings [][]string) int {
	ctx := context.Background()
	base := realm.Server.URL + "/admin/realms/" + realm.Name
	var requests atomic.Int64
	// A listing of 100,000 users outlasts an access token (5 minutes): log in again after each
	// minute, as roster renews its token, and count each login.
	var mu sync.Mutex
	var token string
	var loggedIn time.Time
	bearer := func() string {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(loggedIn) > time.Minute {
			t, err := realm.ServiceAccountToken(ctx)
			if err != nil {
				b.Error(err)
			}
			token, loggedIn = t, time.Now()
			requests.Add(1)
		}
		return token
	}
	get := func(path string) {
		requests.Add(1)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+bearer())
		resp, err := floorClient.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("GET %s: %s", path, resp.Status)
		}
		var v any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			b.Errorf("GET %s: %v", path, err)
		}
	}
	pageAll := func(pages []string) {
		slots := make(chan struct{}, floorParallelism)
		var wg sync.WaitGroup
		for _, page := range pages {
			if b.Failed() {
				break
			}
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				get(page)
			})
		}
		wg.Wait()
	}
	var wg sync.WaitGroup
	for _, pages := range listings {
		wg.Go(func() { pageAll(pages) })
	}
	wg.Go(func() { get("/users/profile") })
	wg.Go(func() { get("/roles") })
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return int(requests.Load())
}

// fixedListings are the pages of the listings plan reads in a seeded realm of n users, at the
// sizes roster starts its listings with: full users in pages of 500, the brief members of admin
// and of developer in pages of 1,000, each up to the first short page.
func fixedListings(n int) [][]string {
	pages := func(path string, rows, size int, brief bool) []string {
		var out []string
		for first := 0; first <= rows; first += size { // the last page is the short one
			out = append(out, fmt.Sprintf("%s?briefRepresentation=%t&first=%d&max=%d", path, brief, first, size))
		}
		return out
	}
	admins, developers := roleCounts(n)
	return [][]string{pages("/users", n, 500, false), pages("/roles/admin/users", admins, 1000, true),
		pages("/roles/developer/users", developers, 1000, true)}
}

// floorClient keeps its connections open between requests, as roster's client does; the floor
// and the reference loops (rawSender) send through it.
var floorClient = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}()}

// floorParallelism is the pages of one listing the floor has in flight, as roster has
// (listingParallelism in internal/keycloak).
const floorParallelism = 4

// roleCounts returns how many admins and developers seeded seeds in a realm of n users.
func roleCounts(n int) (admins, developers int) {
	admins = (n + 99) / 100
	return admins, n - (n+9)/10
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// proxied is a seeded realm reached through a counting proxy, and the environment that points
// the roster binary at it.
type proxied struct {
	realm *keycloaktest.Realm
	file  string // the desired-state file that matches the realm
	url   string // the proxy's
	env   []string
	count *counter
}

// throughProxy seeds (or reuses) the realm of n users and puts a counting proxy in front of it.
func throughProxy(t testing.TB, n int) proxied {
	realm, file := seeded(t, n)
	proxy, count := countingProxy(t, realm.Server.URL, realm.Name)
	return proxied{realm: realm, file: file, url: proxy.URL, count: count,
		env: []string{"KEYCLOAK_URL=" + proxy.URL, "KEYCLOAK_CLIENT_ID=" + realm.ClientID, "KEYCLOAK_CLIENT_SECRET=" + realm.ClientSecret}}
}

// againstPlan runs measure once to warm up, then b.N times alternately with `roster plan` on the
// same realm, and returns the mean walls of each and the requests of measure's last run.
func againstPlan(b *testing.B, bin string, p proxied, measure func() time.Duration) (wall, planWall time.Duration, requests int64) {
	measure()
	first := true
	plan := func() {
		start := time.Now()
		runPlan(b, bin, p.url, p.realm, p.file)
		planWall += time.Since(start)
	}
	for b.Loop() {
		if first {
			plan()
		}
		p.count.reset()
		wall += measure()
		requests = p.count.requests.Load()
		if !first {
			plan()
		}
		first = !first
	}
	return wall / time.Duration(b.N), planWall / time.Duration(b.N), requests
}
