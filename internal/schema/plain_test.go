package schema

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/diag"
)

// TestPlainUserAgreesWithSchema keeps plainUser, which lets checkShape skip the validator, from
// vouching for a user the schema refuses: on random users built from valid and invalid parts,
// every user it vouches for validates. The parts of the schema it encodes are pinned here, so
// that a change to them fails this test until plainUser follows.
func TestPlainUserAgreesWithSchema(t *testing.T) {
	t.Parallel()
	compiledSchema()
	defs := schemaDoc.(map[string]any)["$defs"].(map[string]any)
	user := defs["user"].(map[string]any)
	props := user["properties"].(map[string]any)
	pinned := map[string]any{"type": user["type"], "additionalProperties": user["additionalProperties"], "required": user["required"],
		"grants": stripDescriptions(defs["grants"]), "projectName": stripDescriptions(defs["projectName"])}
	for _, k := range []string{"username", "email", "firstName", "lastName", "enabled", "external", "role", "projects", "attributes"} {
		pinned[k] = stripDescriptions(props[k])
	}
	got, err := json.Marshal(pinned)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"additionalProperties":false,"attributes":{"additionalProperties":{"items":{"type":"string"},"type":"array"},"propertyNames":{"maxLength":255,"minLength":1},"type":"object"},"email":{"type":"string"},"enabled":{"type":"boolean"},"external":{"type":"boolean"},"firstName":{"type":"string"},"grants":{"additionalProperties":false,"properties":{"admin":{"items":{"$ref":"#/$defs/projectName"},"type":"array"},"member":{"items":{"$ref":"#/$defs/projectName"},"type":"array"}},"type":"object"},"lastName":{"type":"string"},"projectName":{"type":"string"},"projects":{"$ref":"#/$defs/grants"},"required":["username","role"],"role":{"enum":["admin","developer"]},"type":"object","username":{"type":"string"}}`
	if string(got) != want {
		t.Fatalf("the schema's definition of a user changed where plainUser reads it; make plainUser follow, then update this test\ngot  %s\nwant %s", got, want)
	}

	keys := []string{"username", "role", "email", "firstName", "lastName", "enabled", "external", "projects", "attributes",
		"requiredActions", "password", "Username", "<<"}
	values := []string{"alice", `"quoted"`, "admin", "developer", "Admin", "maintainer", "true", "yes", "1", "0x10", "1.5", "null", "~",
		"2024-01-01", "[]", "{}", "[a, b]", "[a, 1]", "[a, null]", "[[a]]", "{member: [p]}", "{admin: [p, q], member: []}",
		"{member: p}", "{member: [p], other: [q]}", "{Member: [p]}", "{member: [1]}", `{"": [x]}`, "{dept: [x, y]}", "{dept: x}",
		"{dept: [true]}", "{" + strings.Repeat("é", 255) + ": [x]}", "{" + strings.Repeat("é", 256) + ": [x]}", "{1: [x]}",
		"{username: bob, role: admin}"}
	r := rand.New(rand.NewPCG(3, 4))
	vouched := 0
	for range 20000 {
		var pairs []string
		if r.IntN(4) > 0 {
			pairs = append(pairs, "username: u1", "role: developer") // mostly near-valid users
		}
		for range r.IntN(5) {
			pairs = append(pairs, keys[r.IntN(len(keys))]+": "+values[r.IntN(len(values))])
		}
		r.Shuffle(len(pairs), func(i, j int) { pairs[i], pairs[j] = pairs[j], pairs[i] })
		src := "{" + strings.Join(pairs, ", ") + "}"
		var diags diag.List
		n := parseFile("user.yaml", []byte(src), &diags)
		if n == nil || diags.HasErrors() || !plainUser(n) {
			continue
		}
		vouched++
		if err := compiledUser.Validate(toJSON(n, map[*node]any{})); err != nil {
			t.Fatalf("plainUser vouches for %s, which the schema refuses: %v", src, err)
		}
	}
	if vouched < 1000 {
		t.Errorf("plainUser vouched for %d of the random users: the test no longer exercises it", vouched)
	}
}

// stripDescriptions returns a schema value without its description keywords.
func stripDescriptions(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, x := range m {
		if k != "description" {
			out[k] = stripDescriptions(x)
		}
	}
	return out
}
