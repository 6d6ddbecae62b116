package output

import "testing"

func TestFlagAcceptsOnlyItsFormats(t *testing.T) {
	t.Parallel()
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

func TestDocumentsHaveOneVersionEach(t *testing.T) {
	t.Parallel()
	for d := PlanDocument; d <= DoctorDocument; d++ {
		if d.Version() == "" || d.String() == "" {
			t.Errorf("document %d has no version or name", int(d))
		}
	}
	if PlanDocument.Version() != "2.0" || PlanDocument.Major() != "2" {
		t.Errorf("plan = %s (major %s), want 2.0", PlanDocument.Version(), PlanDocument.Major())
	}
	if d := Document(99); d.Version() != "" || d.String() != "Document(99)" {
		t.Errorf("unknown document = %q %q", d.Version(), d)
	}
	for _, tc := range []struct {
		name   string
		verify bool
		want   Document
		ok     bool
	}{
		{"plan", false, PlanDocument, true},
		{"access", false, AccessDocument, true},
		{"access", true, VerifyDocument, true},
		{"doctor", false, DoctorDocument, true},
		{"export", false, 0, false},
	} {
		if d, ok := ForCommand(tc.name, tc.verify); d != tc.want || ok != tc.ok {
			t.Errorf("ForCommand(%q, %v) = %v, %v; want %v, %v", tc.name, tc.verify, d, ok, tc.want, tc.ok)
		}
	}
}
