package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/internal/diag"
)

// MaxFileSize is the largest file roster reads: 32 MiB, far above a 10,000-user configuration
// (about 2 MiB), low enough that a stray file cannot exhaust memory.
const MaxFileSize = 32 << 20

// maxExpansion bounds the size of a file's tree once aliases are expanded, relative to the
// nodes actually written: a legitimate file reuses a few anchored lists, an alias bomb
// multiplies them (nine nested aliases of nine make 387 million nodes out of 90).
const (
	maxExpansionRatio = 10
	maxExpansionSlack = 10_000
	sizeCap           = math.MaxInt32 // sizes saturate here instead of overflowing
)

// kind is the shape of a node.
type kind uint8

const (
	scalarNode kind = iota + 1
	mapNode
	seqNode
)

// node is a YAML value with its position, after aliases and merge keys are resolved. Aliased
// collections are shared, not copied, so the tree is a DAG as large as the file. A large file
// has millions of nodes, so the fields are packed: 112 bytes a node.
type node struct {
	kind kind
	// plain is true for an unquoted scalar (the only kind YAML resolves to non-strings).
	plain bool
	// shared is true for a collection reached through an alias too.
	shared bool
	// isStr is true for a scalar that validates as a JSON string: value itself.
	isStr bool
	line  int32
	col   int32
	// size counts the nodes of the subtree with aliases expanded, saturating at sizeCap.
	size int32
	// tag is the resolved YAML tag of a scalar: !!str, !!int, !!float, !!bool, !!null,
	// !!timestamp, or a custom one.
	tag string
	// value is the scalar as written, without quotes.
	value string
	// json is a scalar other than a string as a JSON value for schema validation: a bool, an
	// int64, a float64, or nil.
	json any
	file string
	// kids are a sequence's items, or a mapping's entries as key, value, key, value… in order,
	// duplicates dropped, merged entries last (see entries).
	kids []*node
}

func (n *node) pos() diag.Pos { return diag.Pos{File: n.file, Line: int(n.line), Col: int(n.col)} }

// entries yields a mapping's keys and values in order; nothing for anything else.
func (n *node) entries() iter.Seq2[*node, *node] {
	return func(yield func(k, v *node) bool) {
		if n == nil || n.kind != mapNode {
			return
		}
		for i := 0; i+1 < len(n.kids); i += 2 {
			if !yield(n.kids[i], n.kids[i+1]) {
				return
			}
		}
	}
}

// items returns a sequence's items; nil for anything else.
func (n *node) items() []*node {
	if n == nil || n.kind != seqNode {
		return nil
	}
	return n.kids
}

// get returns the value under key in a mapping, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	for k, v := range n.entries() {
		if k.value == key {
			return v
		}
	}
	return nil
}

// keyNode returns the key node for key in a mapping, or nil.
func (n *node) keyNode(key string) *node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	for k := range n.entries() {
		if k.value == key {
			return k
		}
	}
	return nil
}

// str returns a scalar that validates as a JSON string.
func (n *node) str() (string, bool) {
	if n == nil || n.kind != scalarNode || !n.isStr {
		return "", false
	}
	return n.value, true
}

// boolean returns a scalar that validates as a JSON boolean.
func (n *node) boolean() (bool, bool) {
	if n == nil || n.kind != scalarNode {
		return false, false
	}
	b, ok := n.json.(bool)
	return b, ok
}

// integer returns a scalar that validates as a JSON integer.
func (n *node) integer() (int, bool) {
	if n == nil || n.kind != scalarNode {
		return 0, false
	}
	switch v := n.json.(type) {
	case int64:
		if v >= math.MinInt32 && v <= math.MaxInt32 {
			return int(v), true
		}
	case float64:
		if v == math.Trunc(v) && v >= math.MinInt32 && v <= math.MaxInt32 {
			return int(v), true
		}
	}
	return 0, false
}

// strings returns the string items of a sequence with their nodes, skipping other items.
func (n *node) strings() (vals []string, nodes []*node) {
	if n == nil || n.kind != seqNode {
		return nil, nil
	}
	for _, it := range n.kids {
		if s, ok := it.str(); ok {
			vals = append(vals, s)
			nodes = append(nodes, it)
		}
	}
	return vals, nodes
}

// parseFile parses one file into a tree, reporting YAML-level problems. It returns nil when
// there is nothing to validate.
func parseFile(name string, data []byte, diags *diag.List) (root *node) {
	defer func() {
		// go-yaml has panicked on malformed input before; a panic must not take roster down.
		if r := recover(); r != nil {
			diags.Errorf(diag.Pos{File: name}, "", "cannot parse YAML: the parser failed (%v)", r)
			root = nil
		}
	}()
	filePos := diag.Pos{File: name}
	if len(data) > MaxFileSize {
		diags.Errorf(filePos, "", "file is larger than %d MiB", MaxFileSize>>20).Hint =
			"split the configuration into several files"
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			diags.Errorf(filePos, "", "file is empty").Hint = "start it with `version: 1`"
		} else {
			reportSyntax(name, data, err, diags)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		reportSyntax(name, data, err, diags)
		return nil
	case len(next.Content) > 0:
		diags.Errorf(diag.Pos{File: name, Line: next.Line, Col: next.Column}, "",
			"file holds several YAML documents: roster reads one document per file").Hint =
			"move each document after `---` into a file of its own"
	}
	if len(doc.Content) == 0 {
		diags.Errorf(filePos, "", "file is empty").Hint = "start it with `version: 1`"
		return nil
	}
	b := &builder{file: name, diags: diags, anchors: map[*yaml.Node]*node{}, busy: map[*yaml.Node]bool{}}
	root = b.build(doc.Content[0])
	if int(root.size) > maxExpansionRatio*b.count+maxExpansionSlack {
		diags.Errorf(root.pos(), "", "YAML aliases expand the %d values this file writes to %d: refusing a possible alias bomb",
			b.count, root.size).Hint = "use fewer nested aliases"
		return nil
	}
	return root
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// reportSyntax turns a go-yaml syntax error into a diagnostic at its line, recognising tabs.
func reportSyntax(name string, data []byte, err error, diags *diag.List) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	for i, l := range strings.Split(string(data), "\n") {
		indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if c := strings.IndexByte(indent, '\t'); c >= 0 {
			diags.Errorf(diag.Pos{File: name, Line: i + 1, Col: c + 1}, "",
				"tab character in indentation: YAML indents with spaces only").Hint = "replace the tab with spaces"
			return
		}
	}
	diags.Errorf(diag.Pos{File: name, Line: line}, "", "invalid YAML: %s", msg)
}

// builder turns go-yaml nodes into a tree, resolving aliases and merge keys. It takes the
// go-yaml tree apart as it goes, dropping each child from its parent's Content once built, so
// that the parts already converted can be collected while the rest is: the two trees of a
// large file are never held whole at once. No node is built twice (an anchored one is built
// once and found in anchors after), so nothing reads a dropped child.
type builder struct {
	file    string
	diags   *diag.List
	anchors map[*yaml.Node]*node // anchored nodes already built
	busy    map[*yaml.Node]bool  // anchored nodes being built (an alias to one is a cycle)
	count   int                  // nodes built
}

func (b *builder) pos(y *yaml.Node) diag.Pos {
	return diag.Pos{File: b.file, Line: y.Line, Col: y.Column}
}

func (b *builder) build(y *yaml.Node) *node {
	if y.Kind == yaml.AliasNode {
		return b.alias(y)
	}
	if y.Anchor != "" {
		b.busy[y] = true
		defer delete(b.busy, y)
	}
	b.count++
	n := &node{file: b.file, line: int32(y.Line), col: int32(y.Column), size: 1}
	switch y.Kind {
	case yaml.MappingNode:
		n.kind = mapNode
		b.mapping(n, y)
	case yaml.SequenceNode:
		n.kind = seqNode
		n.kids = make([]*node, 0, len(y.Content))
		for i, c := range y.Content {
			it := b.build(c)
			y.Content[i] = nil // see builder
			n.kids = append(n.kids, it)
			n.size = addSize(n.size, it.size)
		}
	default: // a scalar; a document node cannot occur below the root
		b.scalar(n, y)
	}
	if y.Anchor != "" {
		b.anchors[y] = n
	}
	return n
}

func addSize(a, b int32) int32 { return int32(min(int64(a)+int64(b), sizeCap)) }

func (b *builder) alias(y *yaml.Node) *node {
	target := y.Alias
	if target == nil || b.busy[target] {
		b.diags.Errorf(b.pos(y), "", "alias *%s refers to a value that contains it", y.Value)
		return &node{kind: scalarNode, tag: "!!null", file: b.file, line: int32(y.Line), col: int32(y.Column), size: 1}
	}
	n, ok := b.anchors[target]
	if !ok {
		n = b.build(target)
	}
	if n.kind == scalarNode {
		c := *n // a copy, so errors about the value point at the alias
		c.line, c.col = int32(y.Line), int32(y.Column)
		return &c
	}
	n.shared = true
	return n
}

func (b *builder) scalar(n *node, y *yaml.Node) {
	n.kind = scalarNode
	n.tag = y.ShortTag()
	n.value = y.Value
	n.plain = y.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
	n.isStr = true // unless it decodes as what its tag says
	switch n.tag {
	case "!!null":
		n.isStr = false
	case "!!bool":
		var v bool
		if y.Decode(&v) == nil {
			n.json, n.isStr = v, false
		}
	case "!!int":
		var v int64
		if y.Decode(&v) == nil {
			n.json, n.isStr = v, false
		} else {
			var f float64
			if y.Decode(&f) == nil {
				n.json, n.isStr = f, false
			}
		}
	case "!!float":
		var f float64
		if y.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			n.json, n.isStr = f, false
		}
	}
}

func (b *builder) mapping(n *node, y *yaml.Node) {
	seen := make(map[string]*node, len(y.Content)/2)
	n.kids = make([]*node, 0, len(y.Content))
	var merged [][2]*node
	for i := 0; i+1 < len(y.Content); i += 2 {
		ky, vy := y.Content[i], y.Content[i+1]
		y.Content[i], y.Content[i+1] = nil, nil // see builder
		if ky.Kind == yaml.ScalarNode && ky.ShortTag() == "!!merge" {
			merged = append(merged, b.merge(vy)...)
			continue
		}
		k, v := b.build(ky), b.build(vy)
		if k.kind != scalarNode {
			b.diags.Errorf(k.pos(), "", "mapping key is a %s: keys must be plain values", describeKind(k.kind))
			continue
		}
		if first, dup := seen[k.value]; dup {
			b.diags.Errorf(k.pos(), "", "duplicate key %q: already defined at line %d", k.value, first.line).Hint =
				"remove one of them"
			continue
		}
		seen[k.value] = k
		n.kids = append(n.kids, k, v)
		n.size = addSize(n.size, addSize(k.size, v.size))
	}
	// Merged entries never override explicit ones, and earlier merges win (YAML merge keys).
	for _, kv := range merged {
		if _, dup := seen[kv[0].value]; dup {
			continue
		}
		seen[kv[0].value] = kv[0]
		n.kids = append(n.kids, kv[0], kv[1])
		n.size = addSize(n.size, addSize(kv[0].size, kv[1].size))
	}
}

// merge returns the entries a merge key (<<) brings in: from one mapping or a list of them.
func (b *builder) merge(y *yaml.Node) [][2]*node {
	v := b.build(y)
	var maps []*node
	switch v.kind {
	case mapNode:
		maps = []*node{v}
	case seqNode:
		maps = v.kids
	}
	var out [][2]*node
	for _, m := range maps {
		if m.kind != mapNode {
			b.diags.Errorf(m.pos(), "", "merge key << needs a mapping or a list of mappings, not %s", describe(m))
			continue
		}
		for k, v := range m.entries() {
			out = append(out, [2]*node{k, v})
		}
	}
	if len(maps) == 0 {
		b.diags.Errorf(v.pos(), "", "merge key << needs a mapping or a list of mappings, not %s", describe(v))
	}
	return out
}

func describeKind(k kind) string {
	switch k {
	case mapNode:
		return "mapping"
	case seqNode:
		return "list"
	}
	return "value"
}

// describe names a value for a message: `the number 017`, `the date 2024-01-01`, `a list`.
func describe(n *node) string {
	switch n.kind {
	case mapNode:
		return "a mapping"
	case seqNode:
		return "a list"
	}
	switch n.tag {
	case "!!null":
		return "an empty value"
	case "!!bool":
		return "the boolean " + n.value
	case "!!int", "!!float":
		return "the number " + n.value
	case "!!timestamp":
		return "the date " + n.value
	}
	return fmt.Sprintf("the string %q", n.value)
}

// toJSON converts a tree to the values the JSON Schema validator reads. Shared subtrees are
// converted once and shared too.
func toJSON(n *node, memo map[*node]any) any {
	switch n.kind {
	case scalarNode:
		if n.isStr {
			return n.value
		}
		return n.json
	case seqNode:
		if v, ok := memo[n]; ok {
			return v
		}
		a := make([]any, len(n.kids))
		for i, it := range n.kids {
			a[i] = toJSON(it, memo)
		}
		if n.shared {
			memo[n] = a
		}
		return a
	}
	if v, ok := memo[n]; ok {
		return v
	}
	m := make(map[string]any, len(n.kids)/2)
	for k, v := range n.entries() {
		m[k.value] = toJSON(v, memo)
	}
	if n.shared {
		memo[n] = m
	}
	return m
}
