package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/escape/escapetest"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/views"
)

// checkLines fails unless out has exactly lines lines and no control character.
func checkLines(t *testing.T, what, out string, lines int) {
	t.Helper()
	if c := escapetest.Controls(out, false); c != nil {
		t.Errorf("%s: control characters %v in\n%s", what, c, out)
	}
	if got := strings.Count(out, "\n"); got != lines {
		t.Errorf("%s: %d lines, want %d:\n%s", what, got, lines, out)
	}
}

// TestErrorsCannotForgeLines prints errors that quote hostile server text, as errors carrying
// a server's message do, with a hostile hint: each stays on its line.
func TestErrorsCannotForgeLines(t *testing.T) {
	for _, h := range escapetest.Hostile {
		ios, _, _, stderr := iostreams.Test()
		printError(ios, withHint(errors.New("POST /users: 400 Bad Request: "+h), "hint "+h))
		checkLines(t, "error "+h, stderr.String(), 2)
	}
}

// TestDoctorTextCannotBeForged renders doctor checks whose names, details and fixes hold
// hostile values (doctor quotes realm names, mapper names and server answers).
func TestDoctorTextCannotBeForged(t *testing.T) {
	var r doctor.Report
	for _, h := range escapetest.Hostile {
		r.Checks = append(r.Checks, doctor.Check{Name: "mapper " + h, Status: doctor.Fail, Detail: "found " + h, Fix: "rename " + h})
	}
	var b bytes.Buffer
	if err := writeDoctorText(&b, r); err != nil {
		t.Fatal(err)
	}
	checkLines(t, "doctor", b.String(), 2*len(r.Checks)+2)
}

// TestValidateDiagnosticsStayOnOneLine validates a file whose name and values are hostile:
// a file in a pull request may be named anything.
func TestValidateDiagnosticsStayOnOneLine(t *testing.T) {
	y := "version: 1\nrealm: r\nusers:\n" +
		"  - username: \"bob\\nroster: hint: x\\e]8;;http://x\\e\\\\\"\n    role: \"adm\\rin\\u202e\"\n    projects: {member: [\"a\\nb\"]}\n"
	cfg, diags := schema.LoadFiles([]schema.File{{Name: "users/a\x1b[2J\n# ok\u202e.yaml", Data: []byte(y)}}, schema.Options{})
	if len(diags) < 3 {
		t.Fatalf("want at least 3 diagnostics, got %v", diags)
	}
	var b bytes.Buffer
	if err := views.Validate(&b, output.Text, &operation.Validated{Config: cfg, Diags: diags, Failed: true}); err != nil {
		t.Fatal(err)
	}
	checkLines(t, "validate", b.String(), len(diags)+1)
}

// TestValidateFileNamesStayOnOneLine validates a valid file whose name (a pull request can add a
// file named anything) would forge a "Success!" line and clear the terminal.
func TestValidateFileNamesStayOnOneLine(t *testing.T) {
	name := "x\nSuccess! 0 files, 0 users\x1b[2K.yaml"
	cfg, diags := schema.LoadFiles([]schema.File{{Name: name, Data: []byte("version: 1\nrealm: r\n")}}, schema.Options{})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	var b bytes.Buffer
	if err := views.Validate(&b, output.Text, &operation.Validated{Config: cfg, Diags: diags}); err != nil {
		t.Fatal(err)
	}
	checkLines(t, "validate", b.String(), 2)
}
