package access

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/browser"
	"github.com/rosterhq/roster/internal/escape/escapetest"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/schema"
)

// chromium returns the browser ROSTER_BROWSER names. Without it the test is skipped, loudly,
// on a developer's machine, and fails in CI (CI is set): make test sets it through
// scripts/chromium.sh, which installs Debian's chromium when it is missing.
func chromium(t *testing.T) *browser.Browser {
	t.Helper()
	b, err := browser.FromEnv()
	if err == nil {
		return b
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("the access page must be checked in a browser in CI: %v", err)
	}
	t.Skipf("SKIPPED: the access page was NOT checked in a browser: %v (make test does this)", err)
	return nil
}

func writePage(t *testing.T, p Page) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteHTML(&buf, p); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "access.html")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// load opens the page in the browser and fails the test on any error the page or the browser
// reported, or when the page's script did not run to its end.
func load(t *testing.T, b *browser.Browser, file, fragment string) string {
	t.Helper()
	l, err := b.DumpDOM(context.Background(), file, fragment)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Console) > 0 {
		t.Errorf("the browser logged errors:\n%s", strings.Join(l.Console, "\n"))
	}
	if m := regexp.MustCompile(`(?s)<p id="page-errors"[^>]*>(.*?)</p>`).FindStringSubmatch(l.DOM); m == nil || m[1] != "" {
		t.Errorf("the page reported errors: %q", m)
	}
	if !strings.Contains(l.DOM, `<html lang="en" data-ready="yes">`) {
		t.Errorf("the page's script did not finish (blocked, or it failed); the DOM starts:\n%.600s", l.DOM)
	}
	return l.DOM
}

var (
	rowRE  = regexp.MustCompile(`(?s)<tr class="user" data-user="([^"]*)"[^>]*?( hidden="")?>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`<td class="cell" data-project="([^"]*)" data-role="([^"]*)"`)
)

// cells reads the matrix from a dumped DOM: for each user, "project=role" for every project
// cell with a role, and whether the row is hidden.
func cells(dom string) (grid map[string][]string, shown []string) {
	grid = map[string][]string{}
	for _, r := range rowRE.FindAllStringSubmatch(dom, -1) {
		grid[r[1]] = []string{}
		for _, c := range cellRE.FindAllStringSubmatch(r[3], -1) {
			if c[2] != "" {
				grid[r[1]] = append(grid[r[1]], c[1]+"="+c[2])
			}
		}
		if r[2] == "" {
			shown = append(shown, r[1])
		}
	}
	return grid, shown
}

func examplePage(t *testing.T) Page {
	t.Helper()
	cfg, diags := schema.Load([]string{"../../examples/codemie-prod.yaml"}, schema.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return Page{Source: SourceFile, Realm: cfg.Realm, Files: cfg.Files, Generated: time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC),
		Rows: FromConfig(cfg), Projects: cfg.Projects, Teams: cfg.Teams}
}

// TestHTMLPageInChromium loads the access page of examples/codemie-prod.yaml in headless
// Chromium: it loads without an error (the Content-Security-Policy lets its own script and
// style run), its header names the realm, time and files, the matrix holds the example's
// roles, the fragment's filters show the right users, and a screenshot is taken.
func TestHTMLPageInChromium(t *testing.T) {
	b := chromium(t)
	file := writePage(t, examplePage(t))
	dom := load(t, b, file, "")

	for _, want := range []string{
		`<code id="realm">codemie-prod</code>`,
		`<dd id="generated">2026-05-04 09:30:00 UTC</dd>`,
		`<dd id="files"><code>../../examples/codemie-prod.yaml</code></dd>`,
		`<dd id="source" data-source="file">the files</dd>`,
		`<span id="shown" class="shown">8 of 8 users shown</span>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	grid, _ := cells(dom)
	all := func(role string) []string {
		return []string{"codemie=" + role, "payments-ai=" + role, "search-ai=" + role, "support-bot=" + role}
	}
	want := map[string][]string{
		"alice": all("admin"),
		"bob":   {"codemie=member", "payments-ai=project-admin"},
		"carol": {"codemie=member", "payments-ai=project-admin", "search-ai=member"},
		"dave":  {"search-ai=project-admin", "support-bot=member"},
		"erin":  {"support-bot=member"},
		"frank": {"codemie=member"},
		"grace": {"codemie=cannot-sign-in"},
		"heidi": {},
	}
	if diff := cmp.Diff(want, grid); diff != "" {
		t.Errorf("matrix (-want +got):\n%s", diff)
	}
	for _, badge := range []string{
		`alice <span class="badge admin">Admin</span>`,
		`frank <span class="badge external">external</span>`,
		`grace <span class="badge cannot-sign-in">cannot sign in</span>`,
	} {
		if !strings.Contains(dom, badge) {
			t.Errorf("the matrix lacks the badge %s", badge)
		}
	}

	for fragment, want := range map[string][]string{
		"project=payments-ai":                  {"alice", "bob", "carol"},
		"project=payments-ai&role=member":      nil,
		"project=codemie&role=member":          {"bob", "carol", "frank"},
		"team=support":                         {"dave", "erin"},
		"role=cannot-sign-in":                  {"grace"},
		"role=external":                        {"frank"},
		"role=project-admin&team=payments":     {"bob", "carol"},
		"view=teams&team=payments&project=nil": {"bob", "carol"},
	} {
		_, shown := cells(load(t, b, file, fragment))
		if !slices.Equal(shown, want) {
			t.Errorf("#%s shows %q, want %q", fragment, shown, want)
		}
	}
	teams := load(t, b, file, "view=teams&team=payments")
	for _, want := range []string{`<section id="view-matrix" class="view" hidden="">`, `<section id="view-teams" class="view">`,
		`<article class="team-view" data-team="support" hidden="">`, `<article class="team-view" data-team="payments">`} {
		if !strings.Contains(teams, want) {
			t.Errorf("#view=teams&team=payments: the page lacks %s", want)
		}
	}

	shot := filepath.Join(t.TempDir(), "access.png")
	if err := b.Screenshot(context.Background(), file, shot, 1280, 900); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 1280 || got.Y != 900 {
		t.Errorf("screenshot is %v, want 1280x900", got)
	}
}

// TestHTMLPageHostileValues renders users, projects and teams named with hostile values —
// markup, a closing </script>, quotes breaking out of attributes, an event handler, a
// javascript: URL, control characters — and loads the page in Chromium: it must load without
// error, run only its own script, and show each value as text in its own row and cell.
func TestHTMLPageHostileValues(t *testing.T) {
	b := chromium(t)
	hostile := append(slices.Clone(escapetest.Hostile),
		`</script><script>document.documentElement.setAttribute("data-pwned","1")</script>`,
		`"><svg onload=alert(1)>`, `' onmouseover='alert(1)`, `</style><style>*{display:none}</style>`,
		`{{.Realm}}`, `</textarea></title><b>bold</b>`)
	var rows []Row
	var teams []model.Team
	for i, h := range hostile {
		rows = append(rows, Row{Username: h, Access: model.NewAccess(model.RoleDeveloper, i%2 == 0,
			model.Grants{Member: []string{h}, Admin: []string{"p" + h}})})
		teams = append(teams, model.Team{Name: h, Members: []string{strings.ToLower(h)}, Grants: model.Grants{Member: []string{h}}})
	}
	file := writePage(t, Page{Source: SourceLive, Realm: hostile[len(hostile)-1], Server: `https://kc.example/"><script>alert(1)</script>`,
		Files: hostile[:3], Generated: time.Now(), Rows: rows, Projects: hostile[:2], Teams: teams})
	for _, fragment := range []string{"", "view=projects", "view=teams&team=" + url.QueryEscape(hostile[0])} {
		dom := load(t, b, file, fragment)
		if n := strings.Count(dom, "<script"); n != 1 {
			t.Errorf("#%s: %d <script> elements, want the page's own", fragment, n)
		}
		for _, tag := range []string{"<svg", "<img", "<b>", "<textarea", `data-pwned="1"`, "<style>*"} {
			if strings.Contains(dom, tag) {
				t.Errorf("#%s: a value became markup: %s in the DOM", fragment, tag)
			}
		}
		if grid, _ := cells(dom); len(grid) != len(hostile) {
			t.Errorf("#%s: %d user rows, want %d", fragment, len(grid), len(hostile))
		}
	}
}
