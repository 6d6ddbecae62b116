package views_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/views"
)

// TestJSONDocument appends the diagnostics to every JSON object, empty or not, and refuses what
// is not an object.
func TestJSONDocument(t *testing.T) {
	diags := diag.List{{Severity: diag.Warning, Message: "careful"}}
	for in, want := range map[string]string{
		"{}\n":               "{\n  \"diagnostics\": [\n    {",
		"{\n  \"a\": 1\n}\n": "{\n  \"a\": 1,\n  \"diagnostics\": [\n    {",
	} {
		var b bytes.Buffer
		err := views.JSONDocument(&b, diags, func(w io.Writer) error { _, err := io.WriteString(w, in); return err })
		if err != nil || !strings.HasPrefix(b.String(), want) || !strings.HasSuffix(b.String(), "]\n}\n") {
			t.Errorf("%q: %v\n%s", in, err, b.String())
		}
	}
	if err := views.JSONDocument(io.Discard, nil, func(w io.Writer) error { _, err := io.WriteString(w, "[]"); return err }); err == nil {
		t.Error("a JSON array was accepted as a document")
	}
	failed := errors.New("failed")
	if err := views.JSONDocument(io.Discard, nil, func(io.Writer) error { return failed }); !errors.Is(err, failed) {
		t.Errorf("the writer's error = %v", err)
	}
}

// TestApplyNoChanges: with nothing to do, text says so and JSON is an empty result.
func TestApplyNoChanges(t *testing.T) {
	p := &plan.Plan{Realm: "r"}
	res := &operation.ApplyResult{Plan: p, Result: apply.Run(t.Context(), p, nil, apply.Options{})}
	var out, errOut bytes.Buffer
	if err := (views.Apply{Out: &out, ErrOut: &errOut, Format: output.Text}).Result(res, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "No changes.") || errOut.Len() > 0 {
		t.Errorf("text = %q, stderr %q", out.String(), errOut.String())
	}
	out.Reset()
	if err := (views.Apply{Out: &out, ErrOut: &errOut, Format: output.JSON}).Result(res, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"complete": true`) || !strings.HasSuffix(out.String(), "\"diagnostics\": []\n}\n") {
		t.Errorf("json = %s", out.String())
	}
}

// TestPlanFormats renders one plan in each of plan's formats.
func TestPlanFormats(t *testing.T) {
	p := &plan.Plan{Realm: "r"}
	for _, f := range views.PlanFormats {
		var b bytes.Buffer
		if err := views.Plan(&b, f, p, false, nil); err != nil || b.Len() == 0 {
			t.Errorf("%s: %v, %d bytes", f, err, b.Len())
		}
	}
}

// TestApplyRunFailureInTheResult: the lock lost during the run, or not released after it, is
// the JSON result's error, with its hints, so that stdout holds one document; null otherwise.
func TestApplyRunFailureInTheResult(t *testing.T) {
	t.Parallel()
	p := &plan.Plan{Realm: "r"}
	for _, tc := range []struct {
		name string
		res  operation.ApplyResult
		want string
	}{
		{"none", operation.ApplyResult{}, `"error": null`},
		{"lock lost", operation.ApplyResult{LockLost: errors.New("its lease ran out\x1b[2J")},
			`"error": {
    "message": "lost the apply lock after 0 changes; run plan again: its lease ran out\\x1b[2J",
    "hints": [
      "another apply may have taken the realm over; this run wrote nothing more once it could not prove it held the lock"
    ]
  }`},
		{"not released", operation.ApplyResult{ReleaseErr: errors.New("DELETE /roles/x: 500")},
			`"error": {
    "message": "DELETE /roles/x: 500",
    "hints": []
  }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.res
			res.Plan, res.Result = p, apply.Run(t.Context(), p, nil, apply.Options{})
			var out, errOut bytes.Buffer
			if err := (views.Apply{Out: &out, ErrOut: &errOut, Format: output.JSON}).Result(&res, nil); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tc.want) || !strings.Contains(out.String(), `"format_version": "1.3"`) {
				t.Errorf("json = %s\nwant it to hold %s", out.String(), tc.want)
			}
		})
	}
}
