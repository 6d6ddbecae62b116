package keycloak_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// TestReadLive seeds a realm with more users than fit one page and checks that ReadLive returns
// every user with its owned roles and attributes, in a number of requests that grows with the
// number of pages, not of users.
func TestReadLive(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	if err := realm.SetPolicy(ctx, "ADMIN_EDIT"); err != nil {
		t.Fatal(err)
	}
	if err := realm.CreateRoles(ctx, "admin", "developer", "auditor"); err != nil {
		t.Fatal(err)
	}

	const n = 1200 // 3 pages of users
	var users []keycloaktest.User
	for i := range n {
		u := keycloaktest.User{Username: fmt.Sprintf("user%04d", i), Email: fmt.Sprintf("User%04d@Example.com", i), Enabled: true,
			Attributes: map[string][]string{"applications": {fmt.Sprintf("p%d,shared", i%7)}}}
		switch {
		case i%100 == 0:
			u.RealmRoles = []string{"admin", "developer"}
		case i%10 != 0:
			u.RealmRoles = []string{"developer", "auditor"}
		}
		users = append(users, u)
	}
	users[7].Attributes["applications_admin"] = []string{"P0"}
	users[7].Attributes["department"] = []string{"R&D"}
	if err := realm.SeedUsers(ctx, users); err != nil {
		t.Fatal(err)
	}

	counter := &keycloaktest.CountingTransport{}
	cfg := realm.ServiceAccountConfig()
	cfg.Transport = counter
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatalf("ReadLive: %v", err)
	}

	if live.Policy != model.PolicyAdminEdit {
		t.Errorf("Policy = %q, want ADMIN_EDIT", live.Policy)
	}
	var roleNames []string
	for _, r := range live.Roles {
		roleNames = append(roleNames, r.Name)
	}
	if diff := cmp.Diff([]string{"admin", "auditor", "default-roles-" + realm.Name, "developer", "offline_access", "uma_authorization"}, roleNames); diff != "" {
		t.Errorf("Roles (-want +got):\n%s", diff)
	}
	// Plain listings leave service accounts out, so the realm's own service account is absent.
	if len(live.Users) != n {
		t.Fatalf("read %d users, want %d", len(live.Users), n)
	}
	u7 := live.Users[7]
	u7.ID, u7.Created = "", time.Time{}
	want := model.LiveUser{Username: "user0007", Email: "user0007@example.com", Enabled: true,
		Attributes: map[string][]string{"applications": {"p0,shared"}, "applications_admin": {"P0"}, "department": {"R&D"}},
		Roles:      []model.Role{model.RoleDeveloper}}
	if diff := cmp.Diff(want, u7, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "RequiredActions" }, cmp.Ignore())); diff != "" {
		t.Errorf("user0007 (-want +got):\n%s", diff)
	}
	if got := live.Users[100].Roles; !cmp.Equal(got, []model.Role{model.RoleAdmin, model.RoleDeveloper}) {
		t.Errorf("user0100 roles = %v, want [admin developer]", got)
	}
	if got := live.Users[10].Roles; got != nil {
		t.Errorf("user0010 roles = %v, want none", got)
	}

	// 3 user pages, 2 developer-member pages (1080 holders), 1 admin-member page, the user
	// profile, the realm's login settings, the role list, the count of users and the lookup of
	// CodeMie's client (absent here): 11 reads, plus 1 login, plus the count that bounds the
	// role members, more than a page (the user listing is bounded by the count it is checked
	// against): 12. With the client, its default scopes and the client scopes add 2. The pages of
	// a listing are read concurrently, up to 4 at once, so each of the two listings of more than
	// one page may ask for up to 3 pages past its short one before that one arrives.
	if got := counter.Count("GET"); got < 12 || got > 12+2*3 {
		t.Errorf("ReadLive made %d GET requests for %d users, want 12 to 18", got, n)
	}
	if got := counter.Writes(); got != 0 {
		t.Errorf("ReadLive made %d writes, want none", got)
	}
}

// TestReadUsers reads a few users back one by one and many through the listing, whichever costs
// the server less, and leaves out ids that do not exist.
func TestReadUsers(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	var seed []keycloaktest.User
	for i := range 600 { // two pages
		seed = append(seed, keycloaktest.User{Username: fmt.Sprintf("user%03d", i), Enabled: true})
	}
	if err := realm.SeedUsers(ctx, seed); err != nil {
		t.Fatal(err)
	}
	c := dial(t, realm)
	live, err := c.ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(n int) []string {
		var out []string
		for _, u := range live.Users[:n] {
			out = append(out, u.ID)
		}
		return out
	}

	for _, tt := range []struct {
		ids      []string
		want     int
		requests int
	}{
		{ids: append(ids(1), "no-such-id"), want: 1, requests: 2}, // one read each, no count
		{ids: ids(9), want: 9, requests: 1 + 9},                   // count, then one read each
		{ids: ids(100), want: 100, requests: 1 + 100},             // a sixth of the realm: one read each
		{ids: ids(150), want: 150, requests: 1 + 2},               // a quarter: two pages
		{ids: ids(600), want: 600, requests: 1 + 2},               // count, then two pages
	} {
		counter := &keycloaktest.CountingTransport{}
		cfg := realm.ServiceAccountConfig()
		cfg.Transport = counter
		cc, err := keycloak.Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cc.ReadUsers(ctx, tt.ids)
		if err != nil {
			t.Fatalf("ReadUsers(%d ids): %v", len(tt.ids), err)
		}
		if len(got) != tt.want {
			t.Errorf("ReadUsers(%d ids) returned %d users, want %d", len(tt.ids), len(got), tt.want)
		}
		if n := counter.Count(http.MethodGet); n != tt.requests {
			t.Errorf("ReadUsers(%d ids) made %d GET requests, want %d", len(tt.ids), n, tt.requests)
		}
	}
}

// countThenSeed seeds users right after the first user count passes through it, so the count
// ReadUsers acts on is stale.
type countThenSeed struct {
	seed func() error
	once sync.Once
	err  error
}

func (s *countThenSeed) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/users/count") {
		s.once.Do(func() { s.err = s.seed() })
	}
	return resp, err
}

// TestReadUsersPagesOnWhenUsersArrive has users arrive between the count and the listing,
// sorting before the ones asked for and pushing them past the counted pages: ReadUsers pages
// on until a short page and still finds them.
func TestReadUsersPagesOnWhenUsersArrive(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	var seed, late []keycloaktest.User
	for i := range 600 {
		seed = append(seed, keycloaktest.User{Username: fmt.Sprintf("user%03d", i), Enabled: true})
		late = append(late, keycloaktest.User{Username: fmt.Sprintf("early%03d", i), Enabled: true})
	}
	if err := realm.SeedUsers(ctx, seed); err != nil {
		t.Fatal(err)
	}
	live, err := dial(t, realm).ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range live.Users {
		if strings.HasPrefix(u.Username, "user") {
			ids = append(ids, u.ID)
		}
	}
	tr := &countThenSeed{seed: func() error { return realm.SeedUsers(ctx, late) }}
	cfg := realm.ServiceAccountConfig()
	cfg.Transport = tr
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.ReadUsers(ctx, ids)
	if err != nil || tr.err != nil {
		t.Fatalf("ReadUsers: %v; seeding: %v", err, tr.err)
	}
	if len(got) != len(ids) {
		t.Errorf("ReadUsers returned %d users, want %d", len(got), len(ids))
	}
}

// TestReadLiveRefusesUntrustworthyListings puts a proxy in front of the real server that answers
// the user listing 200 with a list that is short, empty or repeats a row, and checks that ReadLive
// refuses each with an error naming the check that failed: a plan from such a listing would
// create users that exist.
func TestReadLiveRefusesUntrustworthyListings(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	if err := realm.CreateRoles(ctx, "admin", "developer"); err != nil {
		t.Fatal(err)
	}
	if err := realm.SeedUsers(ctx, []keycloaktest.User{
		{Username: "amy", Enabled: true, RealmRoles: []string{"developer"}},
		{Username: "bob", Enabled: true},
		{Username: "cyd", Enabled: true},
	}); err != nil {
		t.Fatal(err)
	}
	listing := "/admin/realms/" + realm.Name + "/users"
	rows := func(body []byte) []json.RawMessage {
		var rs []json.RawMessage
		if err := json.Unmarshal(body, &rs); err != nil {
			t.Errorf("the listing is not a JSON list: %v", err)
		}
		return rs
	}
	var repeated string // the id of the row the overlapping listing repeats
	for _, tc := range []struct {
		name    string
		rewrite func(body []byte) []byte
		want    string
	}{{
		name: "short",
		rewrite: func(body []byte) []byte { // drops the last user, who holds no role
			rs := rows(body)
			b, _ := json.Marshal(rs[:len(rs)-1])
			return b
		},
		want: `the listing GET /users of realm %q cannot be trusted: it lists 2 users, but GET /users/count counts 3`,
	}, {
		name:    "empty",
		rewrite: func([]byte) []byte { return []byte("[]") },
		want:    `the listing GET /users of realm %q cannot be trusted: user "amy" holds realm role developer but is not in the user listing`,
	}, {
		name: "overlapping",
		rewrite: func(body []byte) []byte {
			rs := rows(body)
			var first struct{ ID string }
			_ = json.Unmarshal(rs[0], &first)
			repeated = first.ID
			b, _ := json.Marshal(append(rs, rs[0]))
			return b
		},
		want: `the listing GET /users of realm %q cannot be trusted: the row %q came twice (the page from 0 overlaps an earlier one)`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c, proxy := dialThroughProxy(t, realm)
			proxy.Tamper(http.MethodGet, listing, 100, tc.rewrite)
			_, err := c.ReadLive(ctx, keycloak.ReadOptions{})
			var le *keycloak.ListingError
			if !errors.As(err, &le) {
				t.Fatalf("ReadLive: %v, want a ListingError", err)
			}
			want := fmt.Sprintf(tc.want, realm.Name)
			if tc.name == "overlapping" {
				want = fmt.Sprintf(tc.want, realm.Name, repeated)
			}
			if err.Error() != want {
				t.Errorf("error:\n%s\nwant:\n%s", err, want)
			}
		})
	}
}

// TestReadLiveRefusesAQueryUsersAccount signs in as a service account that holds query-users
// and view-realm but not view-users, a plausible read-only set-up: Keycloak then lists no user
// (200, []) while it counts them all, and ReadLive must refuse rather than let plan create them.
func TestReadLiveRefusesAQueryUsersAccount(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	if err := realm.SeedUsers(ctx, []keycloaktest.User{{Username: "amy", Enabled: true}, {Username: "bob", Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	if err := realm.SetServiceAccountRoles(ctx, "query-users", "view-realm"); err != nil {
		t.Fatal(err)
	}
	_, err := dial(t, realm).ReadLive(ctx, keycloak.ReadOptions{})
	want := fmt.Sprintf("the listing GET /users of realm %q cannot be trusted: it lists 0 users, but GET /users/count counts 2", realm.Name)
	var le *keycloak.ListingError
	if !errors.As(err, &le) || err.Error() != want {
		t.Errorf("ReadLive: %v\nwant %s", err, want)
	}
}

// TestReadLiveLinkedOnly reads every user's identity-provider links as export does: only the
// users Keycloak lists as linked to one of the realm's providers are read one by one, and when
// Keycloak's count of such users disagrees with its listing (as Keycloak before 26.4, which
// ignores idpAlias when it counts), every user's links are read instead.
func TestReadLiveLinkedOnly(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	for _, alias := range []string{"corp", "partner"} {
		if err := realm.Admin(ctx, http.MethodPost, "/identity-provider/instances", map[string]any{"alias": alias, "providerId": "oidc",
			"config": map[string]string{"clientId": "roster", "clientSecret": "s", "authorizationUrl": "https://idp.example.com/auth",
				"tokenUrl": "https://idp.example.com/token"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var users []keycloaktest.User
	for i := range 40 {
		users = append(users, keycloaktest.User{Username: fmt.Sprintf("user%02d", i), Enabled: true})
	}
	if err := realm.SeedUsers(ctx, users); err != nil {
		t.Fatal(err)
	}
	all, err := dial(t, realm).ReadLive(ctx, keycloak.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	link := func(username, alias string) model.FederatedIdentity {
		t.Helper()
		for _, u := range all.Users {
			if u.Username == username {
				l := model.FederatedIdentity{Provider: alias, UserID: "ext-" + username, UserName: username + "@" + alias}
				if err := realm.Admin(ctx, http.MethodPost, "/users/"+u.ID+"/federated-identity/"+alias,
					map[string]string{"identityProvider": alias, "userId": l.UserID, "userName": l.UserName}, nil); err != nil {
					t.Fatal(err)
				}
				return l
			}
		}
		t.Fatalf("no user %s", username)
		return model.FederatedIdentity{}
	}
	want := map[string][]model.FederatedIdentity{
		"user03": {link("user03", "corp")},
		"user07": {link("user07", "corp"), link("user07", "partner")},
		"user09": {link("user09", "partner")},
	}
	opts := keycloak.ReadOptions{LinksFor: func(string) bool { return true }, LinkedOnly: true}
	check := func(t *testing.T, live *model.Live) {
		t.Helper()
		for _, u := range live.Users {
			if diff := cmp.Diff(want[u.Username], u.FederatedIdentities, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("links of %s (-want +got):\n%s", u.Username, diff)
			}
		}
	}
	linkReads := func(reqs []keycloaktest.Request) int {
		n := 0
		for _, r := range reqs {
			if strings.HasSuffix(r.Path, "/federated-identity") {
				n++
			}
		}
		return n
	}

	t.Run("linked users only", func(t *testing.T) {
		c, proxy := dialThroughProxy(t, realm)
		live, err := c.ReadLive(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		check(t, live)
		if got := linkReads(proxy.Requests()); got != 3 {
			t.Errorf("read the links of %d users, want 3", got)
		}
	})
	t.Run("count disagrees", func(t *testing.T) {
		c, proxy := dialThroughProxy(t, realm)
		var counts atomic.Int32
		// The first count is the user listing's check; the second is the count of the users
		// linked to corp, which an older Keycloak answers with every user.
		proxy.Tamper(http.MethodGet, "/admin/realms/"+realm.Name+"/users/count", 2, func(body []byte) []byte {
			if counts.Add(1) == 2 {
				return []byte("40")
			}
			return body
		})
		live, err := c.ReadLive(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		check(t, live)
		if got := linkReads(proxy.Requests()); got != len(live.Users) {
			t.Errorf("read the links of %d users, want every one of the %d", got, len(live.Users))
		}
	})
}

// TestReadsRefuseEndlessListings puts a proxy in front of the real server that answers every
// page of a listing with users it never sent before, so that the listing has no end and no row
// repeats, and checks that the read is refused once the rows pass what Keycloak's own count
// allows for, after a bounded number of pages. The role members' ceiling is the count with
// service accounts (3 here: amy, bob and the realm's service account, where the plain count says
// 2), which Keycloak gives only with a field filter such as exact=false.
func TestReadsRefuseEndlessListings(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	if err := realm.SeedUsers(ctx, []keycloaktest.User{
		{Username: "amy", Enabled: true, RealmRoles: []string{"developer"}},
		{Username: "bob", Enabled: true},
	}); err != nil {
		t.Fatal(err)
	}
	base := "/admin/realms/" + realm.Name
	readLive := func(c *keycloak.Client) error { _, err := c.ReadLive(ctx, keycloak.ReadOptions{}); return err }
	for _, tc := range []struct {
		name, listing string
		read          func(c *keycloak.Client) error
		most          int // pages the proxy may see: those up to the ceiling and those in flight
		want          string
	}{{
		name: "users", listing: "/users", read: readLive, most: 503/500 + 1 + 4,
		want: "the listing GET /users of realm %q cannot be trusted: its pages went on past 503 rows, but GET /users/count counts 2, and users created while roster read cannot make up the difference",
	}, {
		name: "role members", listing: "/roles/developer/users", read: readLive, most: 1004/1000 + 1 + 4,
		want: "the listing GET /roles/developer/users of realm %q cannot be trusted: its pages went on past 1004 rows, but GET /users/count?exact=false counts 3, and users created while roster read cannot make up the difference",
	}, {
		name: "read back", listing: "/users", most: 2,
		read: func(c *keycloak.Client) error {
			_, err := c.ReadUsers(ctx, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"})
			return err
		},
		want: "the listing GET /users of realm %q cannot be trusted: its pages went on past 503 rows, but GET /users/count counts 2, and users created while roster read cannot make up the difference",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c, proxy := dialThroughProxy(t, realm)
			proxy.Answer(http.MethodGet, base+tc.listing, math.MaxInt, keycloaktest.EndlessPages)
			err := tc.read(c)
			var le *keycloak.ListingError
			if want := fmt.Sprintf(tc.want, realm.Name); !errors.As(err, &le) || err.Error() != want {
				t.Fatalf("read: %v\nwant a *ListingError: %s", err, want)
			}
			n := proxy.Seen(http.MethodGet, base+tc.listing)
			if n > tc.most {
				t.Errorf("%d pages asked for, want at most %d", n, tc.most)
			}
			t.Logf("refused after %d pages", n)
		})
	}
}
