package escape_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/escape/escapetest"
)

var hostile = escapetest.Hostile

func TestTextLeavesNoControl(t *testing.T) {
	t.Parallel()
	for _, s := range hostile {
		got := escape.Text(s)
		if c := escapetest.Controls(got, false); c != nil || strings.Contains(got, "\n") {
			t.Errorf("Text(%q) = %q: %v survive", s, got, c)
		}
	}
	for in, want := range map[string]string{
		"bob":                         "bob",
		"Zoë O'Brien <z@corp.com> \\": "Zoë O'Brien <z@corp.com> \\",
		"a\nb\tc\rd\x1b[2J":           `a\nb\tc\rd\x1b[2J`,
		"abc\u202edef\u2066":          `abc\u202edef\u2066`,
		"\u009b31m":                   `\u009b31m`,
		"bad\xffbyte":                 `bad\xffbyte`,
	} {
		if got := escape.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMarkdownIsOneLiteralParagraph parses every hostile value after escape.Markdown: it must be
// one paragraph that reads exactly as Text writes the value, with no link, HTML or mention.
func TestMarkdownIsOneLiteralParagraph(t *testing.T) {
	t.Parallel()
	for _, s := range append(hostile, "user \"@bob\" left bob@corp.com #12 * _x_ | a $x$", "plain words: a-b, c.d (e)") {
		md := escape.Markdown(s)
		o := escapetest.Parse("- " + md + "\n")
		want := []string{"list", "  item", "    paragraph: " + display(escape.Text(s))}
		if strings.Join(o.Blocks, "\n") != strings.Join(want, "\n") || len(o.Mentions) > 0 {
			t.Errorf("Markdown(%q) = %q\nparsed: %q, mentions %q\nwant:   %q", s, md, o.Blocks, o.Mentions, want)
		}
	}
	for _, s := range []string{"bob", "1 user not managed by this file, left alone", "Zoë O'Brien"} {
		if got := escape.Markdown(s); got != s {
			t.Errorf("Markdown(%q) = %q, want it unchanged", s, got)
		}
	}
}

// display is how the outline shows s after Markdown: the words Markdown sets in code spans
// between backticks.
func display(s string) string {
	words := strings.Split(s, " ")
	for i, w := range words {
		if strings.HasPrefix(escape.Markdown(w), "`") {
			words[i] = "`" + w + "`"
		}
	}
	return strings.Join(words, " ")
}

func TestCodeAndFenceHoldAnyBackticks(t *testing.T) {
	t.Parallel()
	for _, s := range append(hostile, "`", "a``b", "````") {
		o := escapetest.Parse("x " + escape.Code(s) + " y\n")
		if want := "paragraph: x `" + escape.Text(s) + "` y"; len(o.Blocks) != 1 || o.Blocks[0] != want {
			t.Errorf("Code(%q) = %q parsed as %q, want %q", s, escape.Code(s), o.Blocks, want)
		}
		body := "+ " + escape.Text(s) + "\n" + escape.Text(s) + "\n"
		fence := escape.Fence(body)
		o = escapetest.Parse(fence + "diff\n" + body + fence + "\n\nafter\n")
		if len(o.Blocks) != 2 || o.Blocks[0] != "fence diff: 2 lines" || o.Fences[0] != body || o.Blocks[1] != "paragraph: after" {
			t.Errorf("fence %q around %q parsed as %q %q", fence, body, o.Blocks, o.Fences)
		}
	}
	if got := escape.Fence("+ user \"bob\"\n"); got != "```" {
		t.Errorf("Fence of a plain body = %q, want ```", got)
	}
}

// FuzzMarkdown checks on any value what TestMarkdownIsOneLiteralParagraph and
// TestCodeAndFenceHoldAnyBackticks check on the hostile ones: after a list marker,
// escape.Markdown is one paragraph with nothing but text and code in it, reading as escape.Text
// writes the value; escape.Code is one code span holding exactly that.
func FuzzMarkdown(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o := escapetest.Parse("x " + escape.Code(s) + " y\n")
		if want := "paragraph: x `" + escape.Text(s) + "` y"; strings.Trim(escape.Text(s), " ") != "" && (len(o.Blocks) != 1 || o.Blocks[0] != want) {
			t.Errorf("Code(%q) = %q parsed as %q, want %q", s, escape.Code(s), o.Blocks, want)
		}
		md := escape.Markdown(s)
		o = escapetest.Parse("- " + md + "\n")
		// Code spans add backticks, and a paragraph drops the spaces around its text (roster
		// writes values inside sentences): compare without either.
		norm := func(s string) string { return strings.Trim(strings.ReplaceAll(s, "`", ""), " ") }
		if norm(escape.Text(s)) == "" {
			return
		}
		if len(o.Blocks) != 3 || norm(strings.TrimPrefix(o.Blocks[2], "    paragraph: ")) != norm(escape.Text(s)) || len(o.Mentions) > 0 {
			t.Errorf("Markdown(%q) = %q\nparsed: %q, mentions %q", s, md, o.Blocks, o.Mentions)
		}
	})
}
