package schema

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/secret"
)

// checkShape validates one file's tree against the JSON Schema, reporting each error at the
// node it concerns, then flags unquoted scalars other YAML tools read differently.
//
// The users are validated one at a time against the schema's definition of a user, the rest
// of the file with an empty list of users: the generic JSON tree of one user lives only while
// it is checked, instead of the whole file's at once, and the errors are the same ones, each
// at the user's instance location.
func checkShape(root *node, diags *diag.List) {
	s := shapeCheck{root: root, diags: diags, errored: map[string]bool{}, memo: map[*node]any{}}
	users := root.get("users")
	if users == nil || users.kind != seqNode {
		s.validate(compiledSchema(), toJSON(root, s.memo), "")
	} else {
		doc := make(map[string]any, len(root.kids)/2)
		for k, v := range root.entries() {
			if v == users {
				doc[k.value] = []any{}
				continue
			}
			doc[k.value] = toJSON(v, s.memo)
		}
		s.validate(compiledSchema(), doc, "")
		for i, u := range users.kids {
			if !plainUser(u) {
				s.validate(compiledUser, toJSON(u, s.memo), "/users/"+strconv.Itoa(i))
			}
		}
	}
	t := trapWalker{errored: s.errored, diags: diags, seen: map[*node]bool{}}
	t.walk(root)
}

// plainUser reports whether a user is of the common kind the schema's definition of a user
// accepts without a doubt: a mapping of username and role, optionally email, firstName,
// lastName, enabled, external, projects and attributes, each of its type. The validator costs
// about 4 KB of allocations a user; checkShape calls it only for the users this does not
// vouch for. It must never vouch for a user the schema refuses: TestPlainUserAgreesWithSchema
// compares the two on mutated users and pins the parts of the schema it reads.
func plainUser(n *node) bool {
	if n.kind != mapNode {
		return false
	}
	var username, role bool
	for k, v := range n.entries() {
		switch k.value {
		case "username":
			username = v.kind == scalarNode && v.isStr
		case "email", "firstName", "lastName":
			if _, ok := v.str(); !ok {
				return false
			}
		case "enabled", "external":
			if _, ok := v.boolean(); !ok {
				return false
			}
		case "role":
			r, _ := v.str()
			role = r == string(model.RoleAdmin) || r == string(model.RoleDeveloper)
		case "projects":
			if v.kind != mapNode {
				return false
			}
			for side, list := range v.entries() {
				if side.value != "member" && side.value != "admin" || !stringList(list) {
					return false
				}
			}
		case "attributes":
			if v.kind != mapNode {
				return false
			}
			for name, list := range v.entries() {
				if l := utf8.RuneCountInString(name.value); l < 1 || l > maxAttrNameLen || !stringList(list) {
					return false
				}
			}
		default:
			return false
		}
	}
	return username && role
}

// stringList reports whether n is a sequence of strings only.
func stringList(n *node) bool {
	if n.kind != seqNode {
		return false
	}
	for _, it := range n.kids {
		if _, ok := it.str(); !ok {
			return false
		}
	}
	return true
}

// shapeCheck holds what checkShape's validations share.
type shapeCheck struct {
	root  *node
	diags *diag.List
	// errored holds the instance locations (JSON pointers) the schema reported.
	errored map[string]bool
	memo    map[*node]any
}

// validate checks v, the value at the JSON pointer at, against sch and reports each error.
func (s *shapeCheck) validate(sch *jsonschema.Schema, v any, at string) {
	err := sch.Validate(v)
	var ve *jsonschema.ValidationError
	switch {
	case errors.As(err, &ve):
		for _, e := range leaves(ve, nil) {
			e.InstanceLocation = at + e.InstanceLocation
			s.errored[e.InstanceLocation] = true
			reportSchemaError(s.root, e, s.diags)
		}
	case err != nil:
		s.diags.Errorf(diag.Pos{File: s.root.file}, "", "cannot validate the file: %v", err)
	}
}

// leaves collects the errors that have no causes: the ones that say what is wrong.
func leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

// locate finds the node at a JSON pointer and names it for messages: path is the
// JSONPath-like form ("users[2].role"), field the last segment ("role", "member[1]").
func locate(root *node, toks []string) (n *node, path, field string) {
	n = root
	var b strings.Builder
	field, key := "the file", ""
	for _, t := range toks {
		switch n.kind {
		case mapNode:
			field, key = t, t
			if strings.HasSuffix(b.String(), ".attributes") {
				field = fmt.Sprintf("attribute %q", t)
			}
			n = n.get(t)
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(t)
		case seqNode:
			i, err := strconv.Atoi(t)
			if err != nil || i < 0 || i >= len(n.kids) {
				return nil, b.String(), field
			}
			n = n.kids[i]
			fmt.Fprintf(&b, "[%d]", i)
			field = fmt.Sprintf("%s[%d]", key, i)
		default:
			return nil, b.String(), field
		}
		if n == nil {
			return nil, b.String(), field
		}
	}
	return n, b.String(), field
}

var uniqueItemsMsg = regexp.MustCompile(`items at index (\d+) and (\d+) are equal`)

// codemieOnlyRoles are CodeMie roles that Keycloak does not carry.
var codemieOnlyRoles = map[string]string{
	"maintainer": "Maintainer",
	"invoker":    "Invoker",
	"auditor":    "Auditor",
}

// reportSchemaError rewords one schema error and reports it at its node.
func reportSchemaError(root *node, e *jsonschema.ValidationError, diags *diag.List) {
	toks := splitPointer(e.InstanceLocation)
	n, path, field := locate(root, toks)
	if n == nil {
		n = root
	}
	kw := e.KeywordLocation[strings.LastIndexByte(e.KeywordLocation, '/')+1:]
	sub := schemaAt(e.AbsoluteKeywordLocation)
	inUser := len(toks) >= 2 && toks[0] == "users"
	errorf := func(at *node, format string, args ...any) *diag.Diagnostic {
		return diags.Errorf(at.pos(), path, format, args...)
	}
	switch kw {
	case "additionalProperties":
		props := mapKeys(sub["properties"])
		for k := range n.entries() {
			if slices.Contains(props, k.value) {
				continue
			}
			d := diags.Errorf(k.pos(), joinPath(path, k.value), "unknown field %q", k.value)
			switch {
			case inUser && len(toks) == 2 && strings.EqualFold(k.value, "password"):
				d.Message = "plaintext passwords are not allowed: reference it with {env: ROSTER_SECRET_<NAME>} or {file: PATH}"
				d.Hint = "set a first password with initialPassword: {env: ROSTER_SECRET_<NAME>}"
			case didYouMean(k.value, props) != "":
				d.Hint = fmt.Sprintf("did you mean %q?", didYouMean(k.value, props))
			default:
				d.Hint = "valid fields are " + strings.Join(props, ", ")
			}
		}
	case "required":
		var present []string
		for k := range n.entries() {
			present = append(present, k.value)
		}
		for _, r := range mapStrings(sub["required"]) {
			if slices.Contains(present, r) {
				continue
			}
			switch {
			case r == "role" && inUser:
				name, _ := n.get("username").str()
				errorf(n, "user %q has no role: CodeMie refuses sign-in without admin or developer", strings.ToLower(name)).Hint =
					"add `role: developer` (or admin)"
			case r == "version" && len(toks) == 0:
				errorf(n, "missing field \"version\": every file declares its format version").Hint = "add `version: 1` at the top"
			default:
				errorf(n, "missing field %q", r)
			}
		}
	case "type":
		want := fmt.Sprint(sub["type"])
		d := errorf(n, "%s must be %s, not %s", field, article(want), describe(n))
		switch {
		case want == "object" && slices.Contains(mapKeys(sub["properties"]), "env") && slices.Contains(mapKeys(sub["properties"]), "file"):
			what := "secrets"
			if field == "initialPassword" {
				what = "passwords"
			}
			d.Message = fmt.Sprintf("plaintext %s are not allowed: reference it with {env: ROSTER_SECRET_<NAME>} or {file: PATH}", what)
			d.Hint = ""
		case n.kind == scalarNode && n.tag == "!!null":
			d.Hint = "give it a value or remove it"
		case want == "string" && n.kind == scalarNode && n.plain:
			d.Hint = fmt.Sprintf("quote it: \"%s\"", n.value)
		case want == "boolean" && n.kind == scalarNode:
			if b, ok := yaml11Bool(n.value); ok {
				d.Hint = fmt.Sprintf("write %v: YAML 1.2 reads an unquoted %s as a string", b, n.value)
			} else {
				d.Hint = "write true or false"
			}
		case want == "array" && n.kind == scalarNode:
			d.Hint = fmt.Sprintf("write a list: [%s]", n.value)
		}
	case "enum":
		allowed := mapStrings(sub["enum"])
		s, isStr := n.str()
		if !isStr {
			errorf(n, "invalid %s: must be %s, not %s", field, oneOf(allowed), describe(n))
			return
		}
		if inUser && field == "role" {
			if name, ok := codemieOnlyRoles[strings.ToLower(s)]; ok {
				errorf(n, "role %q cannot be granted through Keycloak: CodeMie assigns %s itself, in its own UI", s, name).Hint =
					"use admin or developer here, and grant " + name + " in CodeMie"
				return
			}
		}
		what := field
		if i := strings.IndexByte(field, '['); i >= 0 {
			what = field[:i] + " item"
		}
		d := errorf(n, "invalid %s %q: must be %s", what, s, oneOf(allowed))
		if m := didYouMean(s, allowed); m != "" {
			d.Hint = fmt.Sprintf("did you mean %q?", m)
		}
	case "const":
		if len(toks) == 1 && toks[0] == "version" {
			errorf(n, "unsupported format version %s: this roster reads version %d", n.value, 1).Hint = "write `version: 1`"
			return
		}
		errorf(n, "%s: %s", field, e.Message)
	case "minLength":
		errorf(n, "%s must not be empty", field)
	case "maxLength":
		s, _ := n.str()
		errorf(n, "%s is too long: %d characters, at most %v", field, len([]rune(s)), sub["maxLength"])
	case "minimum":
		errorf(n, "%s must be at least %v, not %s", field, sub["minimum"], n.value)
	case "pattern":
		if field == "env" {
			// The pattern is package secret's rule for environment references; it says why.
			var e *secret.Error
			if errors.As(secret.Check(model.SecretRef{Env: n.value}), &e) {
				errorf(n, "%s", e.Problem).Hint = e.Hint
				return
			}
		}
		if field == "tenant" {
			errorf(n, "tenant %q is not a tenant id", n.value).Hint =
				"write the directory (tenant) id, a GUID (8-4-4-4-12 hex digits): tokens name the tenant by id, so a domain name would not match their issuer"
			return
		}
		errorf(n, "%s %q does not match %v", field, n.value, sub["pattern"])
	case "uniqueItems":
		at := n
		if m := uniqueItemsMsg.FindStringSubmatch(e.Message); m != nil {
			if j, _ := strconv.Atoi(m[2]); j < len(n.items()) {
				at = n.items()[j]
			}
		}
		errorf(at, "%s lists %s twice", field, describe(at)).Hint = "remove the duplicate"
	case "minProperties", "maxProperties":
		errorf(n, "%s needs exactly one of env or file", field).Hint = "write {env: ROSTER_SECRET_<NAME>} or {file: PATH}"
	default:
		errorf(n, "%s: %s", field, e.Message)
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// mapKeys returns the keys of a JSON object, sorted.
func mapKeys(v any) []string {
	m, _ := v.(map[string]any)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// mapStrings returns the strings of a JSON array.
func mapStrings(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, x := range a {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func article(jsonType string) string {
	switch jsonType {
	case "object":
		return "a mapping"
	case "array":
		return "a list"
	case "integer":
		return "an integer"
	case "boolean":
		return "true or false"
	}
	return "a " + jsonType
}

func oneOf(vals []string) string {
	if len(vals) == 2 {
		return vals[0] + " or " + vals[1]
	}
	return "one of " + strings.Join(vals, ", ")
}

// yaml11Bool reads the plain scalars YAML 1.1 takes for booleans but YAML 1.2 (and roster)
// reads as strings.
func yaml11Bool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "yes", "y", "on":
		return true, true
	case "no", "n", "off":
		return false, true
	}
	return false, false
}

var leadingZero = regexp.MustCompile(`^[-+]?0[0-9_]+$`)

// trapWalker flags unquoted scalars that validated but that YAML tools disagree about.
// Values that already failed the schema are skipped: one message per mistake.
type trapWalker struct {
	errored map[string]bool
	diags   *diag.List
	seen    map[*node]bool // shared subtrees are checked once
	// at is the way from the root to the node being walked; it is spelled out only for a node
	// that is reported, so that walking costs no allocation per node.
	at []step
}

// step is one step down a tree: into a mapping's key, or a sequence's item (index ≥ 0).
type step struct {
	key   string
	index int
}

func (t *trapWalker) walk(n *node) {
	switch n.kind {
	case mapNode, seqNode:
		if n.shared {
			if t.seen[n] {
				return
			}
			t.seen[n] = true
		}
		for k, v := range n.entries() {
			t.at = append(t.at, step{key: k.value, index: -1})
			t.walk(v)
			t.at = t.at[:len(t.at)-1]
		}
		for i, it := range n.items() {
			t.at = append(t.at, step{index: i})
			t.walk(it)
			t.at = t.at[:len(t.at)-1]
		}
		return
	}
	if !n.plain {
		return
	}
	_, yaml11 := yaml11Bool(n.value)
	zero := n.tag == "!!int" && leadingZero.MatchString(n.value)
	if n.tag != "!!timestamp" && !zero && !(n.tag == "!!str" && yaml11) {
		return
	}
	var ptr, path strings.Builder
	for _, st := range t.at {
		if st.index >= 0 {
			fmt.Fprintf(&ptr, "/%d", st.index)
			fmt.Fprintf(&path, "[%d]", st.index)
			continue
		}
		ptr.WriteString("/" + strings.ReplaceAll(strings.ReplaceAll(st.key, "~", "~0"), "/", "~1"))
		path.WriteString("." + st.key)
	}
	if t.errored[ptr.String()] {
		return
	}
	switch path := strings.TrimPrefix(path.String(), "."); {
	case n.tag == "!!timestamp":
		t.diags.Errorf(n.pos(), path, "unquoted %s is a date in YAML, not a string", n.value).Hint =
			fmt.Sprintf("quote it: \"%s\"", n.value)
	case zero:
		t.diags.Errorf(n.pos(), path, "ambiguous number %s: YAML 1.1 reads a leading zero as octal, YAML 1.2 as decimal", n.value).Hint =
			"remove the leading zero, or quote it for a string"
	default:
		b, _ := yaml11Bool(n.value)
		t.diags.Warnf(n.pos(), path, "unquoted %s is read as the string %q here, but as the boolean %v by YAML 1.1 tools", n.value, n.value, b).Hint =
			fmt.Sprintf("quote it: \"%s\"", n.value)
	}
}
