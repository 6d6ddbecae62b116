package render

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/diag"
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
	// Every u.. user loses its hostile project: past the access guard, which is not under test.
	return build(t, cfg, lr, plan.Options{AllowMassRemoval: true})
}

// TestMarkdownKeepsItsStructureWithHostileValues parses the pull-request comment of a hostile
// plan as GitHub would and checks it holds exactly what Markdown writes: one heading, the
// summary, one quote per warning, the <details> block around one diff fence, and one list item
// per note; that each warning and note reads as the plan says it, with no link, HTML or mention
// of its own; and that every line of the fence belongs to a change.
func TestMarkdownKeepsItsStructureWithHostileValues(t *testing.T) {
	t.Parallel()
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
	// The access summary: one item per kind, each value reading as escape.Text writes it.
	want = append(want, "paragraph: **CodeMie access**", "list")
	sum := summarize(p)
	for k := range accessKinds {
		var parts []string
		n := len(sum.users[k])
		for _, u := range sum.users[k] {
			parts = append(parts, escape.Text(u))
		}
		if k.byProject() {
			var projects []string
			for pr, users := range sum.projects[k] {
				projects = append(projects, pr)
				n += len(users)
			}
			slices.Sort(projects)
			for _, pr := range projects {
				var users []string
				for _, u := range sum.projects[k][pr] {
					users = append(users, escape.Text(u))
				}
				parts = append(parts, escape.Text(pr)+": "+strings.Join(users, ", "))
			}
		}
		if n > 0 {
			sep := ", "
			if k.byProject() {
				sep = "; "
			}
			want = append(want, "  item", fmt.Sprintf("    paragraph: **%s** (%d): %s", accessLabels[k], n, strings.Join(parts, sep)))
		}
	}
	if len(sum.users[gainSignIn]) != len(escapetest.Hostile) || len(sum.projects[leaveProject]) != len(escapetest.Hostile) {
		t.Errorf("the summary names %d new users and %d left projects, want every hostile value", len(sum.users[gainSignIn]), len(sum.projects[leaveProject]))
	}
	want = append(want,
		fmt.Sprintf("html: <details><summary>Show %d changes</summary>", len(p.Changes)),
		fmt.Sprintf("fence diff: %d lines", strings.Count(o.Fences[0], "\n")),
		"html: </details>",
		"paragraph: Read "+strings.Join(p.Files, ", "),
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
	t.Parallel()
	p := hostilePlan(t)
	// Prerequisites quote realm values too: a client scope's name, a mapper's JSON type.
	for _, h := range escapetest.Hostile {
		p.Prerequisites = append(p.Prerequisites, plan.Prerequisite{Error: true, Problem: "scope " + h, Fix: "fix " + h})
	}
	for _, format := range []string{"txt", "color.txt"} {
		out := render(t, format, p)
		if c := escapetest.Controls(out, format == "color.txt"); c != nil {
			t.Errorf("%s output holds control characters: %v", format, c)
		}
		plain := out
		for _, c := range []string{ansiReset, ansiBold, ansiGreen, ansiYellow, ansiRed} {
			plain = strings.ReplaceAll(plain, c, "")
		}
		notes, warnings, errs := 0, 0, 0
		for _, l := range strings.Split(plain, "\n") {
			switch {
			case l == "", strings.HasPrefix(l, "  "), strings.HasPrefix(l, "roster will perform "),
				l == "Read "+escape.Text(strings.Join(p.Files, ", ")),
				l == "Changes are marked with these symbols:", l == p.Summary().String():
			case strings.HasPrefix(l, "Note: "):
				notes++
			case strings.HasPrefix(l, "Warning: "):
				warnings++
			case strings.HasPrefix(l, "Error: scope "):
				errs++
			default:
				t.Errorf("%s: line %q starts at the margin", format, l)
			}
		}
		if notes != len(p.Notes) || warnings != len(p.Warnings) || errs != len(p.Prerequisites) {
			t.Errorf("%s: %d note, %d warning and %d error lines, the plan has %d, %d and %d", format, notes, warnings, errs,
				len(p.Notes), len(p.Warnings), len(p.Prerequisites))
		}
	}
}

// TestMarkdownAccessSummaryAboveTheFold parses a comment as GitHub would and checks that
// everything a reviewer needs is outside the collapsed <details>: the plan's count, every
// warning (the configuration's with their positions, hostile ones included), and one list item
// per kind of CodeMie access change, naming the users.
func TestMarkdownAccessSummaryAboveTheFold(t *testing.T) {
	t.Parallel()
	p := accessPlan(t)
	warnings := []diag.Diagnostic{
		{Severity: diag.Warning, Pos: diag.Pos{File: "access/team.yaml", Line: 12, Col: 5}, Message: `user "heidi" is a developer with no projects`, Hint: "grant projects"},
		{Severity: diag.Warning, Pos: diag.Pos{File: "access/`x`\n# y.yaml", Line: 1, Col: 1}, Message: escapetest.Hostile[3]},
	}
	var b strings.Builder
	if err := Markdown(&b, p, MarkdownOptions{Warnings: warnings}); err != nil {
		t.Fatal(err)
	}
	o := escapetest.Parse(b.String())
	fold := slices.IndexFunc(o.Blocks, func(s string) bool { return strings.HasPrefix(s, "html: <details>") })
	if fold < 0 {
		t.Fatalf("no <details> in\n%s", b.String())
	}
	want := []string{
		"heading 2: roster plan for realm `codemie-prod`",
		"paragraph: **Plan: 1 to add, 9 to change, 1 to remove.**",
		"blockquote", "  paragraph: :warning: **This plan removes users from CodeMie:** 1 user disabled.",
		"blockquote", "  paragraph: :warning: `access/team.yaml:12:5`: user \"heidi\" is a developer with no projects; grant projects",
		"blockquote", "  paragraph: :warning: `access/`x`\\n# y.yaml:1:1`: </details><details><summary>nothing here",
		"paragraph: **CodeMie access**",
		"list",
		"  item", "    paragraph: **Can sign in** (2): `ann`, `lisa`",
		"  item", "    paragraph: **Become Admin** (1): `bob`",
		"  item", "    paragraph: **No longer Admin** (1): `cid`",
		"  item", "    paragraph: **Become Project Admin** (1): `payments`: `dan`",
		"  item", "    paragraph: **No longer Project Admin (still members)** (1): `payments`: `eve`",
		"  item", "    paragraph: **Become members** (2): `codemie`: `ann`; `payments`: `lisa`",
		"  item", "    paragraph: **Lose membership** (1): `search`: `fay`",
		"  item", "    paragraph: **Become External Users** (1): `gus`",
		"  item", "    paragraph: **No longer External Users** (1): `hal`",
		"  item", "    paragraph: **Disabled** (2): `ivy`, `kim`",
	}
	if diff := cmp.Diff(want, o.Blocks[:fold]); diff != "" {
		t.Errorf("above the fold (-want +got):\n%s\n%s", diff, b.String())
	}
	if len(o.Mentions) > 0 {
		t.Errorf("mentions %q", o.Mentions)
	}
}
