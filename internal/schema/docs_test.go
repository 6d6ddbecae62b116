package schema

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestFormatReferenceCoversSchema fails when a field of the JSON Schema is missing from
// docs/format.md, the format reference, so that the reference follows the schema.
func TestFormatReferenceCoversSchema(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/format.md")
	if err != nil {
		t.Fatal(err)
	}
	var root any
	if err := json.Unmarshal(schemaJSON, &root); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	var walk func(any)
	walk = func(n any) {
		switch n := n.(type) {
		case map[string]any:
			for k, v := range n {
				if props, ok := v.(map[string]any); ok && (k == "properties" || k == "patternProperties") {
					for name, sub := range props {
						names[name] = true
						walk(sub)
					}
					continue
				}
				walk(v)
			}
		case []any:
			for _, v := range n {
				walk(v)
			}
		}
	}
	walk(root)
	if len(names) < 40 {
		t.Fatalf("found %d fields in the schema; the walk is broken", len(names))
	}
	for _, name := range slices.Sorted(maps.Keys(names)) {
		// `name`, `a.name`, or name: in an example.
		if !regexp.MustCompile(`(^|[^\w])` + regexp.QuoteMeta(name) + "(`|:)").Match(doc) {
			t.Errorf("docs/format.md does not document the field %q of the schema", name)
		}
	}
}
