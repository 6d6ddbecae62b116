package layout

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// schemaNode is a part of roster's JSON Schema, read as YAML so that the order of its
// properties is kept: that order is the canonical key order.
type schemaNode struct {
	n    *yaml.Node // the schema object, $ref resolved
	defs *yaml.Node // the schema's $defs
	ref  string     // the definition n came from, "" when inline
}

// get returns the value of key in mapping m, or nil.
func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// wrap resolves a $ref in n.
func (s *schemaNode) wrap(n *yaml.Node) *schemaNode {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	ref := ""
	if r := get(n, "$ref"); r != nil {
		ref = strings.TrimPrefix(r.Value, "#/$defs/")
		n = get(s.defs, ref)
	}
	return &schemaNode{n: n, defs: s.defs, ref: ref}
}

// keys are the object's properties in schema order.
func (s *schemaNode) keys() []string {
	if s == nil {
		return nil
	}
	props := get(s.n, "properties")
	if props == nil {
		return nil
	}
	var keys []string
	for i := 0; i < len(props.Content); i += 2 {
		keys = append(keys, props.Content[i].Value)
	}
	return keys
}

func (s *schemaNode) keyIndex(key string) int {
	for i, k := range s.keys() {
		if k == key {
			return i
		}
	}
	return -1
}

// child is the schema of the value under key: the property's, or additionalProperties'.
func (s *schemaNode) child(key string) *schemaNode {
	if s == nil {
		return nil
	}
	if p := get(get(s.n, "properties"), key); p != nil {
		return s.wrap(p)
	}
	return s.wrap(get(s.n, "additionalProperties"))
}

// itemSchema is the schema of a list's items.
func (s *schemaNode) itemSchema() *schemaNode {
	if s == nil {
		return nil
	}
	return s.wrap(get(s.n, "items"))
}

// flow reports whether the object is written in flow style: secret references.
func (s *schemaNode) flow() bool {
	return s != nil && (s.ref == "secretRef" || s.ref == "passwordRef")
}
