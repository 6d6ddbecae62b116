package schema

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDidYouMeanMatchesFullComparison checks that dropping candidates early changes no
// suggestion: on random names, didYouMean picks what comparing every candidate in full picks.
func TestDidYouMeanMatchesFullComparison(t *testing.T) {
	t.Parallel()
	full := func(s string, candidates []string) string {
		best, bestD := "", 0
		for _, c := range candidates {
			if strings.EqualFold(s, c) {
				return c
			}
			d := fullLevenshtein(strings.ToLower(s), strings.ToLower(c))
			if limit := max(1, min(len(s), len(c))/3); d <= limit && (best == "" || d < bestD) {
				best, bestD = c, d
			}
		}
		return best
	}
	r := rand.New(rand.NewPCG(1, 2))
	letters := []string{"a", "b", "c", "A", "B", "0", "1", "-", "é", "\u212A", "ſ", "\xff"}
	word := func(n int) string {
		var b strings.Builder
		for range r.IntN(n) {
			b.WriteString(letters[r.IntN(len(letters))])
		}
		return b.String()
	}
	for range 5000 {
		// Half the lists share a stem, so that candidates share long prefixes.
		stem := ""
		if r.IntN(2) == 0 {
			stem = word(12)
		}
		candidates := make([]string, r.IntN(40))
		for i := range candidates {
			candidates[i] = stem + word(5)
		}
		s := stem + word(5)
		if r.IntN(3) == 0 {
			s = word(12)
		}
		if got, want := didYouMean(s, candidates), full(s, candidates); got != want {
			t.Fatalf("didYouMean(%q, %q) = %q, comparing in full gives %q", s, candidates, got, want)
		}
	}
	long := strings.Repeat("a", 300)
	if got := levenshtein(long, long+"b"); got != 301 {
		t.Errorf("levenshtein of strings over 256 bytes = %d, want the longer length 301", got)
	}
}

// fullLevenshtein is the textbook edit distance in bytes, every cell computed.
func fullLevenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
