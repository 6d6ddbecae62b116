package escapetest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Outline is a Markdown document as GitHub reads it (CommonMark with the GFM extensions),
// reduced to what tests compare with what a renderer meant to write.
type Outline struct {
	// Blocks has one line per block, in document order, indented two spaces per level of
	// nesting: "heading 2: text", "paragraph: text", "blockquote", "list", "item", "html: raw
	// line", "fence diff: 12 lines", and the kind's name for any other block. Text is what a
	// reader sees: escapes and entities resolved, code spans as `content`, strong emphasis as
	// **text** and emphasis as *text*; any link, image, autolink, inline HTML or strikethrough
	// shows as <kind:content>, so it cannot hide in a paragraph's text.
	Blocks []string
	// Fences are the contents of the fenced code blocks, in order.
	Fences []string
	// Mentions are the words in plain text (not code) that GitHub would render as a mention or
	// an issue reference: @name, #123.
	Mentions []string
}

// reference is GitHub's notion of a mention or an issue reference, preceded by a non-word
// character.
var reference = regexp.MustCompile("(?:^|[^A-Za-z0-9_`])([@#][A-Za-z0-9][A-Za-z0-9_/-]*)")

// Parse reads md as GitHub does.
func Parse(md string) Outline {
	src := []byte(md)
	doc := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser().Parse(text.NewReader(src))
	var o Outline
	var walk func(n ast.Node, depth int)
	walk = func(n ast.Node, depth int) {
		indent := strings.Repeat("  ", depth)
		line := ""
		recurse := true
		switch n := n.(type) {
		case *ast.Heading:
			line, recurse = fmt.Sprintf("heading %d: %s", n.Level, o.inline(n, src)), false
		case *ast.Paragraph, *ast.TextBlock:
			line, recurse = "paragraph: "+o.inline(n, src), false
		case *ast.FencedCodeBlock:
			var b strings.Builder
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				b.Write(seg.Value(src))
			}
			o.Fences = append(o.Fences, b.String())
			line, recurse = fmt.Sprintf("fence %s: %d lines", n.Language(src), n.Lines().Len()), false
		case *ast.HTMLBlock:
			var lines []string
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				lines = append(lines, strings.TrimRight(string(seg.Value(src)), "\n"))
			}
			if n.HasClosure() {
				lines = append(lines, strings.TrimRight(string(n.ClosureLine.Value(src)), "\n"))
			}
			line, recurse = "html: "+strings.Join(lines, "\\n"), false
		case *ast.Blockquote:
			line = "blockquote"
		case *ast.List:
			line = "list"
		case *ast.ListItem:
			line = "item"
		case *ast.Document:
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				walk(c, depth)
			}
			return
		default:
			line, recurse = n.Kind().String(), false
		}
		o.Blocks = append(o.Blocks, indent+line)
		if recurse {
			for c := n.FirstChild(); c != nil; c = c.NextSibling() {
				walk(c, depth+1)
			}
		}
	}
	walk(doc, 0)
	return o
}

// inline is the text a reader sees in n's inline children; it records mentions on the way.
func (o *Outline) inline(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			t := string(util.ResolveEntityNames(util.ResolveNumericReferences(util.UnescapePunctuations(c.Segment.Value(src)))))
			for _, m := range reference.FindAllStringSubmatch(t, -1) {
				o.Mentions = append(o.Mentions, m[1])
			}
			b.WriteString(t)
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteString("\\n")
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			var code strings.Builder
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if t, ok := t.(*ast.Text); ok {
					code.Write(t.Segment.Value(src))
				}
			}
			b.WriteString("`" + code.String() + "`")
		case *ast.Emphasis:
			mark := strings.Repeat("*", c.Level)
			b.WriteString(mark + o.inline(c, src) + mark)
		case *ast.Link:
			fmt.Fprintf(&b, "<link:%s>", c.Destination)
		case *ast.Image:
			fmt.Fprintf(&b, "<image:%s>", c.Destination)
		case *ast.AutoLink:
			fmt.Fprintf(&b, "<autolink:%s>", c.URL(src))
		case *ast.RawHTML:
			var raw strings.Builder
			for i := 0; i < c.Segments.Len(); i++ {
				seg := c.Segments.At(i)
				raw.Write(seg.Value(src))
			}
			fmt.Fprintf(&b, "<html:%s>", raw.String())
		default:
			fmt.Fprintf(&b, "<%s:%s>", c.Kind(), o.inline(c, src))
		}
	}
	return b.String()
}
