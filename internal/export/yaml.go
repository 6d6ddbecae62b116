package export

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/model"
)

// File is one output file of a split export.
type File struct {
	// Name is the file's base name.
	Name string
	Data []byte
}

// RealmFile is the name of the file of a split export that holds the realm's prerequisites.
const RealmFile = "realm.yaml"

// Single renders the export as one file.
func (e *Export) Single() ([]byte, error) {
	root := e.top(e.header())
	e.prerequisites(root)
	data, err := encode(root)
	if err != nil {
		return nil, err
	}
	return e.appendUsers(data, e.Users)
}

// encodeChunk is how many users appendUsers encodes at a time. The YAML encoder holds every
// event of a document until it ends, and nodes cost far more than the text they become, so
// a realm's users are encoded a chunk at a time and their text appended.
const encodeChunk = 500

// appendUsers appends the users key with the users to data, the encoding of a file's other
// keys: the same text as encoding them all in one document, in memory for encodeChunk users.
func (e *Export) appendUsers(data []byte, users []User) ([]byte, error) {
	const key = "users:\n"
	for i := 0; i < len(users); i += encodeChunk {
		root := &yaml.Node{Kind: yaml.MappingNode}
		addKey(root, "users", e.users(users[i:min(i+encodeChunk, len(users))]))
		chunk, err := encode(root)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			chunk = bytes.TrimPrefix(chunk, []byte(key))
		}
		data = append(data, chunk...)
	}
	return data, nil
}

// Split renders the export as a directory: RealmFile with the prerequisites, admins.yaml with
// the platform admins, project-P.yaml for the users whose first administered (else first
// opened) project is P, and no-project.yaml for the rest. Files are sorted by name; each is
// self-describing (version and realm).
func (e *Export) Split() ([]File, error) {
	root := e.top(e.header())
	e.prerequisites(root)
	data, err := encode(root)
	if err != nil {
		return nil, err
	}
	files := []File{{Name: RealmFile, Data: data}}
	groups := map[string][]User{}
	for _, u := range e.Users {
		groups[fileKey(u)] = append(groups[fileKey(u)], u)
	}
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		root := e.top([]string{fmt.Sprintf("Users of realm %q exported with %s; see %s.", e.live.Realm, RealmFile, describeGroup(name))})
		data, err := encode(root)
		if err == nil {
			data, err = e.appendUsers(data, groups[name])
		}
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: name, Data: data})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

func describeGroup(name string) string {
	switch name {
	case "admins.yaml":
		return "platform admins"
	case "no-project.yaml":
		return "users with no project"
	}
	return "users whose first administered, else first opened, project is " + strings.TrimSuffix(strings.TrimPrefix(name, "project-"), ".yaml")
}

// header is the comment at the top of the (first) file.
func (e *Export) header() []string {
	lines := []string{
		fmt.Sprintf("Exported by roster from realm %q at %s on %s.", e.live.Realm, e.opts.Server, e.opts.Time.UTC().Format(time.RFC3339)),
		fmt.Sprintf("%s exported.", plural(len(e.Users), "user")),
	}
	var left []string
	if e.ServiceAccounts > 0 {
		left = append(left, plural(e.ServiceAccounts, "service account"))
	}
	if e.Storage > 0 {
		left = append(left, plural(e.Storage, "user")+" from user storage (LDAP, …), which roster never changes")
	}
	if e.NotSelected > 0 {
		left = append(left, plural(e.NotSelected, "user")+" not selected by --role or --project")
	}
	if len(left) > 0 {
		lines = append(lines, "Left out: "+strings.Join(left, "; ")+".")
	}
	if n := len(e.NoRole); n > 0 {
		lines = append(lines,
			fmt.Sprintf("Left out: %s without the admin or developer role, who cannot sign in to CodeMie.", plural(n, "user")),
			"Declaring one would grant access (the format requires a role); add them only on purpose:")
		for _, u := range e.NoRole {
			lines = append(lines, "  "+u)
		}
	}
	if e.opts.Adopt {
		lines = append(lines, fmt.Sprintf("--adopt: every user declares %s: [\"true\"]; the next apply marks them as owned by roster.", e.owner))
	}
	if e.live.Policy == model.PolicyDisabled || e.live.Policy == "" {
		lines = append(lines,
			"The realm's unmanagedAttributePolicy is DISABLED: Keycloak hides and drops CodeMie's attributes.",
			"settings.unmanagedAttributePolicy is left out; set it to ADMIN_EDIT before declaring projects.")
	}
	return lines
}

// top starts a file: version and realm, with the comment lines above them.
func (e *Export) top(comment []string) *yaml.Node {
	root := &yaml.Node{Kind: yaml.MappingNode}
	addKey(root, "version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(model.FormatVersion)})
	root.Content[0].HeadComment = commentLines(comment)
	addKey(root, "realm", str(e.live.Realm))
	return root
}

// prerequisites adds the realm's policy, the owned roles and the identity providers as found,
// and the ownership marker's name and CodeMie's settings when they are not the defaults.
func (e *Export) prerequisites(root *yaml.Node) {
	settings := &yaml.Node{Kind: yaml.MappingNode}
	if p := e.live.Policy; p != "" && p != model.PolicyDisabled {
		addKey(settings, "unmanagedAttributePolicy", str(string(p)))
	}
	if e.owner != model.DefaultOwnerAttribute {
		addKey(settings, "ownerAttribute", str(e.owner))
	}
	cm, d := e.live.CodeMie, model.DefaultCodeMie()
	codemie := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range []struct{ key, val, def string }{
		{"adminRole", cm.AdminRole, d.AdminRole}, {"developerRole", cm.DeveloperRole, d.DeveloperRole}, {"clientId", cm.ClientID, d.ClientID},
	} {
		if f.val != "" && f.val != f.def {
			addKey(codemie, f.key, str(f.val))
		}
	}
	if len(codemie.Content) > 0 {
		addKey(settings, "codemie", codemie)
	}
	if len(settings.Content) > 0 {
		addKey(root, "settings", settings)
	}
	roles := &yaml.Node{Kind: yaml.SequenceNode}
	for _, r := range e.live.Roles {
		if !slices.Contains(model.OwnedRoles(), model.Role(r.Name)) {
			continue
		}
		n := &yaml.Node{Kind: yaml.MappingNode}
		addKey(n, "name", str(r.Name))
		if r.Description != "" {
			addKey(n, "description", str(r.Description))
		}
		roles.Content = append(roles.Content, n)
	}
	if len(roles.Content) > 0 {
		addKey(root, "roles", roles)
	}
	e.identityProviders(root)
}

func (e *Export) users(users []User) *yaml.Node {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, u := range users {
		seq.Content = append(seq.Content, e.userNode(u))
	}
	return seq
}

func (e *Export) userNode(u User) *yaml.Node {
	lu := u.Live
	n := &yaml.Node{Kind: yaml.MappingNode}
	name := str(lu.Username)
	name.LineComment = "# " + escape.Text(u.Access.Summary())
	addKey(n, "username", name)
	if len(u.Dropped) > 0 || u.Misread != "" {
		var lines []string
		if u.Misread != "" {
			lines = append(lines, "warning: "+u.Misread)
		}
		for _, k := range slices.Sorted(maps.Keys(u.Dropped)) {
			lines = append(lines, fmt.Sprintf("attribute %q is not exported: %s", k, u.Dropped[k]))
		}
		n.Content[0].HeadComment = commentLines(lines)
	}
	for _, f := range []struct{ key, val string }{{"email", lu.Email}, {"firstName", lu.FirstName}, {"lastName", lu.LastName}} {
		if f.val != "" {
			addKey(n, f.key, str(f.val))
		}
	}
	d := u.Declared
	if d.Disabled {
		addKey(n, "enabled", boolean(false))
	}
	addKey(n, "role", str(string(d.Role)))
	if d.External {
		addKey(n, "external", boolean(true))
	}
	if len(d.Projects) > 0 {
		p := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		if len(d.Admin) > 0 {
			addKey(p, "admin", list(d.Admin))
		}
		if m := d.MemberOnly(); len(m) > 0 {
			addKey(p, "member", list(m))
		}
		addKey(n, "projects", p)
	}
	if len(u.Attributes) > 0 {
		a := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range slices.Sorted(maps.Keys(u.Attributes)) {
			addKey(a, k, list(u.Attributes[k]))
		}
		addKey(n, "attributes", a)
	}
	if len(lu.FederatedIdentities) > 0 {
		links := &yaml.Node{Kind: yaml.SequenceNode}
		for _, l := range lu.FederatedIdentities {
			m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
			addKey(m, "provider", str(l.Provider))
			addKey(m, "userId", str(l.UserID))
			if l.UserName != "" {
				addKey(m, "userName", str(l.UserName))
			}
			links.Content = append(links.Content, m)
		}
		addKey(n, "federatedIdentities", links)
	}
	return n
}

func addKey(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

// str is a string scalar, quoted when YAML (1.2, or 1.1 for yes/no/on/off) would read its plain
// form as anything but that string, and when it holds a character escape.Text would escape
// (see encode).
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if plainWord(s) {
		return n
	}
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil || v != s || yaml11Bool(s) || escape.Text(s) != s {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

// plainWord reports whether s is a letter followed by letters, digits and . _ - @ and not a
// word YAML reads as a boolean or null: such a scalar reads back as itself unquoted, which str
// would otherwise find out by parsing it (most usernames, emails and project names, and a
// parser for each costs more than the rest of the export).
func plainWord(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && (c < '0' || c > '9') && !strings.ContainsRune("._-@", rune(c)) {
			return false
		}
	}
	return !yaml11Bool(s) && !slices.Contains([]string{"true", "false", "null"}, strings.ToLower(s))
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func yaml11Bool(s string) bool {
	return slices.Contains([]string{"y", "n", "yes", "no", "on", "off"}, strings.ToLower(s))
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(b)}
}

func list(vals []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range vals {
		n.Content = append(n.Content, str(v))
	}
	return n
}

// commentLines makes lines a YAML comment. The lines quote usernames, project names and
// attribute names; they go through escape.Text, so none can end the comment and write YAML the
// next apply would read.
func commentLines(lines []string) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight("# "+escape.Text(l), " ")
	}
	return strings.Join(out, "\n")
}

func encode(root *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("failed to write YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("failed to write YAML: %w", err)
	}
	return escapeFormatCharacters(buf.Bytes()), nil
}

// escapeFormatCharacters writes as \uXXXX the characters YAML counts as printable but
// escape.Text does not, such as a right-to-left override, which would make the file read
// otherwise than it parses. str double-quotes every scalar that holds one and comments have gone
// through escape.Text, so each is inside a double-quoted scalar, where \uXXXX is the same
// character.
func escapeFormatCharacters(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r >= 0x80 && escape.Text(string(r)) != string(r) {
			fmt.Fprintf(&out, `\u%04X`, r)
		} else {
			out.Write(b[:size])
		}
		b = b[size:]
	}
	return out.Bytes()
}

// plural is "1 user" or "n users" for noun "user".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
