package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/token") {
			fmt.Fprint(w, `{"access_token":"tok-abcdefgh","expires_in":300}`)
			return
		}
		requests.Add(1)
		w.Write(body)
	}))
	defer srv.Close()
	c, err := Open(Config{URL: srv.URL, Realm: "r", ClientID: "c", ClientSecret: "secretsecret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = pagesConcurrent(ctx, c, "/users", nil, userPageSize, func(u userRep) string { return u.ID })
	var le *ListingError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), `the row "id-0" came twice (the page from 500 overlaps an earlier one)`) {
		t.Fatalf("pagesConcurrent = %v, want a *ListingError naming the repeated row", err)
	}
	if n := requests.Load(); n > 1+listingParallelism {
		t.Errorf("%d pages asked for, want at most %d: the repeat shows at the second page", n, 1+listingParallelism)
	}
}
