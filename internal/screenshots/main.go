// Command screenshots takes the pictures in docs/ (make screenshots): the access-review page of
// examples/codemie-prod.yaml, and the pull-request comment roster plan --format markdown writes
// for it against a realm where some of its users already exist, rendered as GitHub would (the
// CommonMark and GFM of goldmark) and shown in headless Chromium. Both come from roster's own
// renderers; nothing is drawn by hand.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/browser"
	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/plan/render"
	"github.com/rosterhq/roster/internal/schema"
)

// example is the configuration both pictures show.
const example = "examples/codemie-prod.yaml"

// taken is the time the access page says it was generated, fixed so that the picture changes
// only when the page does.
var taken = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("out", "docs", "the directory to write access-page.png and pr-comment.png to")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	b, err := browser.FromEnv()
	if err != nil {
		return err
	}
	cfg, diags := schema.Load([]string{example}, schema.Options{})
	if diags.HasErrors() {
		return fmt.Errorf("%s is not valid: %v", example, diags)
	}
	tmp, err := os.MkdirTemp("", "roster-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ctx := context.Background()

	var page bytes.Buffer
	if err := access.WriteHTML(&page, access.Page{Source: access.SourceFile, Realm: cfg.Realm, Files: cfg.Files,
		Generated: taken, Rows: access.FromConfig(cfg), Projects: cfg.Projects, Teams: cfg.Teams}); err != nil {
		return err
	}
	if err := shoot(ctx, b, tmp, "access.html", page.Bytes(), filepath.Join(out, "access-page.png"), 1280, 720); err != nil {
		return err
	}

	var warnings []diag.Diagnostic
	for _, d := range diags {
		if d.Severity == diag.Warning {
			warnings = append(warnings, d)
		}
	}
	// The realm's token mappers are set up already (realm says so): the comment shows users.
	planned := *cfg
	planned.TokenMappers = nil
	p, err := plan.Build(&planned, realm(cfg), plan.Options{})
	if err != nil {
		return err
	}
	var md bytes.Buffer
	if err := render.Markdown(&md, p, render.MarkdownOptions{Warnings: warnings}); err != nil {
		return err
	}
	var body bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := gm.Convert(md.Bytes(), &body); err != nil {
		return err
	}
	// GitHub shows :warning: and :x: as emoji; goldmark leaves shortcodes alone.
	rendered := strings.NewReplacer(":warning:", "\u26a0\ufe0f", ":x:", "\u2716").Replace(body.String())
	comment := fmt.Sprintf(commentPage, html.EscapeString("roster plan for realm "+cfg.Realm), rendered)
	return shoot(ctx, b, tmp, "comment.html", []byte(comment), filepath.Join(out, "pr-comment.png"), 1000, 620)
}

// realm is the live realm the comment's plan is made against: the example's realm as it might
// be before a pull request, CodeMie's client and its token mappers set up as CodeMie's guide
// says, where bob and carol exist with other access, erin is an external user, and olga, whom
// roster created, has left the files.
func realm(cfg *model.Config) *model.Live {
	dev := func(name string, external bool, g model.Grants, owned bool) model.LiveUser {
		attrs := model.NewAccess(model.RoleDeveloper, external, g).Attributes()
		if owned {
			attrs[model.DefaultOwnerAttribute] = []string{"true"}
		}
		return model.LiveUser{ID: "id-" + name, Username: name, Email: name + "@example.com", Enabled: true,
			Roles: []model.Role{model.RoleDeveloper}, Attributes: attrs}
	}
	return &model.Live{
		Realm:  cfg.Realm,
		Policy: model.PolicyAdminEdit,
		Roles:  []model.RealmRole{{Name: "admin", Description: "CodeMie platform administrator"}, {Name: "developer", Description: "CodeMie user"}},
		Users: []model.LiveUser{
			dev("bob", false, model.Grants{Member: []string{"codemie", "payments-ai"}}, true),
			dev("carol", false, model.Grants{Member: []string{"codemie", "search-ai"}, Admin: []string{"payments-ai"}}, true),
			dev("erin", true, model.Grants{Member: []string{"support-bot", "search-ai"}}, true),
			dev("olga", false, model.Grants{Member: []string{"payments-ai"}}, true),
		},
		Client: &model.LiveCodeMieClient{ID: "client-codemie", ClientID: "codemie", DefaultScopes: []string{"profile", "roles"},
			Mapping: model.RecommendedMapping()},
		Identity: "service-account-roster",
	}
}

// shoot writes content to dir/name and takes its picture.
func shoot(ctx context.Context, b *browser.Browser, dir, name string, content []byte, png string, width, height int) error {
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, content, 0o600); err != nil {
		return err
	}
	if err := b.Screenshot(ctx, file, png, width, height); err != nil {
		return err
	}
	fmt.Println("wrote", png)
	return nil
}

// commentPage frames a rendered comment roughly as a pull-request conversation shows it.
const commentPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>%s</title>
<style>
body{margin:0;padding:24px;background:#f6f8fa;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328}
.comment{max-width:920px;background:#fff;border:1px solid #d1d9e0;border-radius:6px}
.head{background:#f6f8fa;border-bottom:1px solid #d1d9e0;padding:8px 16px;color:#59636e;border-radius:6px 6px 0 0}
.head b{color:#1f2328}
.body{padding:4px 16px 8px}
h2{font-size:20px;border-bottom:1px solid #d1d9e0;padding-bottom:6px}
blockquote{margin:8px 0;padding:0 12px;color:#59636e;border-left:4px solid #d1d9e0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;background:#eff1f3;padding:2px 5px;border-radius:5px}
ul{padding-left:24px}
summary{cursor:pointer;color:#0969da}
pre{background:#f6f8fa;padding:12px;overflow:auto}
</style></head>
<body><div class="comment"><div class="head"><b>github-actions</b> bot commented</div><div class="body">
%s</div></div></body></html>
`
