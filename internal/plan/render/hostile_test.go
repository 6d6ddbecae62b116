package render

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/escape/escapetest"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// hostilePlan is a plan whose every user-controlled value is hostile: the realm's name, project
// names in live attributes (a user may write their own under some policies), usernames of users
// to create, federation links quoted in notes, and the CodeMie access quoted in warnings.
func hostilePlan(t *testing.T) *plan.Plan {
	realmName := "codemie`\n# realm"
	var users []model.User
	var live []model.LiveUser
	for i, h := range escapetest.Hostile {
		name := fmt.Sprintf("u%02d", i)
		users = append(users, user(name, model.RoleDeveloper, model.Grants{Admin: []string{"payments"}}))
		live = append(live, liveUser(name, map[string][]string{model.AttrApplications: {h}}, model.RoleDeveloper))
		created := user(strings.ToLower(h), model.RoleDeveloper, model.Grants{Member: []string{"payments"}})
		created.Email = &h
		users = append(users, created)
		linked := fmt.Sprintf("f%02d", i)
		users = append(users, user(linked, model.RoleDeveloper, model.Grants{}))
		l := liveUser(linked, nil, model.RoleDeveloper)
		l.FederationLink = h
		live = append(live, l)
	}
	cfg := config(users...)
	cfg.Realm = realmName
	cfg.Settings.UserManagement = true
	lr := realm(live...)
	lr.Realm = realmName
	return build(t, cfg, lr, plan.Options{})
}

// TestMarkdownKeepsItsStructureWithHostileValues parses the pull-request comment of a hostile
// plan as GitHub would and checks it holds exactly what Markdown writes: one heading, the
// summary, one quote per warning, the <details> block around one diff fence, and one list item
// per note; that each warning and note reads as the plan says it, with no link, HTML or mention
// of its own; and that every line of the fence belongs to a change.
func TestMarkdownKeepsItsStructureWithHostileValues(t *testing.T) {
	p := hostilePlan(t)
	md := render(t, "md", p)
	o := escapetest.Parse(md)

	want := []string{
		"heading 2: roster plan for realm " + escape.Text(p.Realm),
		"paragraph: **" + p.Summary().String() + "**",
	}
	for _, w := range p.Warnings {
		want = append(want, "blockquote", "  paragraph: :warning: "+escape.Text(w))
	}
	want = append(want,
		fmt.Sprintf("html: <details><summary>Show %d changes</summary>", len(p.Changes)),
		fmt.Sprintf("fence diff: %d lines", strings.Count(o.Fences[0], "\n")),
		"html: </details>",
		"paragraph: **Notes**",
		"list",
	)
	for _, n := range p.Notes {
		want = append(want, "  item", "    paragraph: "+escape.Text(n))
	}
	// Values set in code spans keep their text; only the spans' backticks differ.
	unticked := func(lines []string) []string {
		out := make([]string, len(lines))
		for i, l := range lines {
			out[i] = strings.ReplaceAll(l, "`", "")
		}
		return out
	}
	if diff := cmp.Diff(unticked(want), unticked(o.Blocks)); diff != "" {
		t.Errorf("markdown structure (-want +got):\n%s\n%s", diff, md)
	}
	if len(o.Mentions) > 0 {
		t.Errorf("markdown mentions or references %q outside code", o.Mentions)
	}
	if len(p.Warnings) == 0 || len(p.Notes) < len(escapetest.Hostile) {
		t.Fatalf("the hostile plan has %d warnings and %d notes: the fixture no longer reaches them", len(p.Warnings), len(p.Notes))
	}
	header := regexp.MustCompile(`^[+!-] [a-z_]+ "`)
	headers := 0
	for _, l := range strings.Split(strings.TrimSuffix(o.Fences[0], "\n"), "\n") {
		switch {
		case header.MatchString(l):
			headers++
		case l != "" && !strings.HasPrefix(l, "+     ") && !strings.HasPrefix(l, "!     "):
			t.Errorf("fence line %q belongs to no change", l)
		}
	}
	if headers != len(p.Changes) {
		t.Errorf("the fence shows %d changes, the plan has %d", headers, len(p.Changes))
	}
	if c := escapetest.Controls(md, false); c != nil {
		t.Errorf("markdown holds control characters: %v", c)
	}
}

// TestTextKeepsItsLinesWithHostileValues checks that no hostile value survives as a control
// character in the terminal output, with or without colour, and that every line that starts at
// the margin is one the renderer writes there: no value starts a line of its own.
func TestTextKeepsItsLinesWithHostileValues(t *testing.T) {
	p := hostilePlan(t)
	for _, format := range []string{"txt", "color.txt"} {
		out := render(t, format, p)
		if c := escapetest.Controls(out, format == "color.txt"); c != nil {
			t.Errorf("%s output holds control characters: %v", format, c)
		}
		plain := out
		for _, c := range []string{ansiReset, ansiBold, ansiGreen, ansiYellow, ansiRed} {
			plain = strings.ReplaceAll(plain, c, "")
		}
		notes, warnings := 0, 0
		for _, l := range strings.Split(plain, "\n") {
			switch {
			case l == "", strings.HasPrefix(l, "  "), strings.HasPrefix(l, "roster will perform "),
				l == "Changes are marked with these symbols:", l == p.Summary().String():
			case strings.HasPrefix(l, "Note: "):
				notes++
			case strings.HasPrefix(l, "Warning: "):
				warnings++
			default:
				t.Errorf("%s: line %q starts at the margin", format, l)
			}
		}
		if notes != len(p.Notes) || warnings != len(p.Warnings) {
			t.Errorf("%s: %d note and %d warning lines, the plan has %d and %d", format, notes, warnings, len(p.Notes), len(p.Warnings))
		}
	}
}
