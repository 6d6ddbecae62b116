package schema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// schemaJSON is the JSON Schema of one desired-state file. schema/roster.schema.json at the
// repository root is a published copy, kept identical by TestPublishedSchemaIsIdentical.
//
//go:embed roster.schema.json
var schemaJSON []byte

// schemaURL names the embedded schema; it is its $id.
const schemaURL = "https://github.com/rosterhq/roster/schema/roster.schema.json"

// userDefFragment is the fragment of the definition of one user in the schema; the schema's users
// property is an array of it.
const userDefFragment = "#/$defs/user"

// JSON returns the JSON Schema of a desired-state file (draft 2020-12), as `roster schema`
// prints it.
func JSON() []byte { return bytes.Clone(schemaJSON) }

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	// compiledUser is the schema's definition of one user, which checkShape applies to each
	// item of users on its own.
	compiledUser *jsonschema.Schema
	// schemaDoc is the schema decoded as plain JSON values, to look up the keyword a
	// validation error points at (its enum values, its properties) when rewording it.
	schemaDoc any
)

// compiledSchema compiles the embedded schema once. It panics if the embedded schema is
// invalid: that is a build defect, caught by every test in this package.
func compiledSchema() *jsonschema.Schema {
	compileOnce.Do(func() {
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		if err := c.AddResource(schemaURL, bytes.NewReader(schemaJSON)); err != nil {
			panic(fmt.Sprintf("schema: embedded schema: %v", err))
		}
		compiled = c.MustCompile(schemaURL)
		compiledUser = c.MustCompile(schemaURL + userDefFragment)
		if err := json.Unmarshal(schemaJSON, &schemaDoc); err != nil {
			panic(fmt.Sprintf("schema: embedded schema: %v", err))
		}
	})
	return compiled
}

// schemaAt returns the subschema at an absolute keyword location such as
// "https://…/roster.schema.json#/$defs/user/additionalProperties", minus its last segment
// (the keyword), as a JSON object; nil if there is none.
func schemaAt(absKeywordLocation string) map[string]any {
	_, frag, ok := strings.Cut(absKeywordLocation, "#")
	if !ok {
		return nil
	}
	toks := splitPointer(frag)
	if len(toks) > 0 {
		toks = toks[:len(toks)-1]
	}
	var cur = schemaDoc
	for _, t := range toks {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[t]
	}
	m, _ := cur.(map[string]any)
	return m
}

// splitPointer splits a JSON pointer ("/users/0/role") into unescaped tokens.
func splitPointer(p string) []string {
	if !strings.HasPrefix(p, "/") {
		return nil
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks
}
