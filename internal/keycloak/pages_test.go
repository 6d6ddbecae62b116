package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/model"
)

// listingServer plays an Admin API whose every answer but the login's comes from answer, and
// returns a client logged in to it.
func listingServer(t *testing.T, answer http.HandlerFunc) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			fmt.Fprint(w, `{"access_token":"tok-abcdefgh","expires_in":300}`)
			return
		}
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := Open(Config{URL: srv.URL, Realm: "r", ClientID: "c", ClientSecret: "secretsecret"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPagesConcurrentRefusesARepeatedPage: a server (or a cache in front of it) that answers
// every offset with the same full page never sends the short page that ends a listing. The
// listing is refused as soon as the second page repeats the first, instead of asking for pages
// without end and holding them all.
func TestPagesConcurrentRefusesARepeatedPage(t *testing.T) {
	t.Parallel()
	var page []map[string]string
	for i := range userPageSize {
		page = append(page, map[string]string{"id": fmt.Sprintf("id-%d", i), "username": fmt.Sprintf("u%d", i)})
	}
	body, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	var requests atomic.Int64
	c := listingServer(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Write(body)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = pagesConcurrent(ctx, c, "/users", nil, userPageSize, func(u userRep) string { return u.ID }, uncounted)
	var le *ListingError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), `the row "id-0" came twice (the page from 500 overlaps an earlier one)`) {
		t.Fatalf("pagesConcurrent = %v, want a *ListingError naming the repeated row", err)
	}
	if n := requests.Load(); n > 1+listingParallelism {
		t.Errorf("%d pages asked for, want at most %d: the repeat shows at the second page", n, 1+listingParallelism)
	}
}

// TestPagesConcurrentWaitsForASlowPage: pages that came before one they follow wait for it
// before joining the listing, and count as in flight meanwhile. Before, a page slow to come
// let the pages after it run ahead without bound: each that came freed its slot for the next.
func TestPagesConcurrentWaitsForASlowPage(t *testing.T) {
	t.Parallel()
	var asked, before atomic.Int64 // pages asked for; those asked before the slow one came
	c := listingServer(t, func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		first, _ := strconv.Atoi(r.URL.Query().Get("first"))
		if first == userPageSize {
			time.Sleep(300 * time.Millisecond)
			before.Store(asked.Load())
		}
		size, _ := strconv.Atoi(r.URL.Query().Get("max"))
		rows := make([]string, max(0, min(size, 40*userPageSize-first)))
		for i := range rows {
			rows[i] = fmt.Sprintf(`{"id":"n%[1]d","username":"n%[1]d"}`, first+i)
		}
		fmt.Fprint(w, "["+strings.Join(rows, ",")+"]")
	})
	users, err := pagesConcurrent(context.Background(), c, "/users", nil, userPageSize, func(u userRep) string { return u.ID }, uncounted)
	if err != nil || len(users) != 40*userPageSize {
		t.Fatalf("pagesConcurrent = %d users, %v; want %d", len(users), err, 40*userPageSize)
	}
	if n := before.Load(); n > 1+listingParallelism {
		t.Errorf("%d pages asked for before the second came, want at most %d", n, 1+listingParallelism)
	}
}

// endlessServer plays a server (or a proxy in front of one) whose every listing answers each
// page, first and max, with max rows it never sent before, so that no page is short and no row
// repeats, each row carrying an attribute of pad bytes, and whose every count is count. It
// returns a client of it and the number of pages asked for.
func endlessServer(t *testing.T, count, pad int) (*Client, *atomic.Int64) {
	t.Helper()
	var asked atomic.Int64
	c := listingServer(t, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case strings.HasSuffix(r.URL.Path, "/count"):
			fmt.Fprint(w, count)
		case q.Has("first"):
			asked.Add(1)
			first, _ := strconv.Atoi(q.Get("first"))
			size, _ := strconv.Atoi(q.Get("max"))
			rows := make([]string, size)
			for i := range rows {
				rows[i] = fmt.Sprintf(`{"id":"n%[1]d","username":"n%[1]d","name":"n%[1]d","alias":"n%[1]d","attributes":{"pad":[%[2]q]}}`,
					first+i, strings.Repeat("x", pad))
			}
			fmt.Fprint(w, "["+strings.Join(rows, ",")+"]")
		default:
			fmt.Fprint(w, "[]")
		}
	})
	return c, &asked
}

// TestListingsEndWhereTheRealmDoes: a server that answers every page of a listing with rows it
// never sent before never sends the short page that ends a listing, and no row repeats. Every
// paged listing roster makes is refused once its rows pass what the realm can hold: what
// Keycloak counts, with room for users created meanwhile, or, where Keycloak counts nothing,
// maxUncounted. Before, each was paged until the timeout or until memory ran out. The pages
// asked for stay within the ceiling's pages and those in flight.
func TestListingsEndWhereTheRealmDoes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		read  func(ctx context.Context, c *Client) error
		size  int    // the listing's page size
		limit int    // the rows it may hold
		want  string // the error
	}{{
		name: "users", size: userPageSize, limit: 10 + 5 + userPageSize,
		read: func(ctx context.Context, c *Client) error {
			_, err := c.readUsers(ctx, c.newCount("/users/count"))
			return err
		},
		want: `the listing GET /users of realm "r" cannot be trusted: its pages went on past 515 rows, but GET /users/count counts 10, and users created while roster read cannot make up the difference`,
	}, {
		name: "users read back", size: userPageSize, limit: 10 + 5 + userPageSize,
		read: func(ctx context.Context, c *Client) error {
			_, err := c.ReadUsers(ctx, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"})
			return err
		},
		want: `the listing GET /users of realm "r" cannot be trusted: its pages went on past 515 rows, but GET /users/count counts 10, and users created while roster read cannot make up the difference`,
	}, {
		name: "role members", size: memberPageSize, limit: 10 + 5 + memberPageSize,
		read: func(ctx context.Context, c *Client) error {
			_, err := c.readRoleMembers(ctx, "developer", c.newCount(everyUserCount).ceiling)
			return err
		},
		want: `the listing GET /roles/developer/users of realm "r" cannot be trusted: its pages went on past 1015 rows, but GET /users/count?exact=false counts 10, and users created while roster read cannot make up the difference`,
	}, {
		name: "service accounts", size: userPageSize, limit: 10 + 5 + userPageSize,
		read: func(ctx context.Context, c *Client) error {
			_, err := c.userListingProblem(ctx, nil, c.newCount("/users/count"), nil)
			return err
		},
		want: `the listing GET /users of realm "r" cannot be trusted: its pages went on past 515 rows, but GET /users/count?username=service-account- counts 10, and users created while roster read cannot make up the difference`,
	}, {
		name: "linked users", size: memberPageSize, limit: 10 + 5 + memberPageSize,
		read: func(ctx context.Context, c *Client) error {
			_, err := c.linkedUsers(ctx, []model.LiveIdentityProvider{{Alias: "corp"}})
			return err
		},
		want: `the listing GET /users of realm "r" cannot be trusted: its pages went on past 1015 rows, but GET /users/count?idpAlias=corp counts 10, and users created while roster read cannot make up the difference`,
	}, {
		name: "realm roles", size: rolePageSize, limit: maxUncounted,
		read: func(ctx context.Context, c *Client) error { _, err := c.readRoles(ctx); return err },
		want: `the listing GET /roles of realm "r" cannot be trusted: its pages went on past 100000 rows, more than roster reads from a listing Keycloak does not count; no realm holds that many`,
	}, {
		name: "identity providers", size: idpPageSize, limit: maxUncounted,
		read: func(ctx context.Context, c *Client) error { _, err := c.ReadIdentityProviders(ctx); return err },
		want: `the listing GET /identity-provider/instances of realm "r" cannot be trusted: its pages went on past 100000 rows, more than roster reads from a listing Keycloak does not count; no realm holds that many`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, asked := endlessServer(t, 10, 0)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := tc.read(ctx, c)
			var le *ListingError
			if !errors.As(err, &le) || err.Error() != tc.want {
				t.Fatalf("read: %v\nwant a *ListingError: %s", err, tc.want)
			}
			// The page that passes the limit, and the pages in flight beside it.
			n, most := asked.Load(), int64(tc.limit/tc.size+1+listingParallelism)
			if n > most {
				t.Errorf("%d pages asked for, want at most %d", n, most)
			}
			t.Logf("refused after %d pages", n)
		})
	}
}

// TestListingsKeepToAByteBudget: a ceiling in rows bounds how many pages a listing reads, not
// how large they are. A server that counts a million users and fills every page with large
// rows (here 4 KiB each, 2 MiB a page of users) is refused once a listing's answers pass the
// client's budget (lowered to 8 MiB here), not read until memory runs out. The pages asked for
// stay within the budget's pages and those in flight.
func TestListingsKeepToAByteBudget(t *testing.T) {
	t.Parallel()
	const budget = 8 << 20
	ids := make([]string, 5000) // a read-back large enough to go through the listing of the realm
	for i := range ids {
		ids[i] = fmt.Sprint("id-", i)
	}
	for _, tc := range []struct {
		name     string
		count    int // what the server counts
		read     func(ctx context.Context, c *Client) error
		parallel int // the pages of the listing in flight at once
	}{{
		name: "users", count: 1_000_000, parallel: listingParallelism,
		read: func(ctx context.Context, c *Client) error {
			_, err := c.readUsers(ctx, c.newCount("/users/count"))
			return err
		},
	}, {
		name: "users read back", count: 20_000, parallel: readBackParallelism,
		read: func(ctx context.Context, c *Client) error {
			_, err := c.ReadUsers(ctx, ids)
			return err
		},
	}, {
		name: "role members", count: 1_000_000, parallel: listingParallelism,
		read: func(ctx context.Context, c *Client) error {
			_, err := c.readRoleMembers(ctx, "developer", c.newCount(everyUserCount).ceiling)
			return err
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, asked := endlessServer(t, tc.count, 4096)
			c.listingBytes = budget
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := tc.read(ctx, c)
			var le *ListingError
			if !errors.As(err, &le) || !strings.HasSuffix(err.Error(), "cannot be trusted: its pages went on past 8 MiB, more than roster reads from one listing") {
				t.Fatalf("read: %v\nwant a *ListingError saying the pages went past 8 MiB", err)
			}
			// Pages of about 2 MiB: the page that passes the budget, and those in flight.
			n, most := asked.Load(), int64(budget/(2<<20)+1+tc.parallel)
			if n > most {
				t.Errorf("%d pages asked for, want at most %d", n, most)
			}
			t.Logf("refused after %d pages", n)
		})
	}
}

// TestCountedCeiling: the room a count leaves for users created meanwhile, and a count that is
// absurd or negative, which must not lift the ceiling nor lower it below one page.
func TestCountedCeiling(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		count, size, limit int
		refusal            string
	}{
		{0, 500, 500, "its pages went on past 500 rows, but GET /users/count counts 0, and users created while roster read cannot make up the difference"},
		{-7, 500, 500, "its pages went on past 500 rows, but GET /users/count counts -7, and users created while roster read cannot make up the difference"},
		{100_000, 500, 150_500, "its pages went on past 150500 rows, but GET /users/count counts 100000, and users created while roster read cannot make up the difference"},
		{1 << 40, 500, maxListed, "its pages went on past 2000000 rows, more than roster reads from one listing"},
	} {
		limit, refusal, err := counted("/users/count", tc.count)(context.Background(), tc.size)
		if err != nil || limit != tc.limit || refusal != tc.refusal {
			t.Errorf("counted(%d) = %d, %q, %v\nwant %d, %q", tc.count, limit, refusal, err, tc.limit, tc.refusal)
		}
	}
}

// TestFullPageAsksNoCeiling: a listing of exactly one full page ends with an empty page, which
// cannot pass any ceiling; the count that bounds the listing is not asked for it.
func TestFullPageAsksNoCeiling(t *testing.T) {
	t.Parallel()
	var counts atomic.Int64
	c := listingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/count"):
			counts.Add(1)
			fmt.Fprint(w, 5000)
		case r.URL.Query().Get("first") == "0":
			rows := make([]string, memberPageSize)
			for i := range rows {
				rows[i] = fmt.Sprintf(`{"id":"m%[1]d","username":"m%[1]d"}`, i)
			}
			fmt.Fprint(w, "["+strings.Join(rows, ",")+"]")
		default:
			fmt.Fprint(w, "[]")
		}
	})
	ms, err := c.readRoleMembers(context.Background(), "developer", c.newCount(everyUserCount).ceiling)
	if err != nil || len(ms) != memberPageSize {
		t.Fatalf("readRoleMembers = %d members, %v; want %d", len(ms), err, memberPageSize)
	}
	if n := counts.Load(); n != 0 {
		t.Errorf("%d counts asked for, want none", n)
	}
}
