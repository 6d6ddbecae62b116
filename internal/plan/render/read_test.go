package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// A plan read back from its JSON renders exactly as the plan itself, in every format: roster
// show of a saved plan prints what roster plan printed.
func TestReadJSONRendersAsTheOriginal(t *testing.T) {
	t.Parallel()
	plans := scenarios(t)
	// A disabled user whom the file enables again: the only access JSONAccess alone cannot tell.
	grace := user("grace", model.RoleDeveloper, model.Grants{Member: []string{"payments"}})
	grace.Enabled = ptr(true)
	off := member("grace", "payments")
	off.Enabled = false
	plans["enable"] = build(t, config(grace), realm(off), plan.Options{})
	plans["huge"] = huge(t)
	pre := build(t, config(grace), realm(off), plan.Options{})
	pre.Prerequisites = []plan.Prerequisite{
		{Error: true, Problem: `realm "codemie-prod" has no client "codemie"`, Fix: "set settings.codemie.clientId"},
		{Problem: "a risk", Fix: "a fix"},
	}
	plans["prerequisites"] = pre
	for name, p := range plans {
		t.Run(name, func(t *testing.T) {
			back, err := ReadJSON([]byte(render(t, "json", p)))
			if err != nil {
				t.Fatalf("ReadJSON: %v", err)
			}
			for _, format := range []string{"txt", "color.txt", "md"} {
				if diff := cmp.Diff(render(t, format, p), render(t, format, back)); diff != "" {
					t.Errorf("%s differs after the round trip (-original +read):\n%s", format, diff)
				}
			}
		})
	}
}

func TestReadJSONRefusesWhatItDoesNotKnow(t *testing.T) {
	t.Parallel()
	valid := render(t, "json", scenarios(t)["updates"])
	for name, tc := range map[string]struct {
		edit func(m map[string]any)
		want string
	}{
		"format": {func(m map[string]any) { m["format_version"] = "1.4" }, `the plan has JSON format "1.4", but this roster reads 2.x: ` +
			`make the plan again with this roster (roster plan --out FILE), or show it with the roster that made it`},
		"minor":      {func(m map[string]any) { m["format_version"] = "2.9"; change(m)["kind"] = "group" }, `change 1 (user.bob): unknown kind "group"`},
		"field type": {func(m map[string]any) { field(m)["type"] = "number" }, `change 1 (user.bob): field "email" has unknown type "number"`},
		"field value": {func(m map[string]any) { field(m)["after"] = true },
			`change 1 (user.bob): field "email": after is not of type string: json: cannot unmarshal bool into Go value of type string`},
		"empty values": {func(m map[string]any) { field(m)["type"] = "values"; field(m)["before"] = []string{} },
			`change 1 (user.bob): field "email": before is an empty list: an absent value of type values is null`},
		"secret value": {func(m map[string]any) { field(m)["type"] = "secret"; field(m)["sensitive"] = true },
			`change 1 (user.bob): field "email": before is set: a secret's value is never in a plan`},
		"not sensitive": {func(m map[string]any) { field(m)["sensitive"] = true }, `change 1 (user.bob): field "email" has type string but sensitive true`},
		"kind":          {func(m map[string]any) { change(m)["kind"] = "group" }, `change 1 (user.bob): unknown kind "group"`},
		"action":        {func(m map[string]any) { change(m)["actions"] = []string{"replace"} }, `change 1 (user.bob): unknown action "replace"`},
		"actions":       {func(m map[string]any) { change(m)["actions"] = []string{} }, `change 1 (user.bob): 0 actions, want 1`},
		"codemie": {
			func(m map[string]any) { change(m)["codemie"].(map[string]any)["after"] = "Admin" },
			`change 1 (user.bob): its CodeMie meaning "Regular User (payments)" → "Admin" does not match its access lists`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal([]byte(valid), &m); err != nil {
				t.Fatal(err)
			}
			tc.edit(m)
			b, _ := json.Marshal(m)
			_, err := ReadJSON(b)
			if err == nil || err.Error() != tc.want {
				t.Errorf("ReadJSON = %v, want %s", err, tc.want)
			}
		})
	}
	if _, err := ReadJSON([]byte("{")); err == nil || !strings.HasPrefix(err.Error(), "the plan is not valid JSON") {
		t.Errorf("ReadJSON of broken JSON = %v", err)
	}
}

func change(m map[string]any) map[string]any { return m["changes"].([]any)[0].(map[string]any) }

// field is the first field of the first change.
func field(m map[string]any) map[string]any { return change(m)["fields"].([]any)[0].(map[string]any) }

// A saved plan is a file anyone may have written: its prerequisites, which Text prints as
// roster wrote them, cannot write control sequences to the terminal.
func TestReadJSONPrerequisitesAreMadeSafe(t *testing.T) {
	t.Parallel()
	p := scenarios(t)["updates"]
	p.Prerequisites = []plan.Prerequisite{{Error: true, Problem: "no client \x1b[2J\"codemie\"", Fix: "create it\nNote: forged"}}
	back, err := ReadJSON([]byte(render(t, "json", p)))
	if err != nil {
		t.Fatal(err)
	}
	got := render(t, "txt", back)
	if strings.Contains(got, "\x1b") || strings.Contains(got, "\nNote: forged") {
		t.Errorf("a prerequisite from the file reached the terminal raw:\n%q", got)
	}
	if _, err := ReadJSON([]byte(strings.Replace(render(t, "json", p), `"severity": "error"`, `"severity": "fatal"`, 1))); err == nil ||
		err.Error() != `a prerequisite has unknown severity "fatal"` {
		t.Errorf("ReadJSON of an unknown severity = %v", err)
	}
}

// A saved plan's JSON, which has no diagnostics, with the configuration's: exactly what JSON
// writes for the plan.
func TestWithDiagnostics(t *testing.T) {
	t.Parallel()
	diags := diag.List{{Severity: diag.Warning, Pos: diag.Pos{File: "a.yaml", Line: 3, Col: 5}, Message: "careful"}}
	for name, p := range scenarios(t) {
		raw, err := json.Marshal(NewJSONPlan(p))
		if err != nil {
			t.Fatal(err)
		}
		got, err := WithDiagnostics(raw, diags)
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := JSON(&want, p, diags); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), string(got)); diff != "" {
			t.Errorf("%s (-JSON +WithDiagnostics):\n%s", name, diff)
		}
	}
}
