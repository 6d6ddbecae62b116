// Package layout rewrites a configuration file into roster's canonical layout, keeping every
// comment and value: what `roster fmt` does.
//
// The canonical layout:
//
//   - keys in the order of the JSON Schema (and docs/format.md): version, realm, settings,
//     roles, tokenMappers, identityProviders, projects, teams, users, and within each object the
//     order its table lists; merge keys (<<) first; keys the schema leaves open (team names,
//     user attributes) and list items stay in the order written;
//   - two spaces of indentation, list items indented under their key;
//   - a list of plain values in flow style on one line ([a, b]) when it fits in 60 characters
//     and no item has a comment of its own, otherwise one item per line;
//   - secret references in flow style ({env: ROSTER_SECRET_X}); every other mapping in block
//     style, one key per line;
//   - values unquoted where YAML reads them the same, double-quoted otherwise;
//   - every comment kept, next to the entry the YAML library attaches it to, with one space
//     before a comment that ends a line;
//   - blank lines kept where the file has them between entries (several become one), none
//     before the first entry of a mapping or list.
//
// Format checks its own work: it refuses, and the file stays as it was, when the output would
// lose or add a comment, or would use an alias before its anchor.
package layout

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/internal/schema"
)

// maxFlowWidth is the widest a list may be written on one line, brackets included.
const maxFlowWidth = 60

// Format returns data in the canonical layout. data must hold one YAML document whose root is a
// mapping; Format does not check the configuration's meaning.
//
// The YAML library attaches a few comments (at the end of a file, after a flow collection) to
// other nodes when it reads its own output back, so one pass is not always a fixed point:
// Format repeats until its output no longer changes, which makes fmt of fmt's output identical.
func Format(data []byte) ([]byte, error) {
	out, err := formatOnce(data)
	for range 3 {
		if err != nil {
			return nil, err
		}
		again, err2 := formatOnce(out)
		if err2 != nil || bytes.Equal(again, out) {
			if err2 == nil {
				err2 = checkComments(data, out)
			}
			if err2 != nil {
				return nil, err2
			}
			return out, nil
		}
		out, err = again, err2
	}
	return nil, errors.New("the canonical layout does not settle: the file keeps changing when formatted again; move comments next to entries and try again")
}

func formatOnce(data []byte) ([]byte, error) {
	var doc, more yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || !errors.Is(dec.Decode(&more), io.EOF) {
		return nil, fmt.Errorf("not one YAML document")
	}
	if doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("not a mapping of keys to values")
	}
	lines := strings.Split(string(data), "\n")
	blank := map[*yaml.Node]bool{}
	markBlank(doc.Content[0], lines, blank)
	arrange(doc.Content[0], rootSchema())
	if err := checkAliases(&doc); err != nil {
		return nil, err
	}

	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("cannot write the canonical layout: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	out, err := addBlankLines(b.Bytes(), &doc, blank)
	if err != nil {
		return nil, err
	}
	if err := checkComments(data, out); err != nil {
		return nil, err
	}
	return out, nil
}

// markBlank records the entries (mapping keys and list items) that a blank line separates from
// the entry before them, ignoring the comment lines just above the entry.
func markBlank(n *yaml.Node, lines []string, blank map[*yaml.Node]bool) {
	var entries []*yaml.Node
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			entries = append(entries, n.Content[i])
		}
	case yaml.SequenceNode:
		entries = n.Content
	}
	for i, e := range entries {
		if i > 0 && n.Style&yaml.FlowStyle == 0 && blankAbove(lines, e.Line) {
			blank[e] = true
		}
	}
	for _, c := range n.Content {
		markBlank(c, lines, blank)
	}
}

// blankAbove reports whether the first line above line (1-based) that is not a comment is blank.
func blankAbove(lines []string, line int) bool {
	for i := line - 2; i >= 0; i-- {
		if commentLine(lines[i]) {
			continue
		}
		return strings.TrimSpace(lines[i]) == ""
	}
	return false
}

// arrange puts n into the canonical layout, s being its schema (nil when the schema says
// nothing about it).
func arrange(n *yaml.Node, s *schemaNode) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			n.Value, n.Style = "null", 0 // "", ~ and null alike; the encoder would quote an empty one
			return
		}
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			n.Style = 0
			if n.Tag == "!!str" && needsQuotes(n.Value) {
				n.Style = yaml.DoubleQuotedStyle
			}
		}
	case yaml.MappingNode:
		sortKeys(n, s)
		n.Style = 0
		if s.flow() && !hasComments(n, false) {
			n.Style = yaml.FlowStyle
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			arrange(k, nil)
			arrange(v, s.child(k.Value))
			// A comment after "key:" whose value now shares the key's line ends that line: the
			// encoder would write a key's own line comment on the next line.
			if k.LineComment != "" && v.LineComment == "" && (v.Kind == yaml.ScalarNode || v.Kind == yaml.AliasNode || v.Style&yaml.FlowStyle != 0) {
				v.LineComment, k.LineComment = k.LineComment, ""
			}
		}
	case yaml.SequenceNode:
		n.Style = 0
		if flowList(n) {
			n.Style = yaml.FlowStyle
		}
		for _, c := range n.Content {
			arrange(c, s.itemSchema())
		}
	}
	keepLineComment(n)
}

// keepLineComment moves the comment that ended the line of a flow collection now written in
// block style to the line above its first entry: the encoder writes no line comment there.
func keepLineComment(n *yaml.Node) {
	if n.LineComment == "" || n.Style&yaml.FlowStyle != 0 || len(n.Content) == 0 ||
		(n.Kind != yaml.MappingNode && n.Kind != yaml.SequenceNode) {
		return
	}
	first := n.Content[0]
	if first.HeadComment != "" {
		first.HeadComment = n.LineComment + "\n" + first.HeadComment
	} else {
		first.HeadComment = n.LineComment
	}
	n.LineComment = ""
}

// needsQuotes reports whether a string must be quoted: YAML would read its plain form as
// something else, or YAML 1.1 tools would (yes, no, on, off, y, n: roster warns about those
// unquoted).
func needsQuotes(s string) bool {
	switch strings.ToLower(s) {
	case "y", "n", "yes", "no", "on", "off":
		return true
	}
	b, err := yaml.Marshal(&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
	return err != nil || len(b) == 0 || b[0] == '"' || b[0] == '\''
}

// sortKeys orders a mapping's keys: merge keys, then the schema's keys in its order, then the
// others as written.
func sortKeys(n *yaml.Node, s *schemaNode) {
	type pair struct{ k, v *yaml.Node }
	pairs := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		pairs = append(pairs, pair{n.Content[i], n.Content[i+1]})
	}
	rank := func(p pair) int {
		if p.k.Tag == "!!merge" {
			return -1
		}
		if i := s.keyIndex(p.k.Value); i >= 0 {
			return i
		}
		return len(s.keys())
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return rank(a) - rank(b) })
	for i, p := range pairs {
		n.Content[2*i], n.Content[2*i+1] = p.k, p.v
	}
}

// flowList reports whether a list is written on one line: plain values only, none with a comment
// of its own, short enough.
func flowList(n *yaml.Node) bool {
	width := 2
	for i, c := range n.Content {
		if c.Kind != yaml.ScalarNode || c.Anchor != "" || hasComments(c, true) || strings.ContainsAny(c.Value, "\n") {
			return false
		}
		if i > 0 {
			width += 2
		}
		width += len(c.Value)
	}
	return width <= maxFlowWidth
}

// hasComments reports whether n's entries (and n itself, with self) carry comments.
func hasComments(n *yaml.Node, self bool) bool {
	if self && (n.HeadComment != "" || n.LineComment != "" || n.FootComment != "") {
		return true
	}
	for _, c := range n.Content {
		if hasComments(c, true) {
			return true
		}
	}
	return false
}

// checkAliases refuses a layout that would put an alias before its anchor: the encoder writes
// the nodes in tree order, and YAML requires the anchor first.
func checkAliases(doc *yaml.Node) error {
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node) error
	walk = func(n *yaml.Node) error {
		if n.Kind == yaml.AliasNode {
			if !seen[n.Alias] {
				return fmt.Errorf("the canonical key order would put alias *%s before its anchor &%s; "+
					"define the anchor in a section that comes earlier (order: version, realm, settings, roles, tokenMappers, "+
					"identityProviders, projects, teams, users)", n.Value, n.Alias.Anchor)
			}
			return nil
		}
		seen[n] = true
		for _, c := range n.Content {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(doc)
}

// addBlankLines inserts a blank line above each entry marked blank, and above the comment lines
// that belong to it. It finds the entries' lines by reading the output again, whose tree has
// the shape of doc's.
func addBlankLines(out []byte, doc *yaml.Node, blank map[*yaml.Node]bool) ([]byte, error) {
	if len(blank) == 0 {
		return out, nil
	}
	var again yaml.Node
	if err := yaml.Unmarshal(out, &again); err != nil {
		return nil, fmt.Errorf("the canonical layout does not read back: %w", err)
	}
	lines := strings.Split(string(out), "\n")
	above := map[int]bool{} // 0-based line numbers to insert a blank line above
	var walk func(a, b *yaml.Node)
	walk = func(a, b *yaml.Node) {
		if len(a.Content) != len(b.Content) {
			return
		}
		for i := range a.Content {
			if blank[a.Content[i]] {
				// Up over the entry's comments, and to its dash when comments follow the dash.
				l := b.Content[i].Line - 1
				for l > 0 && commentLine(lines[l-1]) {
					l--
				}
				above[l] = true
			}
			walk(a.Content[i], b.Content[i])
		}
	}
	walk(doc, &again)
	var b strings.Builder
	for i, l := range lines {
		if above[i] && i > 0 && strings.TrimSpace(lines[i-1]) != "" {
			b.WriteString("\n")
		}
		b.WriteString(l)
		if i < len(lines)-1 {
			b.WriteString("\n")
		}
	}
	return []byte(b.String()), nil
}

// commentLine reports whether a line holds only a comment, or a list item's dash and a comment.
func commentLine(line string) bool {
	s := strings.TrimSpace(line)
	return strings.HasPrefix(s, "#") || strings.HasPrefix(s, "- #")
}

// checkComments refuses an output that lost, gained or changed a comment: every comment the
// parser saw is still there, and no '#' went missing (a comment the parser dropped would
// otherwise vanish unnoticed).
func checkComments(in, out []byte) error {
	got, want := comments(out), comments(in)
	if slices.Equal(got, want) && bytes.Count(out, []byte("#")) == bytes.Count(in, []byte("#")) {
		return nil
	}
	return fmt.Errorf("the canonical layout would not keep every comment (%s); "+
		"move the comment to a line of its own above an entry, outside any [...] or {...}, and try again", commentDiff(want, got))
}

// comments returns the text of every comment in a YAML file, sorted: Format may move a comment
// between lines, but never drop, add or change one.
func comments(data []byte) []string {
	var n yaml.Node
	if yaml.Unmarshal(data, &n) != nil {
		return nil
	}
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		for _, c := range []string{n.HeadComment, n.LineComment, n.FootComment} {
			for _, l := range strings.Split(c, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					out = append(out, l)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&n)
	slices.Sort(out)
	return out
}

// commentDiff names the first comment that one list has and the other lacks.
func commentDiff(want, got []string) string {
	for _, w := range want {
		if i := slices.Index(got, w); i >= 0 {
			got = slices.Delete(got, i, i+1)
			continue
		}
		return fmt.Sprintf("%q would be lost", w)
	}
	if len(got) > 0 {
		return fmt.Sprintf("%q would be added", got[0])
	}
	return "comments would change"
}

// rootSchema is the schema of a whole file.
func rootSchema() *schemaNode {
	var n yaml.Node
	if err := yaml.Unmarshal(schema.JSON(), &n); err != nil {
		panic(fmt.Sprintf("layout: the embedded schema does not read: %v", err)) // built in
	}
	root := n.Content[0]
	return &schemaNode{n: root, defs: get(root, "$defs")}
}
