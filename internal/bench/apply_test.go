package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// createBatch is the batch size of the create benchmark: roster's default (apply.DefaultBatchSize),
// which the bare loop sends too.
const createBatch = 50

// sweep is the parallelism the bare create loop is tried at to find this machine's best.
var sweep = []int{1, 2, 4, 8, 16}

// createSizes are how many users BenchmarkApplyCreate creates; ROSTER_BENCH_CREATE_USERS
// overrides them ("1000,10000").
func createSizes(t testing.TB) []int { return sizesFrom(t, "ROSTER_BENCH_CREATE_USERS", "1000,10000") }

// BenchmarkApplyCreate measures `roster apply` creating n developers in a fresh realm — read-back
// verification included — against two reference loops: the bare loop, which sends the same
// partial-import batches (batches of 50: one login, then POST /partialImport with 50 users each,
// their attributes and roles included, nothing else), and the import + read-back loop, the bare
// loop followed by the cheapest complete read-back Keycloak offers (readBackCreated). First it
// sweeps the bare loop's parallelism (1, 2, 4, 8, 16) once each, at the first size only, to find
// this machine's best; then, at each size, it runs roster with --parallelism at that best and
// both loops at the same, once per round b.Loop grants (-benchtime 3x: three), rotating which of
// the three goes first (sideBySide), and reports the medians. Above onceAbove users it runs
// roster and the bare loop once each.
// Each run gets its own fresh realm, deleted afterwards (not measured); all go through the same
// counting proxy.
func BenchmarkApplyCreate(b *testing.B) {
	bin := rosterBin(b)
	var best int
	var swept []sweepPoint
	for _, n := range createSizes(b) {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if best == 0 {
				bareCreate(b, n, 8, false) // warm the server up; not measured
				bestRate := 0.0
				for _, p := range sweep {
					rate := float64(n) / bareCreate(b, n, p, false).wall.Seconds()
					b.Logf("bare loop, %d users, parallelism %2d: %4.0f users/s", n, p, rate)
					swept = append(swept, sweepPoint{users: n, parallelism: p, rate: rate})
					if rate > bestRate {
						best, bestRate = p, rate
					}
				}
			}
			reference := func() measured { return bareCreate(b, n, best, true) }
			if n > onceAbove {
				reference = nil
			}
			row := sideBySide(b.Loop, n, mostRounds(n),
				func() measured { return rosterCreate(b, bin, n, best) },
				func() measured { return bareCreate(b, n, best, false) },
				reference)
			row.batch, row.parallelism = createBatch, best
			for _, p := range swept {
				if p.users == n {
					row.sweep = append(row.sweep, p)
				}
			}
			report.create = append(report.create, row)
			reportMetrics(b, row, "import+read-back")
			b.ReportMetric(float64(best), "best-parallelism")
		})
	}
}

// onceAbove is the largest realm the create and update benchmarks run more than once at. Every
// create leaves a fresh realm of its users, which the development server deletes at about 300
// users/s (one by one; deleting a realm of 100,000 at once outlasts its transaction timeout), so
// a round of the three at 100,000 users would take 25 minutes, most of it deleting; a round of
// updates of 10,000 of 100,000 users takes about 15.
const onceAbove = 10000

// mostRounds is the most rounds sideBySide runs in a realm of n users: every round b.Loop grants
// (0), or one above onceAbove.
func mostRounds(n int) int {
	if n > onceAbove {
		return 1
	}
	return 0
}

// sideBySide runs roster and the two reference loops (reference may be nil: not measured), each
// doing the same work on users users, once per round loop grants (b.Loop: as many as -benchtime
// says), or in the first most rounds only when most > 0. It rotates which goes first, so that over
// three rounds each goes first once and none always meets the server as the same other left it,
// and returns their median rates, the rounds they ran and the requests of their last runs.
//
// The rounds are counted here, not read from b.N: with b.Loop, b.N is 1 until the loop ends.
func sideBySide(loop func() bool, users, most int, roster, bare, reference func() measured) createRow {
	sides := []func() measured{roster, bare, reference}
	var rates [3][]float64
	var last [3]measured
	runs := 0
	for round := 0; loop(); round++ {
		if most > 0 && round >= most {
			continue // the loop must be asked until it has counted its rounds
		}
		for k := range sides {
			i := (round + k) % len(sides)
			if sides[i] == nil {
				continue
			}
			last[i] = sides[i]()
			rates[i] = append(rates[i], float64(users)/last[i].wall.Seconds())
		}
		runs++
	}
	return createRow{users: users, runs: runs, roster: median(rates[0]), raw: median(rates[1]), reference: median(rates[2]),
		requests: last[0].requests, rawRequests: last[1].requests, refRequests: last[2].requests}
}

// reportMetrics reports row's rates, ratios and requests as the benchmark's metrics, the second
// reference loop's under its name when it ran.
func reportMetrics(b *testing.B, row createRow, reference string) {
	b.ReportMetric(row.roster, "roster-users/s")
	b.ReportMetric(row.raw, "raw-users/s")
	b.ReportMetric(row.roster/row.raw, "roster/raw")
	b.ReportMetric(float64(row.requests), "roster-requests")
	b.ReportMetric(float64(row.rawRequests), "raw-requests")
	if row.reference > 0 {
		b.ReportMetric(row.reference, reference+"-users/s")
		b.ReportMetric(row.roster/row.reference, "roster/"+reference)
		b.ReportMetric(float64(row.refRequests), reference+"-requests")
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
	err = errors.Join(realm.SetPolicy(ctx, "ADMIN_EDIT"), realm.CreateRoles(ctx, "admin", "developer"),
		// The reference loops log in once, and at 100,000 users the reading loop of the update
		// benchmark outlasts the 5 minutes a token lives by default.
		realm.Admin(ctx, http.MethodPut, "", map[string]any{"accessTokenLifespan": 3600}, nil))
	if err != nil {
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

func createEmail(i int) string { return createUsername(i) + "@example.com" }

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
	proxy, count := countingProxy(b, realm.Server.URL, realm.Name)
	defer proxy.Close()
	wall := timedApplyAt(b, bin, proxy.URL, realm, createFile(realm, n), fmt.Sprintf("Apply complete: %d added", n),
		"--parallelism", fmt.Sprint(parallelism), "--batch-size", fmt.Sprint(createBatch))
	return measured{wall: wall, requests: count.requests.Load()}
}

// bareCreate sends the partial-import batches roster sends for createFile — one login, then
// n/50 requests of 50 users with their attributes, their realm roles (the realm's default role
// and developer, as roster names them) and no groups — with the given parallelism, in a fresh
// realm, and checks that every user was added. With readBack, it then reads them back as
// readBackCreated does, within the measured wall: the import + read-back loop.
func bareCreate(b testing.TB, n, parallelism int, readBack bool) measured {
	realm, del := freshRealm(b)
	defer del()
	proxy, count := countingProxy(b, realm.Server.URL, realm.Name)
	defer proxy.Close()
	start := time.Now()
	send := rawSender(b, context.Background(), realm, proxy.URL)
	importUsers(b, send, realm, n, parallelism)
	if readBack {
		imported := time.Since(start)
		readBackCreated(b, send, n)
		b.Logf("import + read-back loop, %d users: import %s, read-back %s", n, imported.Round(time.Millisecond),
			(time.Since(start) - imported).Round(time.Millisecond))
	}
	return measured{wall: time.Since(start), requests: count.requests.Load()}
}

// importUsers sends the partial-import batches of bareCreate for the n users of createFile into
// realm, with parallelism workers, and checks that every user was added.
func importUsers(b testing.TB, send sender, realm *keycloaktest.Realm, n, parallelism int) {
	batches := make(chan []map[string]any)
	go func() {
		defer close(batches)
		for start := 0; start < n; start += createBatch {
			var users []map[string]any
			for i := start; i < min(start+createBatch, n); i++ {
				users = append(users, map[string]any{"username": createUsername(i), "email": createEmail(i), "enabled": true,
					"attributes": createAttributes(i), "realmRoles": []string{"default-roles-" + realm.Name, "developer"}})
			}
			batches <- users
		}
	}()
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
	if added != n {
		b.Fatalf("bare loop: partial import added %d users, want %d", added, n)
	}
}

// readBackCreated reads back the n users bareCreate created, the cheapest complete way Keycloak
// offers: in the fresh realm they are the whole realm, so it lists the realm in full pages
// (listUsers of fullUsers) and checks that every user is there with its email and the attributes sent.
func readBackCreated(b testing.TB, send sender, n int) {
	var mu sync.Mutex
	good, as := make([]bool, n), 0
	listUsers(b, send, fullUsers, n, func(page []userRep) {
		mu.Lock()
		defer mu.Unlock()
		for _, u := range page {
			i, ok := userIndex(u.Username, n)
			if ok && u.Username == createUsername(i) && u.Email == createEmail(i) && holds(u.Attributes, createAttributes(i)) && !good[i] {
				good[i] = true
				as++
			}
		}
	})
	if bad := slices.Index(good, false); bad >= 0 {
		b.Fatalf("import + read-back loop: %s did not read back with the email and attributes sent (%d of %d did)",
			createUsername(bad), as, n)
	}
}

// holds reports whether attrs holds every attribute of want with the same values, in any order:
// Keycloak does not promise their order.
func holds(attrs, want map[string][]string) bool {
	for k, v := range want {
		if !slices.Equal(slices.Sorted(slices.Values(attrs[k])), slices.Sorted(slices.Values(v))) {
			return false
		}
	}
	return true
}

// userIndex returns i for the username of user i (user%05d), when i is below n.
func userIndex(username string, n int) (int, bool) {
	i, err := strconv.Atoi(strings.TrimPrefix(username, "user"))
	return i, err == nil && strings.HasPrefix(username, "user") && i >= 0 && i < n
}

// userRep is what the reference loops read of a user in its full representation.
type userRep struct {
	ID         string              `json:"id"`
	Username   string              `json:"username"`
	Email      string              `json:"email"`
	Attributes map[string][]string `json:"attributes"`
}

// listPage is the page size of listUsers: roster's.
const listPage = 500

// fullUsers is the listing of full users (briefRepresentation=false), the only one that carries
// attributes.
const fullUsers = "/users?briefRepresentation=false"

// listUsers lists the n users of query (fullUsers, or another listing of users) in pages of 500
// with up to floorParallelism pages in flight, as roster's listing has, and hands each page to
// got, which may be called from several goroutines at once. It knows n, so it asks for no page
// past the first short one. It returns the pages read.
func listUsers(b testing.TB, send sender, query string, n int, got func([]userRep)) (pages int) {
	slots := make(chan struct{}, floorParallelism)
	var wg sync.WaitGroup
	for first := 0; first <= n; first += listPage { // the last page is the short one
		pages++
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			var page []userRep
			resp := send(http.MethodGet, fmt.Sprintf("%s&first=%d&max=%d", query, first, listPage), nil)
			defer resp.Body.Close()
			check(b, json.NewDecoder(resp.Body).Decode(&page))
			got(page)
		})
	}
	wg.Wait()
	return pages
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

// sender sends one request to a realm's admin API (path from the realm's, body as JSON) and
// returns the response, whose body the caller closes.
type sender = func(method, path string, body any) *http.Response

// rawSender logs in as the realm's service account through serverURL and returns a sender
// with that token, which fails the benchmark on a status of 300 or more.
func rawSender(b testing.TB, ctx context.Context, realm *keycloaktest.Realm, serverURL string) sender {
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
		resp, err := floorClient.Do(req)
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
