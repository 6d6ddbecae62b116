package layout

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ in, want string }{
		"key order, comments travel with their keys": {
			in: `# header

realm: x   # the realm
version: 1
users:
  - role: developer # why
    # the login
    username: bob
    projects: {admin: [a], member: [b, c]}


  # second
  - username: carol
    role: admin
    initialPassword:
      temporary: false
      env: ROSTER_SECRET_X
`,
			want: `# header

version: 1
realm: x # the realm
users:
  - # the login
    username: bob
    role: developer # why
    projects:
      member: [b, c]
      admin: [a]

  # second
  - username: carol
    role: admin
    initialPassword: {env: ROSTER_SECRET_X, temporary: false}
`,
		},
		"lists: short ones on a line, long or commented ones one item per line": {
			in: `version: 1
projects:
  - codemie
  - payments
teams:
  t:
    members: [aaaaaaaaaa, bbbbbbbbbb, cccccccccc, dddddddddd, eeeeeeeeee, ffffffffff]
    projects:
      member: [a,
        # inside
        b]
`,
			want: `version: 1
projects: [codemie, payments]
teams:
  t:
    members:
      - aaaaaaaaaa
      - bbbbbbbbbb
      - cccccccccc
      - dddddddddd
      - eeeeeeeeee
      - ffffffffff
    projects:
      member:
        - a
        # inside
        - b
`,
		},
		"comments after flow values stay on their line or above the entry": {
			in: `version: 1
users:
  - {username: bob, role: developer,
     projects: {member: [codemie]}}    # his own grant
projects: # the registry
  [codemie, payments]
`,
			want: `version: 1
projects: [codemie, payments] # the registry
users:
  - # his own grant
    username: bob
    role: developer
    projects:
      member: [codemie]
`,
		},
		"quotes only where YAML needs them": {
			in: `version: 1
realm: 'x'
users:
  - username: "bob"
    firstName: "017"
    lastName: "yes"
    attributes:
      "a b": ["true", "#1", 'it''s']
`,
			want: `version: 1
realm: x
users:
  - username: bob
    firstName: "017"
    lastName: "yes"
    attributes:
      a b: ["true", "#1", it's]
`,
		},
		"anchors, merge keys and block scalars": {
			in: `version: 1
roles:
  - description: |
      # not a comment
      two lines
    name: a
teams:
  t1: &t
    projects: {member: [x]}
    members: [bob]
  t2:
    members: [carol]
    <<: *t
`,
			want: `version: 1
roles:
  - name: a
    description: |
      # not a comment
      two lines
teams:
  t1: &t
    members: [bob]
    projects:
      member: [x]
  t2:
    <<: *t
    members: [carol]
`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Format([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("Format (-want +got):\n%s", diff)
			}
			again, err := Format(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(got), string(again)); diff != "" {
				t.Errorf("a second Format changes the output (-first +second):\n%s", diff)
			}
		})
	}
}

func TestFormatRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ in, want string }{
		"an alias the order would put first": {
			in:   "version: 1\nusers:\n  - username: a\n    projects: &p {member: [x]}\nteams:\n  t:\n    projects: *p\n",
			want: "the canonical key order would put alias *p before its anchor &p",
		},
		"several documents": {in: "version: 1\n---\nversion: 1\n", want: "not one YAML document"},
		"not a mapping":     {in: "- version\n", want: "not a mapping of keys to values"},
		"broken YAML":       {in: "version: [1\n", want: "not valid YAML"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Format([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Format = %v, want an error containing %s", err, tc.want)
			}
		})
	}
}

// The last line of defence: whatever the encoder does, a lost or changed comment is refused.
func TestCheckComments(t *testing.T) {
	t.Parallel()
	in := []byte("version: 1 # v\nrealm: x # r\n")
	for out, want := range map[string]string{
		"version: 1 # v\nrealm: x # r\n":        "",
		"# r\nversion: 1 # v\nrealm: x\n":       "",
		"version: 1 # v\nrealm: x\n":            `"# r" would be lost`,
		"version: 1 # v\nrealm: x # R\n":        `"# r" would be lost`,
		"version: 1 # v\nrealm: x # r\n# new\n": `"# new" would be added`,
		"version: 1 # v\nrealm: 'x#' # r\n":     "comments would change",
	} {
		err := checkComments(in, []byte(out))
		if got := fmt.Sprint(err); (want == "" && err != nil) || (want != "" && !strings.Contains(got, want)) {
			t.Errorf("checkComments(%q) = %v, want %q", out, err, want)
		}
	}
}
