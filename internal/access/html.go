package access

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/model"
)

// Page is what the access-review page shows: the users of one source, the teams of the files
// (none when only the realm was read), and where and when it was made.
type Page struct {
	Source Source
	Realm  string
	// Server is the Keycloak URL read, for SourceLive; empty otherwise.
	Server string
	// Files are the configuration files read, in load order; the teams come from them.
	Files []string
	// Generated is when the page was made.
	Generated time.Time
	Rows      []Row
	// Projects are the projects to show as columns besides those the rows name: the files'
	// registry. The page shows the union, sorted.
	Projects []string
	Teams    []model.Team
}

// The page's roles, as badges and as the values of its role filter.
const (
	roleAdmin        = "admin"
	roleProjectAdmin = "project-admin"
	roleMember       = "member"
	roleExternal     = "external"
	roleCannot       = "cannot-sign-in"
	roleUnknown      = "unknown"
)

var roleLabels = map[string]string{
	roleAdmin: "Admin", roleProjectAdmin: "Project Admin", roleMember: "member",
	roleExternal: "external", roleCannot: "cannot sign in", roleUnknown: "unknown",
}

type htmlCell struct {
	Project, Role, Label string
}

type htmlUser struct {
	Name, Summary    string
	Teams            []string
	Badges           []htmlCell // the user's own badges: Admin, external, cannot sign in
	Cells            []htmlCell // one per project column
	RolesJSON        string
	TeamsJSON        string
	ProjectRolesJSON string
}

type htmlProject struct {
	Project
	External map[string]bool
}

type htmlTeam struct {
	Name          string
	Members       []htmlUser
	Admin, Member []string
}

type htmlData struct {
	Page
	CSP       string
	Generated string
	Projects  []string
	Users     []htmlUser
	Views     []htmlProject
	Teams     []htmlTeam
	Roles     []htmlCell
	Style     template.CSS
	Script    template.JS
}

// pageCSP allows nothing but the page's own style and script, by hash: no network, no
// frames, no forms, no plugins, no base URL. A value that slipped past escaping could still not
// run a script or load anything.
var pageCSP = "default-src 'none'; style-src " + hashSource(pageStyle) + "; script-src " + hashSource(pageScript) +
	"; img-src 'none'; connect-src 'none'; font-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"

func hashSource(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// WriteHTML writes the access-review page: one self-contained HTML document, its style and
// script inline and allowed by hash in a strict Content-Security-Policy. Every value from the
// files or the realm passes through html/template's contextual escaping (text, attribute, and
// JSON in data attributes read with JSON.parse), so no value can add markup or script.
func WriteHTML(w io.Writer, p Page) error {
	d := htmlData{Page: p, CSP: pageCSP, Generated: p.Generated.UTC().Format("2006-01-02 15:04:05 UTC"),
		Style: template.CSS(pageStyle), Script: template.JS(pageScript)}
	projects := slices.Clone(p.Projects)
	for _, r := range p.Rows {
		projects = append(projects, r.Access.Projects...)
		projects = append(projects, r.Access.Admin...)
	}
	slices.Sort(projects)
	d.Projects = slices.Compact(projects)

	teamsOf := map[string][]string{}
	for _, t := range p.Teams {
		for _, m := range t.Members {
			teamsOf[strings.ToLower(m)] = append(teamsOf[strings.ToLower(m)], t.Name)
		}
	}
	byName := map[string]htmlUser{}
	for _, r := range p.Rows {
		u := htmlUserOf(r, d.Projects, teamsOf[strings.ToLower(r.Username)])
		d.Users = append(d.Users, u)
		byName[strings.ToLower(r.Username)] = u
	}
	for _, name := range d.Projects {
		v := htmlProject{Project: ForProject(p.Rows, name), External: map[string]bool{}}
		for _, e := range v.Project.External {
			v.External[e] = true
		}
		d.Views = append(d.Views, v)
	}
	for _, t := range p.Teams {
		ht := htmlTeam{Name: t.Name, Admin: t.Grants.Admin, Member: t.Grants.Member}
		for _, m := range t.Members {
			if u, ok := byName[strings.ToLower(m)]; ok {
				ht.Members = append(ht.Members, u)
			}
		}
		d.Teams = append(d.Teams, ht)
	}
	for _, r := range []string{roleAdmin, roleProjectAdmin, roleMember, roleExternal, roleCannot, roleUnknown} {
		d.Roles = append(d.Roles, htmlCell{Role: r, Label: roleLabels[r]})
	}
	return pageTemplate.Execute(w, d)
}

func htmlUserOf(r Row, projects, teams []string) htmlUser {
	a := r.Access
	u := htmlUser{Name: r.Username, Summary: a.Summary(), Teams: teams}
	var roles []string
	badge := func(role string) {
		roles = append(roles, role)
		u.Badges = append(u.Badges, htmlCell{Role: role, Label: roleLabels[role]})
	}
	switch {
	case a.Unknown != "":
		badge(roleUnknown)
	case !CanSignIn(a):
		badge(roleCannot)
	case a.Role == model.RoleAdmin:
		badge(roleAdmin)
	}
	if a.External {
		badge(roleExternal)
	}
	projectRoles := map[string]string{}
	for _, p := range projects {
		c := htmlCell{Project: p}
		switch {
		case !CanSignIn(a):
			if slices.Contains(a.Projects, p) || slices.Contains(a.Admin, p) {
				c.Role = roleCannot
				if a.Unknown != "" {
					c.Role = roleUnknown
				}
			}
		case a.Role == model.RoleAdmin:
			c.Role = roleAdmin
		case slices.Contains(a.Admin, p):
			c.Role = roleProjectAdmin
		case slices.Contains(a.Projects, p):
			c.Role = roleMember
		}
		c.Label = roleLabels[c.Role]
		if c.Role != "" {
			projectRoles[p] = c.Role
			if !slices.Contains(roles, c.Role) {
				roles = append(roles, c.Role)
			}
		}
		u.Cells = append(u.Cells, c)
	}
	u.RolesJSON = mustJSON(nonNil(roles))
	u.TeamsJSON = mustJSON(nonNil(teams))
	u.ProjectRolesJSON = mustJSON(projectRoles)
	return u
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings, slices and maps of strings always marshal
	}
	return string(b)
}

var pageTemplate = template.Must(template.New("access").Funcs(template.FuncMap{
	"sourceName": func(s Source) string {
		if s == SourceLive {
			return "the live realm"
		}
		return "the files"
	},
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CodeMie access: realm {{.Realm}}</title>
<style>{{.Style}}</style>
<script>{{.Script}}</script>
</head>
<body>
<header>
<h1>CodeMie access review <span class="realm">realm <code id="realm">{{.Realm}}</code></span></h1>
<dl class="meta">
<dt>Source</dt><dd id="source" data-source="{{.Source}}">{{sourceName .Source}}{{if .Server}} at <code>{{.Server}}</code>{{end}}</dd>
<dt>Generated</dt><dd id="generated">{{.Generated}}</dd>
<dt>Files</dt><dd id="files">{{range $i, $f := .Files}}{{if $i}}, {{end}}<code>{{$f}}</code>{{else}}none: teams are declared in the files{{end}}</dd>
<dt>Users</dt><dd id="user-count">{{len .Users}}</dd>
</dl>
<p id="page-errors" class="errors" hidden></p>
</header>
<nav class="controls" aria-label="Views and filters">
<label>View <select id="view">
<option value="matrix">users × projects</option>
<option value="projects">per project</option>
<option value="teams">per team</option>
</select></label>
<label>Project <select id="filter-project"><option value="">all</option>{{range .Projects}}<option value="{{.}}">{{.}}</option>{{end}}</select></label>
<label>Team <select id="filter-team"{{if not .Teams}} disabled{{end}}><option value="">all</option>{{range .Teams}}<option value="{{.Name}}">{{.Name}}</option>{{end}}</select></label>
<label>Role <select id="filter-role"><option value="">all</option>{{range .Roles}}<option value="{{.Role}}">{{.Label}}</option>{{end}}</select></label>
<span id="shown" class="shown"></span>
</nav>
<main>
<section id="view-matrix" class="view">
<h2>Users × projects</h2>
<table class="matrix">
<thead><tr><th scope="col">User</th><th scope="col">Teams</th><th scope="col">CodeMie</th>{{range .Projects}}<th scope="col" class="project" data-project="{{.}}">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Users}}<tr class="user" data-user="{{.Name}}" data-roles="{{.RolesJSON}}" data-teams="{{.TeamsJSON}}" data-project-roles="{{.ProjectRolesJSON}}">
<th scope="row" class="username">{{.Name}}{{range .Badges}} <span class="badge {{.Role}}">{{.Label}}</span>{{end}}</th>
<td class="teams">{{range $i, $t := .Teams}}{{if $i}}, {{end}}{{$t}}{{end}}</td>
<td class="summary">{{.Summary}}</td>
{{range .Cells}}<td class="cell" data-project="{{.Project}}" data-role="{{.Role}}">{{if .Role}}<span class="badge {{.Role}}">{{.Label}}</span>{{end}}</td>{{end}}
</tr>
{{end}}</tbody>
</table>
</section>
<section id="view-projects" class="view">
<h2>Per project</h2>
{{range .Views}}{{$ext := .External}}<article class="project-view" data-project="{{.Name}}">
<h3>{{.Name}}</h3>
<dl>
<dt><span class="badge admin">Admin</span> every project</dt><dd>{{range $i, $n := .PlatformAdmins}}{{if $i}}, {{end}}{{$n}}{{else}}(none){{end}}</dd>
<dt><span class="badge project-admin">Project Admin</span></dt><dd>{{range $i, $n := .Admins}}{{if $i}}, {{end}}{{$n}}{{if index $ext $n}} <span class="badge external">external</span>{{end}}{{else}}(none){{end}}</dd>
<dt><span class="badge member">member</span></dt><dd>{{range $i, $n := .Members}}{{if $i}}, {{end}}{{$n}}{{if index $ext $n}} <span class="badge external">external</span>{{end}}{{else}}(none){{end}}</dd>
{{if .CannotSignIn}}<dt><span class="badge cannot-sign-in">cannot sign in</span> but named</dt><dd>{{range $i, $n := .CannotSignIn}}{{if $i}}, {{end}}{{$n}}{{end}}</dd>{{end}}
</dl>
</article>
{{end}}</section>
<section id="view-teams" class="view">
<h2>Per team</h2>
{{range .Teams}}<article class="team-view" data-team="{{.Name}}">
<h3>{{.Name}}</h3>
<p class="grants">Grants: {{range $i, $p := .Admin}}{{if $i}}, {{end}}<span class="badge project-admin">Project Admin</span> {{$p}}{{end}}{{if and .Admin .Member}}; {{end}}{{range $i, $p := .Member}}{{if $i}}, {{end}}<span class="badge member">member</span> {{$p}}{{end}}{{if not (or .Admin .Member)}}no projects{{end}}</p>
<table class="members"><thead><tr><th scope="col">Member</th><th scope="col">CodeMie</th></tr></thead><tbody>
{{range .Members}}<tr><th scope="row">{{.Name}}{{range .Badges}} <span class="badge {{.Role}}">{{.Label}}</span>{{end}}</th><td>{{.Summary}}</td></tr>
{{end}}</tbody></table>
</article>
{{else}}<p class="empty">No teams: teams are declared in the files; give them to see their members{{if eq .Source "live"}} (with --live, the files' teams and the realm's access){{end}}.</p>
{{end}}</section>
</main>
</body>
</html>
`

// pageStyle is the page's style sheet; pageCSP allows exactly this text.
const pageStyle = `
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--head:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
header,nav,main{padding:0 24px}
h1{font-size:22px;margin:20px 0 8px}
h1 .realm{font-weight:400;color:var(--muted);font-size:16px;margin-left:8px}
h2{font-size:17px;margin:20px 0 8px}
h3{font-size:15px;margin:14px 0 6px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;background:var(--head);padding:1px 4px;border-radius:4px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:0 0 12px;color:var(--muted)}
.meta dt{font-weight:600}
.meta dd{margin:0;color:var(--fg)}
.errors{background:#ffebe9;border:1px solid #cf222e;padding:8px;white-space:pre-wrap}
.controls{display:flex;flex-wrap:wrap;gap:16px;align-items:center;padding-top:10px;padding-bottom:10px;background:var(--head);border-top:1px solid var(--line);border-bottom:1px solid var(--line)}
.controls select{margin-left:4px;font:inherit}
.shown{color:var(--muted)}
table{border-collapse:collapse;margin:6px 0 16px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:var(--head);position:sticky;top:0}
th.project{white-space:nowrap}
.username{white-space:nowrap}
.summary,.teams{color:var(--muted)}
.cell{text-align:center}
.badge{display:inline-block;border-radius:10px;padding:0 7px;font-size:12px;font-weight:600;white-space:nowrap;border:1px solid transparent}
.badge.admin{background:#8250df;color:#fff}
.badge.project-admin{background:#0969da;color:#fff}
.badge.member{background:#dafbe1;color:#116329;border-color:#4ac26b}
.badge.external{background:#fff8c5;color:#7d4e00;border-color:#d4a72c}
.badge.cannot-sign-in{background:#ffebe9;color:#a40e26;border-color:#ff8182}
.badge.unknown{background:#eaeef2;color:#59636e;border-color:#afb8c1}
.project-view dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}
.project-view dd{margin:0}
article{border:1px solid var(--line);border-radius:6px;padding:4px 14px;margin:10px 0;max-width:900px}
[hidden]{display:none!important}
`

// pageScript reports any error into the page (so that a headless browser's dump of the DOM
// shows it), switches views and applies the filters, set in the page or by the address's
// fragment (#view=projects&project=codemie&team=t&role=member). It reads values only from data attributes,
// with JSON.parse, and writes them only as text.
const pageScript = `
(function () {
  "use strict";
  var errors = [];
  function show() {
    var box = document.getElementById("page-errors");
    if (box && errors.length) { box.textContent = errors.join("\n"); box.hidden = false; }
  }
  function report(msg) {
    errors.push(String(msg));
    document.documentElement.setAttribute("data-errors", String(errors.length));
    show();
  }
  window.addEventListener("error", function (e) { report("error: " + e.message); });
  window.addEventListener("unhandledrejection", function (e) { report("unhandled rejection: " + e.reason); });
  document.addEventListener("securitypolicyviolation", function (e) {
    report("blocked by the Content-Security-Policy: " + e.violatedDirective + " " + e.blockedURI);
  });
  var consoleError = console.error;
  console.error = function () {
    report("console.error: " + Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };

  function all(sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); }
  function parse(el, name) { return JSON.parse(el.getAttribute(name)); }

  function apply() {
    var view = document.getElementById("view").value;
    var project = document.getElementById("filter-project").value;
    var team = document.getElementById("filter-team").value;
    var role = document.getElementById("filter-role").value;
    all(".view").forEach(function (s) { s.hidden = s.id !== "view-" + view; });
    var shown = 0;
    all("tr.user").forEach(function (tr) {
      var roles = parse(tr, "data-roles"), teams = parse(tr, "data-teams"), byProject = parse(tr, "data-project-roles");
      var ok = true;
      if (project) { ok = Object.prototype.hasOwnProperty.call(byProject, project); }
      if (ok && team) { ok = teams.indexOf(team) >= 0; }
      if (ok && role) {
        if (role === "external") { ok = roles.indexOf(role) >= 0; }
        else if (project) { ok = byProject[project] === role; }
        else { ok = roles.indexOf(role) >= 0; }
      }
      tr.hidden = !ok;
      if (ok) { shown++; }
    });
    all("table.matrix [data-project]").forEach(function (c) {
      c.hidden = project !== "" && c.getAttribute("data-project") !== project;
    });
    all(".project-view").forEach(function (a) {
      a.hidden = project !== "" && a.getAttribute("data-project") !== project;
    });
    all(".team-view").forEach(function (a) {
      a.hidden = team !== "" && a.getAttribute("data-team") !== team;
    });
    document.getElementById("shown").textContent = shown + " of " + all("tr.user").length + " users shown";
  }

  // The address's fragment may choose the view and filters: #view=teams&team=payments.
  function fromFragment() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    [["view", "view"], ["project", "filter-project"], ["team", "filter-team"], ["role", "filter-role"]].forEach(function (p) {
      var value = params.get(p[0]), select = document.getElementById(p[1]);
      if (value !== null && Array.prototype.some.call(select.options, function (o) { return o.value === value; })) {
        select.value = value;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    show();
    fromFragment();
    ["view", "filter-project", "filter-team", "filter-role"].forEach(function (id) {
      document.getElementById(id).addEventListener("change", apply);
    });
    apply();
    document.documentElement.setAttribute("data-ready", "yes");
  });
})();
`
