package render

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan"
)

// planSchemaPath is the JSON Schema that documents the JSON plan.
const planSchemaPath = "../../../schema/plan.schema.json"

// planSchema compiles the JSON plan's schema as draft 2020-12.
func planSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile(planSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource("plan.schema.json", bytes.NewReader(raw)); err != nil {
		t.Fatalf("%s: %v", planSchemaPath, err)
	}
	s, err := c.Compile("plan.schema.json")
	if err != nil {
		t.Fatalf("%s: %v", planSchemaPath, err)
	}
	return s
}

// checkSchema fails the test when doc, a JSON plan, does not match the schema.
func checkSchema(t *testing.T, s *jsonschema.Schema, name string, doc []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("%s does not match %s: %#v", name, planSchemaPath, err)
	}
}

// Every JSON plan the golden tests hold matches the schema, and so do the plans of every
// scenario, one with diagnostics among them.
func TestJSONPlansMatchTheSchema(t *testing.T) {
	t.Parallel()
	s := planSchema(t)
	goldens, err := filepath.Glob("testdata/*.json.golden")
	if err != nil || len(goldens) == 0 {
		t.Fatalf("no JSON golden files: %v", err)
	}
	for _, path := range goldens {
		doc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checkSchema(t, s, path, doc)
	}
	plans := scenarios(t)
	plans["huge"] = huge(t)
	for name, p := range plans {
		var b bytes.Buffer
		diags := diag.List{{Severity: diag.Warning, Pos: diag.Pos{File: "access/roster.yaml", Line: 3, Col: 5}, Path: "users[0]", Message: "a warning", Hint: "a hint"}}
		if err := JSON(&b, p, diags); err != nil {
			t.Fatal(err)
		}
		checkSchema(t, s, name, b.Bytes())
	}
}

// The schema holds what the plan's Go types and version say: it refuses a plan of another major
// version and a field whose value is not of its type.
func TestPlanSchemaRefusesWhatRosterDoesNotWrite(t *testing.T) {
	t.Parallel()
	s := planSchema(t)
	valid := render(t, "json", scenarios(t)["updates"])
	for name, edit := range map[string]func(m map[string]any){
		"old major":        func(m map[string]any) { m["format_version"] = "1.4" },
		"display text":     func(m map[string]any) { field(m)["after"] = `"robert@corp.com"`; field(m)["type"] = "values" },
		"boolean as text":  func(m map[string]any) { field(m)["type"] = "boolean" },
		"unknown type":     func(m map[string]any) { field(m)["type"] = "number" },
		"secret with data": func(m map[string]any) { field(m)["type"] = "secret"; field(m)["sensitive"] = true },
		"unknown property": func(m map[string]any) { change(m)["extra"] = 1 },
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(valid), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		if err := s.Validate(m); err == nil {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
	if got := output.PlanDocument.Version(); got != "2.0" {
		t.Errorf("the plan's format_version is %s; the schema documents 2.0", got)
	}
}

// Every value type the plan knows is one the schema documents.
func TestPlanSchemaKnowsEveryValueType(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(planSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Defs struct {
			Field struct {
				Properties struct {
					Type struct {
						Enum []string `json:"enum"`
					} `json:"type"`
				} `json:"properties"`
			} `json:"field"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, vt := range plan.ValueTypes {
		want = append(want, string(vt))
	}
	if got := doc.Defs.Field.Properties.Type.Enum; !slices.Equal(got, want) {
		t.Errorf("the schema's field types are %v, the plan's %v", got, want)
	}
}
