package model

import (
	"strings"
	"unicode"
)

// FoldKey is s with each rune replaced by the smallest of those equal to it ignoring case (its
// orbit under unicode.SimpleFold), invalid bytes read as U+FFFD: two strings have the same key
// exactly when strings.EqualFold holds between them, so a map keyed by it finds in one lookup
// what comparing with each entry by strings.EqualFold would.
func FoldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
