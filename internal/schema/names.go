package schema

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits of Keycloak's default user profile (keycloak-default-user-profile.json, Keycloak 24+)
// and of CodeMie's attributes.
const (
	minUsernameLen = 3
	maxUsernameLen = 255
	maxEmailLen    = 255
	maxNameLen     = 255 // firstName, lastName
	maxAttrNameLen = 255
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

// checkUsername returns what is wrong with a username as Keycloak would see it, or "".
func checkUsername(s string) (problem, hint string) {
	switch n := utf8.RuneCountInString(s); {
	case n < minUsernameLen:
		return fmt.Sprintf("username %q is too short: Keycloak needs %d to %d characters", s, minUsernameLen, maxUsernameLen), ""
	case n > maxUsernameLen:
		return fmt.Sprintf("username is too long: %d characters, Keycloak allows at most %d", n, maxUsernameLen), ""
	}
	if strings.HasPrefix(strings.ToLower(s), "service-account-") {
		return fmt.Sprintf("username %q is a client's service account: roster never manages service accounts", s),
			"manage the client's service account in Keycloak, or pick another username"
	}
	if c := usernameProhibited.FindString(s); c != "" {
		return fmt.Sprintf("username %q contains %s, which Keycloak does not allow in usernames", s, quoteChar(c)),
			"use letters, digits and . _ - @"
	}
	return "", ""
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
	best, bestD := "", 0
	for _, c := range candidates {
		if strings.EqualFold(s, c) {
			return c
		}
		d := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if limit := max(1, min(len(s), len(c))/3); d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// levenshtein is the edit distance between a and b, counted in bytes.
func levenshtein(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		return max(len(a), len(b)) // not worth comparing; never "close"
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
