package keycloak

import "time"

// A pageSizer picks the size of each page of one concurrent listing from how long the pages
// before it took. Keycloak pays for a page of a large realm partly in proportion to the realm,
// not to the page: on Keycloak 26.7.3 (2 cores, 100,000 users in its cache) every user listed in
// pages of 5,000 took 9 s, in pages of 500 87 s. Users it must read from its database cost in
// proportion to the page instead, and a large page of them outlasts the request timeout.
//
// The pages in flight hold at most listingParallelism pages of the base size between them
// (pagesConcurrent), so a page twice as large replaces two and the server has the same rows to
// answer at once (a page larger than that goes out alone). A larger page that comes back no
// slower than the smaller ones then lists the realm faster at the same load, and one that takes
// twice as long does not. The line is drawn at half as slow again, short of twice: pages of
// one size vary by more than a tenth on a busy server, and with the line at a quarter the first
// larger page of a warm read of 100,000 users crossed it in a third of the reads, which then
// kept their pages small and took twice as long.
// So a listing starts at its base size and, once listingParallelism pages came back (a listing
// of a few pages has little to gain, and one that asks for the same pages every time is easier
// to follow), judges sizes by the pages after those, which went out while fewer were in flight
// and came back sooner:
//
//   - after the first full page of the current size, if its pages took at most half as long
//     again as those half their size, and the pages twice as large would still come back
//     within timeout/4 should they be as much slower again (projected), the next pages are
//     twice as large, up to maxPageGrowth times the base, while twice its answer keeps within
//     MaxAnswer/pageBytesShare;
//   - if they took more than half as long again as those half their size, the listing goes back
//     to the smaller size and grows no more;
//   - after a page that took more than timeout/2, or whose answer passed that bound, the next
//     pages are half its size, never below the base, and grow no more;
//   - a grown page is asked for once (listing.grown; again only after a 429 or 503, which say
//     the server did not carry it out): should it time out, fail in a way that may pass, or
//     come back larger than MaxAnswer, its rows are asked for again in pages of the base size,
//     and so are the next pages.
//
// The base sizes keep a listing within the request bound of docs/benchmarks.md, so a listing
// costs at most the requests it cost before pages grew, and one more for each grown page asked
// for again in pieces (the pages in flight when the listing turned slow may each cost one).
type pageSizer struct {
	base, next int
	limit      int // the largest size pages may grow to
	seen       int // pages observed
	grow, slow time.Duration
	maxBytes   int                   // the largest answer a page may grow to
	mean       map[int]time.Duration // the mean time of the full pages of each size
	count      map[int]int
}

// maxPageGrowth bounds a page at this many times its listing's base size: 8,000 full users,
// 16,000 role members.
const maxPageGrowth = 16

// pageBytesShare is the share of the largest answer roster reads (MaxAnswer) that a page grows
// to at most: a page of 2 MiB may be followed by one twice its size, not by a larger one, so a
// grown page passes 64 MiB only where the users are on average sixteen times larger than those
// of the pages before it.
const pageBytesShare = 16

func newPageSizer(base int, timeout time.Duration, maxAnswer int64) *pageSizer {
	return &pageSizer{base: base, next: base, limit: maxPageGrowth * base, grow: timeout / 4, slow: timeout / 2,
		maxBytes: int(maxAnswer / pageBytesShare), mean: make(map[int]time.Duration), count: make(map[int]int)}
}

// observe takes in a page of size rows asked for, that came back with rows rows in an answer of
// bytes bytes after took, or had to be asked for again in pieces (split).
func (s *pageSizer) observe(size, rows, bytes int, took time.Duration, split bool) {
	s.seen++
	switch {
	case split:
		s.next, s.limit = s.base, s.base
	case took > s.slow || bytes > s.maxBytes:
		s.next = max(s.base, min(s.next, size/2))
		s.limit = s.next
	case rows >= size && s.seen <= listingParallelism:
		// The first pages went out while fewer were in flight and came back two to four times
		// sooner (pagesConcurrent asks for one at first): a mean that counted them would judge
		// the first larger page slow against pages answered under less load.
	case rows >= size:
		n := s.count[size]
		s.mean[size] = (s.mean[size]*time.Duration(n) + took) / time.Duration(n+1)
		s.count[size] = n + 1
		switch {
		case size != s.next || (size > s.base && s.count[size] > 1):
			// Each larger size is judged once, on its first page: judged again and again, the
			// noise of a busy server would walk the size down one halving at a time.
		case size > s.base && s.mean[size] > halfAsSlowAgain(s.mean[size/2]):
			s.next, s.limit = size/2, size/2
		case 2*size <= s.limit && s.projected(size) <= s.grow && 2*bytes <= s.maxBytes:
			s.next = 2 * size
		}
	}
}

// projected is how long the pages twice size would take, should they be as much slower than
// the pages of size as those were than the pages half their size (half as slow again, for the
// base size, which has nothing to go by). Projections past timeout/2 are all too slow alike.
func (s *pageSizer) projected(size int) time.Duration {
	m, half := s.mean[size], s.mean[size/2]
	switch {
	case size == s.base:
		return halfAsSlowAgain(m)
	case m <= half:
		return m
	}
	p := float64(m) * float64(m) / float64(half)
	if p >= float64(s.slow) {
		return s.slow
	}
	return time.Duration(p)
}

// halfAsSlowAgain is the longest a page may take against those half its size, d, and still
// grow: the line the comment on pageSizer explains.
func halfAsSlowAgain(d time.Duration) time.Duration { return d * 3 / 2 }
