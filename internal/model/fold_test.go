package model

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestFoldKeyIsEqualFold checks FoldKey against strings.EqualFold on every pair of strings
// built from runes whose case folding is unusual: the Kelvin sign and k, the long s and s,
// the three sigmas, the dotted and dotless i, a rune without case, U+FFFD and invalid bytes.
func TestFoldKeyIsEqualFold(t *testing.T) {
	runes := []string{"k", "K", "\u212a", "s", "S", "\u017f", "σ", "Σ", "ς", "i", "I", "\u0130", "\u0131", "1", "\ufffd", "\xff", "\xc3"}
	var all []string
	for _, a := range runes {
		all = append(all, a)
		for _, b := range runes {
			all = append(all, a+b)
		}
	}
	all = append(all, "", "Ada@Example.COM", "ada@example.com")
	for _, a := range all {
		for _, b := range all {
			if got, want := FoldKey(a) == FoldKey(b), strings.EqualFold(a, b); got != want {
				t.Errorf("FoldKey(%q) == FoldKey(%q) is %v, strings.EqualFold says %v", a, b, got, want)
			}
		}
	}
}

// TestFoldKeyEveryRune checks each rune: its key is equal to it ignoring case, and every rune
// of its orbit under unicode.SimpleFold has the same key. As strings.EqualFold compares rune
// by rune, two strings then have equal keys exactly when strings.EqualFold holds.
func TestFoldKeyEveryRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if utf8.ValidRune(r) {
			s, key := string(r), FoldKey(string(r))
			if !strings.EqualFold(s, key) {
				t.Fatalf("FoldKey(%q) = %q, not equal to it ignoring case", s, key)
			}
			for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
				if FoldKey(string(f)) != key {
					t.Fatalf("FoldKey(%q) = %q but FoldKey(%q) = %q", s, key, string(f), FoldKey(string(f)))
				}
			}
		}
	}
}
