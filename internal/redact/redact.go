// Package redact masks the secrets of a run wherever they would be printed or written. The
// CLI registers the credentials it was given, the Keycloak client the tokens it obtains and
// apply the secrets it resolves from the configuration; every stream and file roster writes
// passes through a Secrets, which replaces each of them, in each form it travels in (as is,
// URL-encoded, JSON- and HTML-escaped, escaped for the terminal or Markdown by package escape,
// base64 and inside HTTP Basic credentials), with Mask.
package redact

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/rosterhq/roster/internal/escape"
)

// Mask replaces every secret.
const Mask = "***"

// MinLen is the length below which a value is not masked: masking a value of one to three
// characters would garble ordinary words of the output, and such a value protects nothing.
const MinLen = 4

// Secrets is the set of secret values of a run. It is safe for concurrent use; a nil *Secrets
// knows no secret and masks nothing.
type Secrets struct {
	mu       sync.RWMutex
	forms    map[string]bool
	replacer *strings.Replacer
	longest  int  // length of the longest form
	newline  bool // some form holds a line break
}

// New returns an empty set.
func New() *Secrets { return &Secrets{forms: make(map[string]bool)} }

// Add registers secret values. Empty values and values shorter than MinLen are ignored.
func (s *Secrets) Add(values ...string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for _, v := range values {
		if len(v) < MinLen || s.forms[v] {
			continue
		}
		for _, f := range forms(v) {
			if !s.forms[f] {
				s.forms[f] = true
				changed = true
			}
		}
	}
	if changed {
		s.rebuild()
	}
}

// AddBasic registers the HTTP Basic credentials of user and password, as the Authorization
// header carries them (with both parts form-encoded first, as OAuth 2 asks, and without).
func (s *Secrets) AddBasic(user, password string) {
	if len(password) < MinLen {
		return
	}
	for _, pair := range []string{user + ":" + password, url.QueryEscape(user) + ":" + url.QueryEscape(password)} {
		s.Add(base64.StdEncoding.EncodeToString([]byte(pair)))
	}
}

// forms are the spellings of v that output may carry.
func forms(v string) []string {
	js, _ := json.Marshal(v) // a string always marshals
	out := []string{
		v,
		url.QueryEscape(v),
		url.PathEscape(v),
		strings.Trim(string(js), `"`),
		html.EscapeString(v),
		escape.Text(v),
		escape.Markdown(v),
		base64.StdEncoding.EncodeToString([]byte(v)),
		base64.RawURLEncoding.EncodeToString([]byte(v)),
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// rebuild makes the replacer for the current forms, longest first so that a form containing
// another is masked whole.
func (s *Secrets) rebuild() {
	all := make([]string, 0, len(s.forms))
	for f := range s.forms {
		all = append(all, f)
	}
	slices.SortFunc(all, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(all))
	s.longest, s.newline = 0, false
	for _, f := range all {
		pairs = append(pairs, f, Mask)
		s.longest = max(s.longest, len(f))
		s.newline = s.newline || strings.ContainsAny(f, "\r\n")
	}
	s.replacer = strings.NewReplacer(pairs...)
}

// String returns text with every secret masked.
func (s *Secrets) String(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.replacer == nil {
		return text
	}
	return s.replacer.Replace(text)
}

// Bytes returns b with every secret masked.
func (s *Secrets) Bytes(b []byte) []byte {
	if s == nil {
		return b
	}
	return []byte(s.String(string(b)))
}

// pending returns how many bytes at the end of text may be the start of a secret, to be held
// back until more text shows whether it is one.
func (s *Secrets) pending(text string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.forms) == 0 {
		return 0
	}
	from := max(0, len(text)-s.longest+1)
	if !s.newline {
		// A secret without a line break cannot start before the last one.
		if i := strings.LastIndexAny(text, "\r\n"); i+1 > from {
			from = i + 1
		}
	}
	for i := from; i < len(text); i++ {
		tail := text[i:]
		for f := range s.forms {
			if len(f) > len(tail) && strings.HasPrefix(f, tail) {
				return len(tail)
			}
		}
	}
	return 0
}
