package output

import "testing"

func TestFlagAcceptsOnlyItsFormats(t *testing.T) {
	f := NewFlag(Text, Markdown, JSON)
	if f.Format() != Text {
		t.Fatalf("default = %v, want text", f.Format())
	}
	if err := f.Set("markdown"); err != nil || !f.Is(Markdown) {
		t.Fatalf("Set(markdown) = %v, format %v", err, f.Format())
	}
	err := f.Set("html")
	if err == nil || err.Error() != `unknown format "html": use text, markdown or json` {
		t.Fatalf("Set(html) = %v", err)
	}
	if !f.Is(Markdown) {
		t.Fatalf("a refused value changed the format to %v", f.Format())
	}
	if got := Format(9).String(); got != "Format(9)" {
		t.Fatalf("String of an unknown format = %q", got)
	}
}
