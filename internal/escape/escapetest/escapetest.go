// Package escapetest holds what tests of escaped output share: hostile values, a Markdown parser
// that reduces a document to an outline, and a scan for control characters. Only tests import
// it.
package escapetest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Hostile are values that try to forge the output around them: code-fence breakers, a heading
// and a "no changes" line after a line feed, HTML, a mention, a javascript: link, terminal
// escape sequences (erase the screen, an OSC 8 hyperlink), a carriage return, a backspace, a
// right-to-left override and a byte that is not UTF-8. None holds a comma, which project lists
// split on.
var Hostile = []string{
	"```\n# No changes\n```",
	"~~~\n## safe to merge",
	"x\n# No changes. The realm matches the configuration.",
	"</details><details><summary>nothing here",
	"<!-- the rest is hidden",
	"<img src=x onerror=alert(1)>",
	"@admins please approve",
	"[docs](javascript:alert(1))",
	"\x1b[2Jcleared",
	"\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
	"ok\rforged",
	"back\bspace",
	"abc\u202edef",
	"1. ordered",
	"- listed",
	"www.evil.example",
	"&#64;entity",
	"bad\xffbyte",
}

// Controls lists the characters of s that act on a terminal or on the layout: control
// characters other than the line feeds that end lines (and, when sgr is true, other than the
// colour sequences roster writes itself), the line and paragraph separators, bidirectional
// formatting characters, and bytes that are not UTF-8. It returns nil for safe text.
func Controls(s string, sgr bool) []string {
	if sgr {
		for _, c := range []string{"\x1b[0m", "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[33m"} {
			s = strings.ReplaceAll(s, c, "")
		}
	}
	var found []string
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			found = append(found, fmt.Sprintf("byte %#x at %d", s[i], i))
		case r == '\n':
		case r < 0x20 || r >= 0x7f && r < 0xa0, r == '\u2028', r == '\u2029', r == '\u061c', r == '\u200e', r == '\u200f',
			r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
			found = append(found, fmt.Sprintf("%U at %d", r, i))
		}
		i += size
	}
	return found
}
