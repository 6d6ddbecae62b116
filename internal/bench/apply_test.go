package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// applyUsers is how many users BenchmarkApplyUpdate changes.
const applyUsers = 1000

// createBatch is the batch size of the create benchmark: roster's default (apply.DefaultBatchSize),
// which the bare loop sends too.
const createBatch = 50

// sweep is the parallelism the bare create loop is tried at to find this machine's best.
var sweep = []int{1, 2, 4, 8, 16}

// createSizes are how many users BenchmarkApplyCreate creates; ROSTER_BENCH_CREATE_USERS
// overrides them ("1000,10000").
func createSizes(t testing.TB) []int {
	spec := os.Getenv("ROSTER_BENCH_CREATE_USERS")
	if spec == "" {
		spec = "1000,10000"
	}
	var out []int
	for _, s := range strings.Split(spec, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			t.Fatalf("ROSTER_BENCH_CREATE_USERS: %q is not a positive number", s)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkApplyCreate measures `roster apply` creating n developers in a fresh realm — read-back
// verification included — against a bare loop that sends the same partial-import batches
// (batches of 50: one login, then POST /partialImport with 50 users each, their attributes and
// roles included, nothing else). First it sweeps the bare loop's parallelism (1, 2, 4, 8, 16)
// once each, at the first size only, to find this machine's best; then, at each size, it runs
// roster with --parallelism at that best and the loop at the same, alternating which goes first,
// b.N times each, and reports the medians.
// Each run gets its own fresh realm, deleted afterwards (not measured); both go through the same
// counting proxy.
func BenchmarkApplyCreate(b *testing.B) {
	bin := rosterBin(b)
	var best int
	var swept []sweepPoint
	for _, n := range createSizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if best == 0 {
				bareCreate(b, n, 8) // warm the server up; not measured
				bestRate := 0.0
				for _, p := range sweep {
					rate := float64(n) / bareCreate(b, n, p).wall.Seconds()
					b.Logf("bare loop, %d users, parallelism %2d: %4.0f users/s", n, p, rate)
					swept = append(swept, sweepPoint{users: n, parallelism: p, rate: rate})
					if rate > bestRate {
						best, bestRate = p, rate
					}
				}
			}
			var rosterRates, bareRates []float64
			var row createRow
			first := true
			for b.Loop() {
				// Alternate which side goes first, so neither always meets a fresher server.
				var r, l measured
				if first {
					r, l = rosterCreate(b, bin, n, best), bareCreate(b, n, best)
				} else {
					l, r = bareCreate(b, n, best), rosterCreate(b, bin, n, best)
				}
				first = !first
				rosterRates = append(rosterRates, float64(n)/r.wall.Seconds())
				bareRates = append(bareRates, float64(n)/l.wall.Seconds())
				row.requests, row.rawRequests = r.requests, l.requests
			}
			row.users, row.batch, row.parallelism = n, createBatch, best
			for _, p := range swept {
				if p.users == n {
					row.sweep = append(row.sweep, p)
				}
			}
			row.roster, row.raw = median(rosterRates), median(bareRates)
			report.create = append(report.create, row)
			b.ReportMetric(row.roster, "roster-users/s")
			b.ReportMetric(row.raw, "raw-users/s")
			b.ReportMetric(row.roster/row.raw, "roster/raw")
			b.ReportMetric(float64(best), "best-parallelism")
			b.ReportMetric(float64(row.requests), "roster-requests")
			b.ReportMetric(float64(row.rawRequests), "raw-requests")
		})
	}
}

// measured is one measured run: its wall time and how many requests it sent.
type measured struct {
	wall     time.Duration
	requests int64
}

// median returns the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// freshRealm returns a new realm with the policy and roles CodeMie needs, as apply would leave
// them, so that roster and the bare loop do the same user work, and a function that deletes it.
func freshRealm(b testing.TB) (*keycloaktest.Realm, func()) {
	ctx := context.Background()
	realm, err := keycloaktest.Require(b).CreateRealm(ctx)
	check(b, err)
	del := func() { check(b, realm.Delete(context.Background())) } // large realms lose their users first
	if err := realm.SetPolicy(ctx, "ADMIN_EDIT"); err != nil {
		del()
		b.Fatal(err)
	}
	if err := realm.CreateRoles(ctx, "admin", "developer"); err != nil {
		del()
		b.Fatal(err)
	}
	return realm, del
}

// prepared is freshRealm deleted when the test ends.
func prepared(b testing.TB) *keycloaktest.Realm {
	realm, del := freshRealm(b)
	b.Cleanup(del)
	return realm
}

// createAttributes are the attributes roster writes on developer i of createFile, its ownership
// marker included.
func createAttributes(i int) map[string][]string {
	return map[string][]string{"applications": {fmt.Sprintf("p%d,t%d", i%37, i%11)}, "applications_admin": {fmt.Sprintf("t%d", i%11)},
		"roster_managed": {"true"}}
}

func createUsername(i int) string { return fmt.Sprintf("user%05d", i) }

// createFile is the desired-state file of n developers with projects, in realm.
func createFile(realm *keycloaktest.Realm, n int) string {
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm.Name)
	for i := range n {
		fmt.Fprintf(&yaml, "  - {username: %s, email: %s@example.com, role: developer, projects: {member: [p%d], admin: [t%d]}}\n",
			createUsername(i), createUsername(i), i%37, i%11)
	}
	return yaml.String()
}

func rosterCreate(b *testing.B, bin string, n, parallelism int) measured {
	realm, del := freshRealm(b)
	defer del()
	proxy, count := countingProxy(b, realm.Server.URL)
	defer proxy.Close()
	wall := timedApplyAt(b, bin, proxy.URL, realm, createFile(realm, n), fmt.Sprintf("Apply complete: %d added", n),
		"--parallelism", fmt.Sprint(parallelism), "--batch-size", fmt.Sprint(createBatch))
	return measured{wall: wall, requests: count.requests.Load()}
}

// bareCreate sends the partial-import batches roster sends for createFile — one login, then
// n/50 requests of 50 users with their attributes, their realm roles (the realm's default role
// and developer, as roster names them) and no groups — with the given parallelism, in a fresh
// realm, and checks that every user was added.
func bareCreate(b testing.TB, n, parallelism int) measured {
	realm, del := freshRealm(b)
	defer del()
	proxy, count := countingProxy(b, realm.Server.URL)
	defer proxy.Close()
	ctx := context.Background()
	batches := make(chan []map[string]any)
	go func() {
		defer close(batches)
		for start := 0; start < n; start += createBatch {
			var users []map[string]any
			for i := start; i < min(start+createBatch, n); i++ {
				users = append(users, map[string]any{"username": createUsername(i), "email": createUsername(i) + "@example.com", "enabled": true,
					"attributes": createAttributes(i), "realmRoles": []string{"default-roles-" + realm.Name, "developer"}})
			}
			batches <- users
		}
	}()
	start := time.Now()
	send := rawSender(b, ctx, realm, proxy.URL)
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := 0
	for range parallelism {
		wg.Go(func() {
			for users := range batches {
				var res struct {
					Added int `json:"added"`
				}
				resp := send(http.MethodPost, "/partialImport", map[string]any{"ifResourceExists": "SKIP", "users": users})
				check(b, json.NewDecoder(resp.Body).Decode(&res))
				resp.Body.Close()
				mu.Lock()
				added += res.Added
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if added != n {
		b.Fatalf("bare loop: partial import added %d users, want %d", added, n)
	}
	return measured{wall: wall, requests: count.requests.Load()}
}

// timedApply runs `roster apply --auto-approve --parallelism 8` with the extra arguments on the
// file content in realm, checks that its output says want, and returns its wall time.
func timedApply(b *testing.B, bin string, realm *keycloaktest.Realm, content, want string, extra ...string) time.Duration {
	return timedApplyAt(b, bin, realm.Server.URL, realm, content, want, append([]string{"--parallelism", "8"}, extra...)...)
}

// timedApplyAt runs `roster apply --auto-approve` with the extra arguments on the file content
// in realm through the server at serverURL (a proxy in front of realm's), checks that its output
// says want, and returns its wall time.
func timedApplyAt(b testing.TB, bin, serverURL string, realm *keycloaktest.Realm, content, want string, extra ...string) time.Duration {
	file := filepath.Join(b.TempDir(), "roster.yaml")
	check(b, os.WriteFile(file, []byte(content), 0o644))
	cmd := exec.Command(bin, append(append([]string{"apply", "--auto-approve"}, extra...), file)...)
	cmd.Env = append(os.Environ(), "KEYCLOAK_URL="+serverURL, "KEYCLOAK_CLIENT_ID="+realm.ClientID,
		"KEYCLOAK_CLIENT_SECRET="+realm.ClientSecret)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil || !strings.Contains(out.String(), want) {
		b.Fatalf("roster apply: %v\n%s", err, tail(out.String()))
	}
	return wall
}

// rawSender logs in as the realm's service account through serverURL and returns a function
// that sends one request to the realm's admin API there with that token, failing the benchmark
// on a status of 300 or more; the caller closes the body.
func rawSender(b testing.TB, ctx context.Context, realm *keycloaktest.Realm, serverURL string) func(method, path string, body any) *http.Response {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {realm.ClientID}, "client_secret": {realm.ClientSecret}}
	resp, err := http.PostForm(serverURL+"/realms/"+realm.Name+"/protocol/openid-connect/token", form)
	check(b, err)
	var token struct {
		AccessToken string `json:"access_token"`
	}
	check(b, json.NewDecoder(resp.Body).Decode(&token))
	resp.Body.Close()
	if token.AccessToken == "" {
		b.Fatalf("login to %s: %s", realm.Name, resp.Status)
	}
	base := serverURL + "/admin/realms/" + realm.Name
	return func(method, path string, body any) *http.Response {
		var data []byte
		if body != nil {
			data, _ = json.Marshal(body)
		}
		req, _ := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+token.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		check(b, err)
		if resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %s", method, path, resp.Status)
		}
		return resp
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
