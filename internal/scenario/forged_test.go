package scenario

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/escape/escapetest"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// TestLiveAttributesCannotForgeThePullRequestComment is the attack of a user who writes their
// own applications attribute (the realm's unmanaged-attribute policy ENABLED lets them; here
// the Admin API writes it for them in a fresh realm): values that close the diff's code fence
// and write "# No changes", HTML, a mention, a link and terminal escape sequences. roster plan
// --format markdown must keep the comment's structure, as a CommonMark parser reads it, and
// plan, access and export (which refuses the values, quoting them) must print no control
// character.
func TestLiveAttributesCannotForgeThePullRequestComment(t *testing.T) {
	realm := keycloaktest.NewCodeMieRealm(t)
	ctx := context.Background()
	if err := realm.SetPolicy(ctx, "ENABLED"); err != nil {
		t.Fatal(err)
	}
	// CodeMie's client with multivalued mappers, so that every stored value reaches the token,
	// and so what roster shows of CodeMie's reading.
	if _, err := realm.CodeMieClient(ctx, "codemie", "profile", true); err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, h := range escapetest.Hostile {
		values = append(values, strings.ToValidUTF8(h, "?"))
	}
	if err := realm.SeedUsers(ctx, []keycloaktest.User{{Username: "mallory", Email: "mallory@example.com", Enabled: true,
		RealmRoles: []string{"developer"}, Attributes: map[string][]string{"applications": values}}}); err != nil {
		t.Fatal(err)
	}
	r := newRoster(t, realm, realm.Server.URL)
	r.write("roster.yaml", fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ENABLED, codemie: {userManagement: true}}
users:
  - {username: mallory, email: mallory@example.com, role: developer, projects: {member: [payments]}}
`, realm.Name))

	md, stderr, code := r.run("plan", "--format", "markdown", "roster.yaml")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	o := escapetest.Parse(md)
	shape := regexp.MustCompile(`^(heading 2: roster plan for realm |paragraph: \*\*Plan: 0 to add, 1 to change, 0 to remove\.\*\*$|blockquote$|  paragraph: :warning: |html: <details><summary>Show 1 change</summary>$|fence diff: \d+ lines$|html: </details>$|paragraph: Read ` + "`roster\\.yaml`" + `$|paragraph: \*\*Notes\*\*$|paragraph: \*\*CodeMie access\*\*$|list$|  item$|    paragraph: )`)
	for _, b := range o.Blocks {
		if !shape.MatchString(b) {
			t.Errorf("block %q is not one roster writes", b)
		}
	}
	count := func(prefix string) int {
		return len(slices.DeleteFunc(slices.Clone(o.Blocks), func(b string) bool { return !strings.HasPrefix(b, prefix) }))
	}
	// The warnings: the policy ENABLED (from plan and from the file's validation) and
	// user-management mode.
	if count("heading") != 1 || count("fence") != 1 || count("html") != 2 || count("blockquote") != 3 {
		t.Errorf("want one heading, one fence, the <details> pair and three warnings; got\n%s", strings.Join(o.Blocks, "\n"))
	}
	if len(o.Mentions) > 0 {
		t.Errorf("the comment mentions or references %q outside code", o.Mentions)
	}
	if c := escapetest.Controls(md, false); c != nil {
		t.Errorf("the comment holds control characters %v", c)
	}
	// The values did reach the comment, escaped, inside the fence, with their case: CodeMie
	// compares project names exactly, and so does roster.
	for _, want := range []string{`\x1b[2Jcleared`, "```\\n# No changes\\n```", "</details><details>"} {
		if len(o.Fences) != 1 || !strings.Contains(o.Fences[0], escape.Text(want)) {
			t.Errorf("the diff lacks %q:\n%s", want, md)
		}
	}

	// export refuses the realm (the project names are not valid), quoting each in a diagnostic.
	for _, run := range []struct {
		args []string
		code int
	}{
		{[]string{"plan", "roster.yaml"}, 0},
		{[]string{"access", "--live", "roster.yaml"}, 0},
		{[]string{"access", "--live", "--username", "mallory", "roster.yaml"}, 0},
		{[]string{"export", "--realm", realm.Name}, 1},
	} {
		out, stderr, code := r.run(run.args...)
		if code != run.code {
			t.Fatalf("%s: exit %d, want %d\n%s%s", run.args, code, run.code, out, stderr)
		}
		// export quotes the names as the format would declare them: lowercase.
		if !strings.Contains(strings.ToLower(out+stderr), `\x1b[2jcleared`) {
			t.Errorf("%s does not show the hostile value:\n%s%s", run.args, out, stderr)
		}
		if c := escapetest.Controls(out+stderr, false); c != nil {
			t.Errorf("%s prints control characters %v:\n%s%s", run.args, c, out, stderr)
		}
	}
}
