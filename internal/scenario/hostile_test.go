package scenario

import (
	"fmt"
	"strings"
	"testing"
)

// TestHostileValuesRoundTrip applies values that are valid but full of URL syntax, dots,
// look-alike letters and maximal lengths, and checks that Keycloak stores each exactly as
// written and that the next plan has no changes: they travel escaped, never as paths or queries.
func TestHostileValuesRoundTrip(t *testing.T) {
	realm := scenarioRealm(t, 0, 0)
	r := newRoster(t, realm, realm.Server.URL)
	long := strings.Repeat("v", 2048)
	values := map[string][]string{
		"path":    {"../../admin/realms/master"},
		"url":     {"a/b?c=%2F#frag"},
		"unicode": {"ℌ𝔢𝔩𝔩𝔬 wörld 👋"},
		"long":    {long},
		"multi":   {"x", "x/..", "%00"},
	}
	// "an\u200bn" holds a zero-width space: another user than "ann", however alike they look.
	// (Keycloak accepts it; validate only warns. A Cyrillic look-alike is refused, as Keycloak's
	// user profile refuses it.)
	file := fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ADMIN_EDIT}
users:
  - {username: ann, role: developer, projects: {member: [alpha]}}
  - {username: "an\u200bn", role: developer, projects: {member: [beta]}}
  - {username: a..b, firstName: Zoë, lastName: "O'Brien", role: admin}
  - username: "%s"
    role: developer
    projects: {member: [p.q_r@s+t-u]}
    attributes:
`, realm.Name, strings.Repeat("x", 255))
	for _, k := range []string{"path", "url", "unicode", "long", "multi"} {
		file += fmt.Sprintf("      %s: [%s]\n", k, quoteAll(values[k]))
	}
	r.write("roster.yaml", file)
	stdout, stderr, code := r.run("apply", "--auto-approve", "roster.yaml")
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = r.run("plan", "--detailed-exitcode", "roster.yaml")
	if code != 0 || stdout != "Read roster.yaml\n\nNo changes. The realm matches the configuration.\n" {
		t.Errorf("plan after apply: exit %d\n%s%s", code, stdout, stderr)
	}
	byName := map[string]liveUser{}
	for _, u := range listUsers(t, realm) {
		byName[u.Username] = u
	}
	if len(byName) != 4 || byName["ann"].ID == "" || byName["an\u200bn"].ID == "" || byName["ann"].ID == byName["an\u200bn"].ID {
		t.Errorf("users %v: want ann and an\u200bn as two users, a..b and the 255-character one", keys(byName))
	}
	x := byName[strings.Repeat("x", 255)]
	for k, want := range values {
		if got := x.Attributes[k]; !sameSet(got, want) {
			t.Errorf("attribute %s = %q, want %q", k, got, want)
		}
	}
	if got := byName["ann"].Attributes["applications"]; len(got) != 1 || got[0] != "alpha" {
		t.Errorf("ann's applications = %q, want [alpha]", got)
	}
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func keys(m map[string]liveUser) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, v := range a {
		seen[v]++
	}
	for _, v := range b {
		seen[v]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
