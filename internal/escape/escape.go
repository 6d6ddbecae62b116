package escape

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns s with every character that could act on a terminal or on the layout of the
// output written as its Go escape sequence: C0 and C1 control characters and DEL (escape
// sequences, carriage return, backspace, line feed and tab included), the line and paragraph
// separators, and the bidirectional formatting characters that reorder how text reads. A byte
// that is not UTF-8 becomes \xNN. Everything else, backslashes included, is kept as is.
func Text(s string) string {
	if strings.IndexFunc(s, unsafe) < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafe(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// unsafe reports whether r must not reach a terminal as itself.
func unsafe(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u2028' || r == '\u2029': // line and paragraph separators
		return true
	case r == '\u061c' || r == '\u200e' || r == '\u200f': // directional marks
		return true
	case r >= '\u202a' && r <= '\u202e': // embeddings and overrides
		return true
	case r >= '\u2066' && r <= '\u2069': // isolates
		return true
	}
	return false
}

// inline escapes the characters that Markdown or HTML would read as syntax inside a line ($ is
// GitHub's inline maths). Markdown's backslash escapes keep the character visible; <, > and &
// become entities, which also keeps character references such as &#64; literal.
var inline = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, `~`, `\~`, `|`, `\|`, `$`, `\$`,
	`<`, `&lt;`, `>`, `&gt;`, `&`, `&amp;`,
)

// Markdown returns s as literal Markdown prose, for a line roster starts itself (after a list
// marker or a blockquote, say): s goes through Text, so it cannot end the line; characters
// Markdown or HTML would interpret are escaped, a leading character that could start a block
// (a heading, a list, a quote, indented code) included; and every space-separated word GitHub would turn into
// a link or a notification — holding @, #, ://, www. or a mailto:/xmpp: scheme — is set in a
// code span, where GitHub renders it as written.
func Markdown(s string) string {
	words := strings.Split(Text(s), " ")
	for i, w := range words {
		if linkish(w) {
			words[i] = Code(w)
		} else {
			words[i] = inline.Replace(w)
		}
	}
	out := strings.Join(words, " ")
	if strings.HasPrefix(out, " ") {
		// Four spaces would start an indented code block; a space written as a character
		// reference counts for none.
		return "&#32;" + out[1:]
	}
	if out != "" && strings.ContainsRune("+-=", rune(out[0])) {
		return `\` + out
	}
	// "1." and "1)" start an ordered list: escape the delimiter after the digits.
	if end := strings.IndexFunc(out, func(r rune) bool { return r < '0' || r > '9' }); end > 0 &&
		(out[end] == '.' || out[end] == ')') {
		return out[:end] + `\` + out[end:]
	}
	return out
}

// linkish reports whether GitHub would render word, or part of it, as a link or a mention.
func linkish(w string) bool {
	l := strings.ToLower(w)
	return strings.ContainsAny(l, "@#") || strings.Contains(l, "://") || strings.Contains(l, "www.") ||
		strings.Contains(l, "mailto:") || strings.Contains(l, "xmpp:")
}

// Code returns s as a Markdown code span: s goes through Text, and the span's backtick
// delimiters are longer than any run of backticks in it, so nothing in s can close it early.
func Code(s string) string {
	t := Text(s)
	delim := strings.Repeat("`", longestRun(t, '`')+1)
	switch {
	case t == "":
		return "` `"
	case t[0] == '`' || t[len(t)-1] == '`',
		t[0] == ' ' && t[len(t)-1] == ' ' && strings.Trim(t, " ") != "":
		// A backtick next to the delimiter would lengthen it, and CommonMark strips one space
		// from each end of a span that has one on both ends (and is not all spaces): pad with
		// the spaces it strips.
		t = " " + t + " "
	}
	return delim + t + delim
}

// Fence returns the fence for a fenced code block holding body: backticks, at least three and
// more than the longest run of backticks in body, so no line of body can close the block. The
// lines of body must already have gone through Text; a line feed inside a value would otherwise
// start a line of its own.
func Fence(body string) string {
	return strings.Repeat("`", max(3, longestRun(body, '`')+1))
}

func longestRun(s string, c byte) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}
