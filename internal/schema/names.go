package schema

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rosterhq/roster/internal/model"
)

// Limits of Keycloak's default user profile (keycloak-default-user-profile.json, Keycloak 24+)
// and of CodeMie's attributes.
const (
	minUsernameLen = 3
	maxUsernameLen = 255
	maxEmailLen    = 255
	// maxDomainLabelLen is the longest label of a domain name (RFC 1035), which Keycloak's email
	// validator enforces.
	maxDomainLabelLen = 63
	maxNameLen        = 255 // firstName, lastName
	maxAttrNameLen    = 255
	// maxAttrValueLen is Keycloak's cap on one attribute value without an explicit length
	// validator (DefaultAttributes.DEFAULT_MAX_LENGTH_ATTRIBUTES). roster writes a user's
	// projects as one comma-joined value, so the whole list must fit.
	maxAttrValueLen = 2048
	maxProjectLen   = 255
)

// usernameProhibited is the character class Keycloak's UsernameProhibitedCharactersValidator
// refuses: ^[^<>&"'\s\v\h$%!#?§,;:*~/\\|^=\[\]{}()`\p{Cntrl}]+$. Java's \s, \v and \h are
// spelled out: ASCII whitespace, vertical and horizontal Unicode whitespace.
var usernameProhibited = regexp.MustCompile("[<>&\"'$%!#?§,;:*~/\\\\|^=\\[\\]{}()`" +
	"\\s\\x0B\\x{85}\\x{2028}\\x{2029}\\x{A0}\\x{1680}\\x{180E}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}" +
	"\\x00-\\x1F\\x7F]")

// personNameProhibited is the class of PersonNameProhibitedCharactersValidator:
// ^[^<>&"\v$%!#?§;*~/\\|^=\[\]{}()\p{Cntrl}]+$ (spaces, commas, apostrophes are fine).
var personNameProhibited = regexp.MustCompile("[<>&\"$%!#?§;*~/\\\\|^=\\[\\]{}()" +
	"\\n\\x0B\\f\\r\\x{85}\\x{2028}\\x{2029}\\x00-\\x1F\\x7F]")

// projectName is the project-name charset roster accepts: lowercase ASCII letters, digits and
// . _ @ + -, starting with a letter or digit, so that an email can be a personal project.
var projectName = regexp.MustCompile(`^[a-z0-9][a-z0-9._@+-]*$`)

// emailLocal and emailDomain approximate Keycloak's EmailValidationUtil: a dot-atom local part
// of at most 64 characters, and a domain of dot-separated labels (Unicode letters allowed,
// as Keycloak accepts internationalised domains).
var (
	emailLocal  = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
	emailDomain = regexp.MustCompile(`^[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?(\.[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?)+$`)
)

// checkUsername returns what is wrong with a username as Keycloak's default user profile sees
// it, or "": the validators length (3 to 255), username-prohibited-characters and
// up-username-not-idn-homograph. Keycloak runs them on the username as it stores it (lowercase,
// as Java lowercases) only for a single create; a batched create (partial import) skips them,
// so roster must refuse what they refuse before either.
func checkUsername(s string) (problem, hint string) {
	stored := keycloakLower(s)
	switch n := utf16Len(strings.TrimFunc(stored, isJavaTrimmed)); {
	case n < minUsernameLen:
		return fmt.Sprintf("username %q is too short: Keycloak needs %d to %d characters", s, minUsernameLen, maxUsernameLen),
			"use at least 3 characters (an emoji counts as 2)"
	case n > maxUsernameLen:
		return fmt.Sprintf("username is too long: %d characters, Keycloak allows at most %d", n, maxUsernameLen),
			"use at most 255 characters (an emoji counts as 2)"
	}
	if strings.HasPrefix(strings.ToLower(s), "service-account-") {
		return fmt.Sprintf("username %q is a client's service account: roster never manages service accounts", s),
			"manage the client's service account in Keycloak, or pick another username"
	}
	if c := usernameProhibited.FindString(s); c != "" {
		return fmt.Sprintf("username %q contains %s, which Keycloak does not allow in usernames", s, quoteChar(c)),
			"use letters, digits and . _ - @"
	}
	for _, r := range stored {
		if unicode.Is(unicode.Latin, r) || unicode.Is(unicode.Common, r) {
			continue
		}
		if r == '\u0307' && strings.ContainsRune(s, '\u0130') {
			return fmt.Sprintf("username %q contains İ (U+0130), which Keycloak stores as i with a combining dot and then refuses", s),
				"write a plain i"
		}
		return fmt.Sprintf("username %q contains %s: Keycloak accepts only Latin letters and common characters (digits, punctuation, symbols) in usernames, so that one name cannot imitate another", s, describeRune(r)),
			"write the name in Latin letters, without combining or joining marks"
	}
	return "", ""
}

// usernameLookalike returns why a username Keycloak accepts may still pass for another, or "":
// it holds an invisible formatting character (zero-width space, word joiner, soft hyphen,
// direction override) or a fullwidth form of a Latin letter or digit.
func usernameLookalike(s string) string {
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("username %q contains the invisible character %U: it shows as %q, and Keycloak accepts it", s, r, strings.Map(dropFormat, s))
		case isFullwidth(r):
			return fmt.Sprintf("username %q contains the fullwidth character %U (%c): it looks like %q, and Keycloak accepts it", s, r, r, strings.Map(fromFullwidth, s))
		}
	}
	return ""
}

// isFullwidth reports whether r is a fullwidth form of a printable ASCII character.
func isFullwidth(r rune) bool { return r >= 0xFF01 && r <= 0xFF5E }

// fromFullwidth maps a fullwidth form to its ASCII character.
func fromFullwidth(r rune) rune {
	if isFullwidth(r) {
		return r - 0xFF01 + '!'
	}
	return r
}

func dropFormat(r rune) rune {
	if unicode.Is(unicode.Cf, r) {
		return -1
	}
	return r
}

// keycloakLower lowercases as Keycloak (Java's String.toLowerCase) does where it differs from
// Go: capital I with dot above becomes i followed by a combining dot above.
func keycloakLower(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "\u0130", "i\u0307"))
}

// isJavaTrimmed reports whether Java's String.trim removes r: every character up to U+0020.
func isJavaTrimmed(r rune) bool { return r <= ' ' }

// utf16Len is the length of s as Java counts it, in UTF-16 code units: Keycloak's length
// validator counts a character outside the Basic Multilingual Plane (an emoji) as two.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// describeRune names a character and its script: "the Cyrillic character U+0430 (а)", "the
// combining character U+0301".
func describeRune(r rune) string {
	if unicode.Is(unicode.Inherited, r) {
		return fmt.Sprintf("the combining or joining character %U", r)
	}
	for _, name := range slices.Sorted(maps.Keys(unicode.Scripts)) {
		if unicode.Is(unicode.Scripts[name], r) {
			return fmt.Sprintf("the %s character %U (%c)", strings.ReplaceAll(name, "_", " "), r, r)
		}
	}
	return fmt.Sprintf("the unassigned character %U", r)
}

// checkEmail returns what is wrong with an email address, or "".
func checkEmail(s string) string {
	if n := utf8.RuneCountInString(s); n > maxEmailLen {
		return fmt.Sprintf("email is too long: %d characters, Keycloak allows at most %d", n, maxEmailLen)
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || len(local) > 64 || !emailLocal.MatchString(local) || !emailDomain.MatchString(domain) {
		return fmt.Sprintf("email %q is not a valid address", s)
	}
	for label := range strings.SplitSeq(domain, ".") {
		// Keycloak converts the domain to ASCII (IDN) and refuses a label longer than 63; the
		// UTF-8 length bounds that of an ASCII label exactly and of most others from above.
		if len(label) > maxDomainLabelLen {
			return fmt.Sprintf("email %q is not a valid address: the domain part %q is longer than %d characters", s, label, maxDomainLabelLen)
		}
	}
	return ""
}

// checkPersonName returns what is wrong with a first or last name, or "".
func checkPersonName(field, s string) string {
	if n := utf8.RuneCountInString(s); n > maxNameLen {
		return fmt.Sprintf("%s is too long: %d characters, Keycloak allows at most %d", field, n, maxNameLen)
	}
	if c := personNameProhibited.FindString(s); c != "" {
		return fmt.Sprintf("%s %q contains %s, which Keycloak does not allow in names", field, s, quoteChar(c))
	}
	return ""
}

// checkProject returns what is wrong with a project name, with a hint, or "".
func checkProject(s string) (problem, hint string) {
	switch {
	case s == "":
		return "project name is empty", ""
	case strings.Contains(s, ","):
		return fmt.Sprintf("project name %q contains a comma: CodeMie splits its applications attribute on commas", s),
			"write each project as its own list item"
	case utf8.RuneCountInString(s) > maxProjectLen:
		return fmt.Sprintf("project name is too long: %d characters, at most %d", utf8.RuneCountInString(s), maxProjectLen), ""
	case projectName.MatchString(s):
		return "", ""
	case projectName.MatchString(strings.ToLower(s)):
		return fmt.Sprintf("project name %q has upper case: CodeMie project names are lowercase", s),
			fmt.Sprintf("write %q", strings.ToLower(s))
	}
	return fmt.Sprintf("project name %q has characters other than a-z, 0-9 and . _ @ + -, or does not start with a letter or digit", s), ""
}

func quoteChar(c string) string {
	r, _ := utf8.DecodeRuneInString(c)
	if r == ' ' {
		return "a space"
	}
	if r < 0x20 || r == 0x7F || r > 0x7F && r != '§' {
		return fmt.Sprintf("the character %U", r)
	}
	return fmt.Sprintf("%q", c)
}

// didYouMean returns the candidate closest to s, or "" when none is close: equal ignoring case,
// or within an edit distance of about a third of its length.
func didYouMean(s string, candidates []string) string {
	return newSuggester(candidates).suggest(s)
}

// suggester answers didYouMean for many names against one list of candidates (the 100,000
// usernames of a file, for each unknown member of a team) without comparing each name with
// every candidate. Its answer is the one a scan of the list in order gives: the first
// candidate equal to the name ignoring case, else the first of those at the smallest edit
// distance (in bytes, both lowercased) within max(1, min(len(s), len(c))/3).
type suggester struct {
	candidates []string
	lower      []string
	// folded maps a candidate's case-folded form (model.FoldKey) to its first index.
	folded map[string]int
	// sorted holds the indexes of the candidates in the order of their lowercase forms, so
	// that those sharing a prefix are neighbours: the distance rows of a prefix are computed
	// once for all of them, and all are skipped once a row shows none can be close.
	sorted []int
}

func newSuggester(candidates []string) *suggester {
	x := &suggester{candidates: candidates, lower: make([]string, len(candidates)),
		folded: make(map[string]int, len(candidates)), sorted: make([]int, len(candidates))}
	for i, c := range candidates {
		x.lower[i] = strings.ToLower(c)
		k := model.FoldKey(c)
		if _, dup := x.folded[k]; !dup {
			x.folded[k] = i
		}
		x.sorted[i] = i
	}
	slices.SortStableFunc(x.sorted, func(a, b int) int { return strings.Compare(x.lower[a], x.lower[b]) })
	return x
}

func (x *suggester) suggest(s string) string {
	if i, ok := x.folded[model.FoldKey(s)]; ok {
		return x.candidates[i]
	}
	q := strings.ToLower(s)
	type hit struct{ i, d int }
	var found []hit
	consider := func(i, d int) {
		if d <= max(1, min(len(s), len(x.candidates[i]))/3) {
			found = append(found, hit{i, d})
		}
	}
	// rows[j] is the last row of the edit-distance table for the first j bytes of prev.
	rows := [][]int{make([]int, len(q)+1)}
	for j := range rows[0] {
		rows[0][j] = j
	}
	prev, valid := "", 0
	bound := max(1, len(s)/3) // no candidate's limit is larger
	for k := 0; k < len(x.sorted); k++ {
		i := x.sorted[k]
		c := x.lower[i]
		if len(q) > 256 || len(c) > 256 {
			if d, ok := editDistanceWithin(q, c, bound); ok {
				consider(i, d)
			}
			continue
		}
		j := min(valid, commonPrefix(prev, c))
		prev = c
		for ; j < len(c); j++ {
			if len(rows) <= j+1 {
				rows = append(rows, make([]int, len(q)+1))
			}
			if least := nextRow(rows[j], rows[j+1], q, c[j]); least > bound {
				break
			}
		}
		valid = j
		if j < len(c) {
			// No candidate starting with c[:j+1] comes within bound: skip them all.
			block := c[:j+1]
			k += sort.Search(len(x.sorted)-k, func(n int) bool { return !strings.HasPrefix(x.lower[x.sorted[k+n]], block) }) - 1
			continue
		}
		consider(i, rows[len(c)][len(q)])
	}
	// Replay the close ones in the list's order, as a scan keeps the closest so far (an empty
	// candidate counts as none kept).
	slices.SortFunc(found, func(a, b hit) int { return a.i - b.i })
	best, bestD := "", 0
	for _, f := range found {
		if best == "" || f.d < bestD {
			best, bestD = x.candidates[f.i], f.d
		}
	}
	return best
}

// commonPrefix is the length of the longest common prefix of a and b, in bytes.
func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// nextRow fills cur, the row of the edit-distance table between q and a string one byte (c)
// longer than prev's, and returns its minimum, which no later row goes below.
func nextRow(prev, cur []int, q string, c byte) int {
	cur[0] = prev[0] + 1
	least := cur[0]
	for j := 1; j <= len(q); j++ {
		cost := 1
		if q[j-1] == c {
			cost = 0
		}
		cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		least = min(least, cur[j])
	}
	return least
}

// levenshtein is the edit distance between a and b, counted in bytes.
func levenshtein(a, b string) int {
	d, _ := editDistanceWithin(a, b, math.MaxInt)
	return d
}

// editDistanceWithin returns the edit distance between a and b, counted in bytes, when it is
// at most k. Strings longer than 256 bytes are not worth comparing: their distance is taken as
// the longer one's length, never close.
func editDistanceWithin(a, b string, k int) (int, bool) {
	if len(a) > 256 || len(b) > 256 {
		d := max(len(a), len(b))
		return d, d <= k
	}
	if k < 0 || len(a)-len(b) > k || len(b)-len(a) > k {
		return 0, false
	}
	var rows [2][257]int
	prev, cur := &rows[0], &rows[1]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		least := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			least = min(least, cur[j])
		}
		if least > k {
			return 0, false // no row has a smaller minimum than the one before
		}
		prev, cur = cur, prev
	}
	return prev[len(b)], prev[len(b)] <= k
}
