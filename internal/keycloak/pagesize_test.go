package keycloak

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPageSizer(t *testing.T) {
	t.Parallel()
	type obs struct {
		size, rows, bytes int
		took              time.Duration
		split             bool
	}
	page := func(size int, took time.Duration) obs { return obs{size, size, 1000, took, false} }
	fast, slow := time.Second, 16*time.Second
	warm := []obs{page(500, fast), page(500, fast), page(500, fast), page(500, fast)}
	maxPageBytes := MaxAnswer / pageBytesShare
	for _, tc := range []struct {
		name string
		obs  []obs
		want int
	}{
		{"a listing's first pages keep the base", warm, 500},
		{"a full page after them doubles", append(warm, page(500, fast)), 1000},
		{"never more than twice the current size", append(warm, page(500, fast), page(500, fast)), 1000},
		{"a larger page no slower doubles again", append(warm, page(500, fast), page(1000, fast)), 2000},
		{"a larger page half as slow again doubles again", append(warm, page(500, fast), page(1000, fast*3/2)), 2000},
		{"a larger page slower than that goes back", append(warm, page(500, fast), page(1000, fast*3/2+1)), 500},
		{"and grows no more", append(warm, page(500, fast), page(1000, 2*fast), page(500, fast)), 500},
		{"a late smaller page does not decide", append(warm, page(500, fast), page(500, 3*fast)), 1000},
		{"up to sixteen times the base", append(warm, page(500, fast), page(1000, fast), page(2000, fast), page(4000, fast),
			page(8000, fast)), 8000},
		{"a size is judged on its first page only", append(warm, page(500, fast), page(1000, fast), page(2000, fast),
			page(4000, fast), page(8000, 2*fast), page(4000, 3*fast)), 4000},
		{"a short page does not grow", append(warm, obs{500, 20, 1000, fast, false}), 500},
		{"base pages that half as slow again would pass a quarter of the timeout do not grow", append(warm, page(500, 5*time.Second+1)), 500},
		{"base pages within it do", append(warm, page(500, 5*time.Second)), 1000},
		{"larger pages that as much slower again would pass it do not grow", append(warm, page(500, 4*time.Second),
			page(1000, 5600*time.Millisecond)), 1000},
		{"pages that take no time grow", append(warm[:0:0], page(500, 0), page(500, 0), page(500, 0), page(500, 0), page(500, 0),
			page(1000, 0), page(2000, 0)), 4000},
		{"larger pages no slower are projected at their own time", append(warm, page(500, 5*time.Second), page(1000, 4*time.Second)), 2000},
		// Measured on a realm of 100,000 users: the first pages, asked one or two at a time, came
		// back in 0.4 s, the pages after them in 1.5 s and the first page of 1,000 in 1.7 s.
		{"the first pages do not count in the means", append(warm[:0:0], page(500, 400*time.Millisecond), page(500, 400*time.Millisecond),
			page(500, 400*time.Millisecond), page(500, 400*time.Millisecond), page(500, 1500*time.Millisecond), page(1000, 1700*time.Millisecond)), 2000},
		{"an answer that would pass its bound when doubled does not grow", append(warm, obs{500, 500, maxPageBytes/2 + 1, fast, false}), 500},
		{"an answer past its bound halves", append(warm, page(500, fast), page(1000, fast), obs{2000, 2000, maxPageBytes + 1, fast, false}), 1000},
		{"a page past half the timeout halves", append(warm, page(500, fast), page(1000, fast), page(2000, slow)), 1000},
		{"never below the base", append(warm, page(500, slow)), 500},
		{"a page asked for again in pieces goes back to the base", append(warm, page(500, fast), page(1000, fast),
			obs{2000, 2000, 1000, slow, true}), 500},
	} {
		s := newPageSizer(500, 30*time.Second, MaxAnswer)
		for _, o := range tc.obs {
			s.observe(o.size, o.rows, o.bytes, o.took, o.split)
		}
		if s.next != tc.want {
			t.Errorf("%s: next page %d, want %d", tc.name, s.next, tc.want)
		}
	}
}

// pagedServer is a client of a server that lists rows users in pages as Keycloak does (first and
// max honoured), row i of a page of size rows from first padded by pad(first, size, i) bytes,
// each page answered delay(first, size) after its request; it also returns the pages asked for,
// as first and max, sorted by first.
func pagedServer(t *testing.T, rows int, pad func(first, size, row int) int, timeout time.Duration, delay func(first, size int) time.Duration) (*Client, func() [][2]int) {
	var mu sync.Mutex
	var asked [][2]int
	c := listingServer(t, func(w http.ResponseWriter, r *http.Request) {
		first, _ := strconv.Atoi(r.URL.Query().Get("first"))
		size, _ := strconv.Atoi(r.URL.Query().Get("max"))
		mu.Lock()
		asked = append(asked, [2]int{first, size})
		mu.Unlock()
		start := time.Now()
		page := make([]string, max(0, min(size, rows-first)))
		for i := range page {
			page[i] = fmt.Sprintf(`{"id":"u%d","username":"u%d","email":"%s"}`, first+i, first+i, strings.Repeat("x", pad(first, size, first+i)))
		}
		body := "[" + strings.Join(page, ",") + "]"
		// The page takes delay in all, however long making it took on a busy machine.
		time.Sleep(delay(first, size) - time.Since(start))
		fmt.Fprint(w, body)
	})
	c.cfg.Timeout, c.hc.Timeout = timeout, timeout
	// The sizer sees each page take its delay: on a busy machine (make test runs packages side
	// by side, with -race) the measured times stray by more than the quarter that tells one page
	// size from the next.
	c.pageTook = func(first, size int, _ time.Duration) time.Duration { return delay(first, size) }
	return c, func() [][2]int {
		mu.Lock()
		defer mu.Unlock()
		pages := slices.Clone(asked)
		slices.SortStableFunc(pages, func(a, b [2]int) int { return a[0] - b[0] })
		return pages
	}
}

// listAll lists every row of c's server concurrently and checks that each came once, in order.
func listAll(t *testing.T, c *Client, rows int) {
	t.Helper()
	users, err := pagesConcurrent(context.Background(), c, "/users", nil, userPageSize, func(u userRep) string { return u.ID }, uncounted)
	if err != nil || len(users) != rows {
		t.Fatalf("pagesConcurrent = %d users, %v; want %d", len(users), err, rows)
	}
	for i, u := range users {
		if u.ID != fmt.Sprintf("u%d", i) {
			t.Fatalf("row %d is %s", i, u.ID)
		}
	}
}

// contiguous fails unless the pages, sorted by first, follow one another without gap or overlap
// (a page asked for again after a timeout counts once).
func contiguous(t *testing.T, pages [][2]int) {
	t.Helper()
	pages = slices.Compact(slices.Clone(pages))
	for i := 1; i < len(pages); i++ {
		if pages[i][0] != pages[i-1][0]+pages[i-1][1] {
			t.Fatalf("page from %d follows the page of %d from %d: %v", pages[i][0], pages[i-1][1], pages[i-1][0], pages)
		}
	}
}

// perPage plays Keycloak answering from its cache: a page costs the same whatever its size.
func perPage(int, int) time.Duration { return 300 * time.Millisecond }

// cheaperLarger answers a page of 500 in 600 ms and a larger one sooner, so that the pages of
// the tests that need a grown page grow whatever a busy machine adds to them.
func cheaperLarger(_, size int) time.Duration {
	return 600 * time.Millisecond * userPageSize / time.Duration(size)
}

// TestPagesGrowWhileFast: a listing whose larger pages come back no slower asks for larger pages,
// each at most twice the largest before it, up to sixteen times the base, and still reads every
// row once.
func TestPagesGrowWhileFast(t *testing.T) {
	t.Parallel()
	const rows = 60_000
	c, asked := pagedServer(t, rows, small, 30*time.Second, perPage)
	listAll(t, c, rows)
	pages := asked()
	contiguous(t, pages)
	largest := 0
	for i, p := range pages {
		if i < listingParallelism && p[1] != userPageSize {
			t.Errorf("page %d asks for %d rows, want the base %d", i, p[1], userPageSize)
		}
		if largest > 0 && p[1] > 2*largest {
			t.Errorf("page from %d asks for %d rows, more than twice the %d of the largest before it", p[0], p[1], largest)
		}
		largest = max(largest, p[1])
	}
	// Each size is kept while its pages take at most half as long again as the smaller ones, a
	// margin the noise of a busy machine may pass: want the pages to have doubled three times
	// at least, and the listing's 121 requests of 500 rows to be halved.
	if largest < 8*userPageSize || largest > maxPageGrowth*userPageSize {
		t.Errorf("largest page %d rows, want %d to %d", largest, 8*userPageSize, maxPageGrowth*userPageSize)
	}
	if len(pages) > 60 {
		t.Errorf("%d pages asked for, want at most 60: %v", len(pages), pages)
	}
}

// TestPagesStayWhereRowsCost: where a page twice as large takes twice as long (users Keycloak
// reads from its database), larger pages list no faster; the listing tries one size up, goes
// back to the base and stays there.
func TestPagesStayWhereRowsCost(t *testing.T) {
	t.Parallel()
	const rows = 12_000
	c, asked := pagedServer(t, rows, small, 30*time.Second, func(_, size int) time.Duration { return time.Duration(size) * 200 * time.Microsecond })
	listAll(t, c, rows)
	pages := asked()
	contiguous(t, pages)
	tried := 0
	for _, p := range pages {
		switch {
		case p[1] == 2*userPageSize:
			tried++
		case p[1] != userPageSize:
			t.Errorf("page from %d asks for %d rows: %v", p[0], p[1], pages)
		}
	}
	if tried == 0 || tried > listingParallelism/2 {
		t.Errorf("%d pages of %d asked for, want 1 to %d: %v", tried, 2*userPageSize, listingParallelism/2, pages)
	}
}

// TestPagesShrinkWhenSlow: once the pages take more than half the timeout, the listing's pages
// shrink.
func TestPagesShrinkWhenSlow(t *testing.T) {
	t.Parallel()
	const rows, cold = 10_000, 5_000
	// With a timeout of 12 s, pages shrink past 6 s; a fast page must stall for more than 5 s on
	// a busy machine to be taken for a slow one (which would keep the pages from growing).
	c, asked := pagedServer(t, rows, small, 12*time.Second, func(first, size int) time.Duration {
		if first >= cold {
			return 7 * time.Second
		}
		return cheaperLarger(first, size)
	})
	listAll(t, c, rows)
	pages := asked()
	contiguous(t, pages)
	largest := slices.MaxFunc(pages, func(a, b [2]int) int { return a[1] - b[1] })
	if largest[1] <= userPageSize {
		t.Errorf("no page grew while the pages were fast: %v", pages)
	}
	for _, p := range pages {
		if p[0] <= rows-1 && rows-1 < p[0]+p[1] && p[1] >= largest[1] {
			t.Errorf("the page of the last row asks for %d rows, want fewer than the largest page once pages turned slow: %v", p[1], pages)
		}
	}
}

func small(int, int, int) int { return 10 }

// TestGrownPageThatTimesOutIsSplit: a grown page that outlasts the timeout (users Keycloak must
// read from its database, past users it had in its cache) is not asked for again as it was, but
// in pages of the base size, and the listing reads every row.
func TestGrownPageThatTimesOutIsSplit(t *testing.T) {
	t.Parallel()
	const rows, cold = 12_000, 6_000
	// With a timeout of 16 s, a grown page among the cold rows times out; pages of the base
	// size do not. A fast page must stall for more than 7 s on a busy machine to be taken for a
	// slow one past half the timeout, which would keep the pages from growing (a run of make
	// test saw one stall past 3 s when the timeout was 8 s).
	c, asked := pagedServer(t, rows, small, 16*time.Second, func(first, size int) time.Duration {
		if first >= cold && size > userPageSize {
			return 17 * time.Second
		}
		return cheaperLarger(first, size)
	})
	listAll(t, c, rows)
	pages := asked()
	for i := 1; i < len(pages); i++ {
		if pages[i-1] == pages[i] && pages[i][1] > userPageSize {
			t.Errorf("the grown page %v was asked for twice: %v", pages[i], pages)
		}
	}
	if !askedInPieces(pages, cold) {
		t.Errorf("no grown page among the slow rows was asked for again in pages of %d: %v", userPageSize, pages)
	}
}

// askedInPieces reports whether a grown page from row from on was asked for again in pages of
// the base size: the first of them follows it among pages sorted by first (stably).
func askedInPieces(pages [][2]int, from int) bool {
	for i := 1; i < len(pages); i++ {
		grown, piece := pages[i-1], pages[i]
		if grown[0] >= from && grown[1] > userPageSize && piece == [2]int{grown[0], userPageSize} {
			return true
		}
	}
	return false
}

// TestPagesOfLargeUsersStay: users whose rows are large keep their pages at the base size, so
// that no page comes near the largest answer roster reads.
func TestPagesOfLargeUsersStay(t *testing.T) {
	t.Parallel()
	const rows, limit = 4_000, 4 << 20
	// Pages of 500 rows of 300 bytes and more pass 128 KiB, half of what a page may grow to.
	c, asked := pagedServer(t, rows, func(int, int, int) int { return 300 }, 30*time.Second, perPage)
	c.answers.max = limit
	listAll(t, c, rows)
	for _, p := range asked() {
		if p[1] != userPageSize {
			t.Fatalf("page from %d asks for %d rows, want %d: doubled, the pages would pass %d KiB", p[0], p[1], userPageSize, limit/pageBytesShare>>10)
		}
	}
}

// TestPagesOfLargerUsersAreSplit: a page grown on small users that comes back too large for one
// answer is asked for again in pages of the base size, and the listing goes on.
func TestPagesOfLargerUsersAreSplit(t *testing.T) {
	t.Parallel()
	const rows, large, limit = 10_000, 5_000, 4 << 20
	// Grown pages past 5,000 hold rows of 5 KiB: 1,000 of them pass the 4 MiB limit.
	c, asked := pagedServer(t, rows, func(first, size, _ int) int {
		if first >= large && size > userPageSize {
			return 5 << 10
		}
		return 10
	}, 30*time.Second, cheaperLarger)
	c.answers.max = limit
	listAll(t, c, rows)
	if pages := asked(); !askedInPieces(pages, large) {
		t.Errorf("no grown page among the large rows was asked for again in pages of %d: %v", userPageSize, pages)
	}
}

// TestPiecesKeepToTheBudget: the pieces of a grown page stop once their answers pass what is
// left of the listing's byte budget, instead of reading the whole page first.
func TestPiecesKeepToTheBudget(t *testing.T) {
	t.Parallel()
	const rows, cold = 40_000, 6_000
	// With a timeout of 6 s, a grown page among the cold rows times out; its pieces hold rows of
	// 40 KiB, 20 MB a piece, past the budget of 16 MiB.
	c, asked := pagedServer(t, rows, func(first, size, _ int) int {
		if first >= cold {
			return 40 << 10
		}
		return 10
	}, 6*time.Second, func(first, size int) time.Duration {
		if first >= cold && size > userPageSize {
			return 7 * time.Second
		}
		return cheaperLarger(first, size)
	})
	c.listingBytes = 16 << 20
	_, err := pagesConcurrent(context.Background(), c, "/users", nil, userPageSize, func(u userRep) string { return u.ID }, uncounted)
	var le *ListingError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "past 16 MiB") {
		t.Fatalf("pagesConcurrent = %v, want the listing refused past its budget", err)
	}
	pages := asked()
	if !askedInPieces(pages, cold) {
		t.Fatalf("no grown page among the cold rows was asked for again in pieces: %v", pages)
	}
	for _, g := range pages {
		if g[0] < cold || g[1] <= userPageSize {
			continue
		}
		pieces := make(map[int]bool) // a piece retried after a timeout is one piece
		for _, p := range pages {
			if p[1] == userPageSize && g[0] <= p[0] && p[0] < g[0]+g[1] {
				pieces[p[0]] = true
			}
		}
		if len(pieces) > 1 {
			t.Errorf("the grown page %v was asked for again in %d pieces, want 1: the first passes the budget", g, len(pieces))
		}
	}
}
