package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from current output")

// Fixtures. Plans come from plan.Build, so the golden files show what roster really prints.

func config(users ...model.User) *model.Config {
	return &model.Config{
		Version: model.FormatVersion,
		Files:   []string{"access/roster.yaml", "access/Teams.YAML"},
		Realm:   "codemie-prod",
		Settings: model.Settings{
			Prune: model.PruneNone, MaxRemovals: model.DefaultMaxRemovals, MaxAccessLosses: model.DefaultMaxAccessLosses,
			OwnerAttribute: model.DefaultOwnerAttribute,
		},
		Roles: []model.RealmRole{{Name: "admin"}, {Name: "developer"}},
		Users: users,
	}
}

func realm(users ...model.LiveUser) *model.Live {
	return &model.Live{
		Realm:    "codemie-prod",
		Policy:   model.PolicyAdminEdit,
		Roles:    []model.RealmRole{{Name: "admin"}, {Name: "developer"}},
		Users:    users,
		Identity: "service-account-roster",
		// CodeMie's client with the mappers CodeMie's guide sets up.
		Client: &model.LiveCodeMieClient{ID: "c", ClientID: "codemie", DefaultScopes: []string{"profile", "roles"},
			Mapping: model.RecommendedMapping()},
	}
}

func user(name string, role model.Role, g model.Grants) model.User {
	return model.User{Username: name, Role: role, Projects: g, Access: model.NewAccess(role, false, g)}
}

func liveUser(name string, attrs map[string][]string, roles ...model.Role) model.LiveUser {
	return model.LiveUser{ID: "id-" + name, Username: name, Email: name + "@corp.com", Enabled: true, Attributes: attrs, Roles: roles}
}

func member(name string, projects ...string) model.LiveUser {
	return liveUser(name, model.NewAccess(model.RoleDeveloper, false, model.Grants{Member: projects}).Attributes(), model.RoleDeveloper)
}

func ptr[T any](v T) *T { return &v }

func build(t *testing.T, cfg *model.Config, live *model.Live, opts plan.Options) *plan.Plan {
	t.Helper()
	p, err := plan.Build(cfg, live, opts)
	if err != nil {
		t.Fatalf("plan.Build: %v", err)
	}
	return p
}

// scenarios are the representative plans every renderer is checked against.
func scenarios(t *testing.T) map[string]*plan.Plan {
	pay := model.Grants{Member: []string{"payments"}}
	return map[string]*plan.Plan{
		"nochanges": build(t,
			config(user("bob", model.RoleDeveloper, pay)),
			realm(member("bob", "payments"), member("ann"), liveUser("service-account-roster", nil)),
			plan.Options{}),

		"creates": build(t,
			func() *model.Config {
				carol := user("carol", model.RoleDeveloper, model.Grants{Member: []string{"codemie"}, Admin: []string{"payments"}})
				carol.Email, carol.FirstName, carol.LastName = ptr("carol@corp.com"), ptr("Carol"), ptr("Ng")
				carol.RequiredActions = &[]string{"UPDATE_PASSWORD"}
				carol.InitialPassword = &model.InitialPassword{SecretRef: model.SecretRef{Env: "CAROL_PASSWORD"}, Temporary: true}
				carol.FederatedIdentities = []model.FederatedIdentity{{Provider: "entra-id", UserID: "7f0c", UserName: "carol@corp.com"}}
				guest := user("guest", model.RoleDeveloper, pay)
				guest.External, guest.Access.External = true, true
				c := config(carol, guest)
				c.Settings.UnmanagedAttributePolicy = model.PolicyAdminEdit
				c.Roles[1].Description = "CodeMie user"
				return c
			}(),
			func() *model.Live { l := realm(); l.Policy, l.Roles = model.PolicyDisabled, l.Roles[:1]; return l }(),
			plan.Options{}),

		"updates": build(t,
			func() *model.Config {
				bob := user("bob", model.RoleDeveloper, model.Grants{Admin: []string{"payments"}})
				bob.Email = ptr("robert@corp.com")
				dana := user("dana", model.RoleDeveloper, model.Grants{Member: []string{"codemie", "payments"}})
				eve := user("eve", model.RoleDeveloper, pay)
				eve.External, eve.Access.External = true, true
				c := config(bob, dana, eve)
				c.Settings.UserManagement = true
				return c
			}(),
			realm(
				member("bob", "payments"),
				liveUser("dana", map[string][]string{"applications": {"Payments", " codemie"}}, model.RoleDeveloper),
				member("eve", "payments"),
				liveUser("ldap-fred", nil),
			),
			plan.Options{}),

		"rename": build(t,
			func() *model.Config {
				robert := user("robert", model.RoleDeveloper, model.Grants{Member: []string{"payments", "codemie"}})
				robert.Email = ptr("bob@corp.com")
				c := config(robert)
				c.Settings.Prune = model.PruneDelete
				return c
			}(),
			func() *model.Live {
				bob := member("bob", "payments")
				bob.Attributes[model.DefaultOwnerAttribute] = []string{"true"}
				l := realm(bob)
				l.Login.EditUsernameAllowed = true
				return l
			}(),
			plan.Options{}),

		"role": build(t,
			config(user("bob", model.RoleAdmin, model.Grants{}), user("cid", model.RoleDeveloper, pay)),
			realm(
				member("bob", "payments"),
				liveUser("cid", map[string][]string{"applications": {"payments"}}, model.RoleAdmin),
			),
			plan.Options{}),

		"mappers": build(t,
			func() *model.Config {
				c := config()
				c.TokenMappers = &model.TokenMappers{ClientScope: "profile",
					Attributes: []string{model.AttrApplications, model.AttrApplicationsAdmin, model.AttrUserType}}
				return c
			}(),
			func() *model.Live {
				l := realm()
				l.ClientScope = &model.LiveClientScope{ID: "scope-id", Name: "profile", Mappers: []model.LiveTokenMapper{
					{ID: "m1", Name: "applications", ProtocolMapper: model.ProtocolMapperUserAttribute, Attribute: "applications",
						Claim: "applications", JSONType: "String", Multivalued: true, IDToken: true, AccessToken: true,
						Config: map[string]string{"user.attribute": "applications", "claim.name": "applications", "jsonType.label": "String",
							"multivalued": "true", "id.token.claim": "true", "access.token.claim": "true"}},
					{ID: "m2", Name: "user type", ProtocolMapper: model.ProtocolMapperUserAttribute, Attribute: "user_type",
						Claim: "user_type", JSONType: "String", IDToken: true, AccessToken: true, UserInfo: true,
						Config: map[string]string{"user.attribute": "user_type", "claim.name": "user_type", "jsonType.label": "String",
							"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}},
				}}
				return l
			}(),
			plan.Options{}),

		"identity": build(t,
			func() *model.Config {
				c := config()
				c.IdentityProviders = []model.IdentityProvider{
					{Alias: "entra-id", DisplayName: "Microsoft Entra ID", Tenant: "00000000-0000-0000-0000-000000000000",
						Endpoints: model.EntraEndpoints("00000000-0000-0000-0000-000000000000"), ClientID: "app-id",
						ClientSecret: &model.SecretRef{Env: "ENTRA_CLIENT_SECRET"}, Scopes: []string{"openid", "profile", "email"}, SyncMode: "IMPORT",
						Mappers: []model.IdentityProviderMapper{
							{Name: "developer", Type: "hardcoded-role", Role: "developer", SyncMode: "IMPORT"},
							{Name: "department", Type: "attribute-importer", Claim: "department", Attribute: "department"},
						}},
					{Alias: "partner", ClientID: "partner-app", ClientSecret: &model.SecretRef{File: "partner.secret"},
						Endpoints: model.Endpoints{AuthorizationURL: "https://idp.partner.example/auth", TokenURL: "https://idp.partner.example/token"},
						Mappers:   []model.IdentityProviderMapper{{Name: "developer", Type: "hardcoded-role", Role: "developer"}}},
				}
				return c
			}(),
			func() *model.Live {
				l := realm()
				l.IdentityProviders = []model.LiveIdentityProvider{{
					Alias: "partner", DisplayName: "Partner", Enabled: true, ProviderID: "oidc", ClientID: "old-app",
					Endpoints: model.Endpoints{AuthorizationURL: "https://idp.partner.example/auth", TokenURL: "https://idp.partner.example/token"},
					Config: map[string]string{"clientId": "old-app", "clientSecret": "**********",
						"authorizationUrl": "https://idp.partner.example/auth", "tokenUrl": "https://idp.partner.example/token"},
					Mappers: []model.LiveIdentityProviderMapper{{ID: "m1", Name: "developer", Type: model.IdPMapperHardcodedRole,
						Role: "admin", Config: map[string]string{"role": "admin"}}},
				}}
				return l
			}(),
			plan.Options{RotateSecrets: true}),

		"access": accessPlan(t),

		"prune": build(t,
			config(user("bob", model.RoleDeveloper, model.Grants{Member: []string{"payments", "search"}})),
			realm(
				member("bob", "payments"),
				liveUser("olga", map[string][]string{model.DefaultOwnerAttribute: {"true"}}, model.RoleAdmin),
				member("pat"), member("quinn"), member("ray"), member("sam"), member("tom"),
				member("uma"), member("vic"), member("will"), member("xena"),
			),
			plan.Options{Prune: model.PruneDelete}),
	}
}

// accessPlan changes every kind of CodeMie access the pull-request comment summarises.
func accessPlan(t *testing.T) *plan.Plan {
	pay := model.Grants{Member: []string{"payments"}}
	adminPay := model.Grants{Admin: []string{"payments"}}
	gus := user("gus", model.RoleDeveloper, pay)
	gus.External, gus.Access.External = true, true
	ivy := user("ivy", model.RoleDeveloper, pay)
	ivy.Enabled, ivy.Access.Disabled = ptr(false), true
	lisa := user("lisa", model.RoleDeveloper, pay)
	lisa.Enabled = ptr(true)
	hal := liveUser("hal", model.NewAccess(model.RoleDeveloper, true, pay).Attributes(), model.RoleDeveloper)
	lisaLive := member("lisa", "payments")
	lisaLive.Enabled = false
	return build(t,
		config(
			user("ann", model.RoleDeveloper, model.Grants{Member: []string{"codemie"}}),
			user("bob", model.RoleAdmin, model.Grants{}),
			user("cid", model.RoleDeveloper, pay),
			user("dan", model.RoleDeveloper, adminPay),
			user("eve", model.RoleDeveloper, pay),
			user("fay", model.RoleDeveloper, pay),
			gus,
			user("hal", model.RoleDeveloper, pay),
			ivy,
			lisa,
		),
		realm(
			member("bob", "payments"),
			liveUser("cid", nil, model.RoleAdmin),
			member("dan", "payments"),
			liveUser("eve", model.NewAccess(model.RoleDeveloper, false, adminPay).Attributes(), model.RoleDeveloper),
			member("fay", "payments", "search"),
			member("gus", "payments"),
			hal,
			member("ivy", "payments"),
			liveUser("kim", map[string][]string{model.DefaultOwnerAttribute: {"true"}, "applications": {"search"}}, model.RoleDeveloper),
			lisaLive,
		),
		plan.Options{Prune: model.PruneDisable})
}

// huge is a plan with thousands of creations: larger than a pull-request comment may be.
func huge(t *testing.T) *plan.Plan {
	var users []model.User
	for i := range 3000 {
		u := user(fmt.Sprintf("user%04d", i), model.RoleDeveloper, model.Grants{Member: []string{"codemie", "payments"}})
		u.Email = ptr(fmt.Sprintf("user%04d@corp.com", i))
		users = append(users, u)
	}
	return build(t, config(users...), realm(), plan.Options{})
}

func render(t *testing.T, format string, p *plan.Plan) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "txt":
		err = Text(&b, p, TextOptions{})
	case "color.txt":
		err = Text(&b, p, TextOptions{Color: true})
	case "md":
		err = Markdown(&b, p, MarkdownOptions{})
	case "json":
		err = JSON(&b, p, nil)
	}
	if err != nil {
		t.Fatalf("render %s: %v", format, err)
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/plan/render -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for name, p := range scenarios(t) {
		for _, format := range []string{"txt", "md", "json"} {
			t.Run(name+"."+format, func(t *testing.T) { golden(t, name+"."+format, render(t, format, p)) })
		}
	}
	t.Run("updates.color.txt", func(t *testing.T) {
		golden(t, "updates.color.txt", render(t, "color.txt", scenarios(t)["updates"]))
	})
}

func TestMarkdownTruncatesHugePlans(t *testing.T) {
	t.Parallel()
	p := huge(t)
	got := render(t, "md", p)
	if len(got) > MarkdownLimit {
		t.Errorf("markdown is %d bytes, over the limit of %d", len(got), MarkdownLimit)
	}
	for _, want := range []string{
		"**Plan: 3000 to add, 0 to change, 0 to remove.**",
		"more changes not shown; run roster plan locally or download the plan artifact",
		"- **Can sign in** (3000): `user0000`, `user0001`,",
		", `user0019` and 2980 more\n",
		"- **Become members** (6000): `codemie`: `user0000`,",
		"```\n\n</details>\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	shown := len(headers(got, mdHeader))
	if m := regexp.MustCompile(`… (\d+) more changes not shown`).FindStringSubmatch(got); m == nil || m[1] != fmt.Sprint(3000-shown) {
		t.Errorf("notice %v does not count the %d changes not shown", m, 3000-shown)
	}
	golden(t, "huge.md", got)
}

func TestMarkdownKeepsTheLastChangeWhenItFits(t *testing.T) {
	t.Parallel()
	p := scenarios(t)["updates"]
	full := render(t, "md", p)
	block := full[strings.Index(full, "```diff\n")+len("```diff\n") : strings.LastIndex(full, "```\n")]
	if got := diffBlock(p.Changes, len(block)); got != block {
		t.Errorf("diffBlock with an exact budget cut the plan:\n%s", got)
	}
	if got := diffBlock(p.Changes, len(block)-1); !strings.Contains(got, "… 1 more change not shown") {
		t.Errorf("diffBlock one byte short did not cut the last change:\n%s", got)
	}
}

// Change headers in the human renderings: a mark, then an address as Address.Display shows it.
const (
	textHeader = `(?m)^  [+~>-] ((?:user|role|token_mapper|identity_provider|identity_provider_mapper) ".*"|realm\..*)$`
	mdHeader   = `(?m)^[+!-] ((?:user|role|token_mapper|identity_provider|identity_provider_mapper) ".*"|realm\..*)$`
)

// headers returns the addresses a human rendering names, in order, from its change headers.
func headers(out, pattern string) []string {
	var addrs []string
	for _, m := range regexp.MustCompile(pattern).FindAllStringSubmatch(out, -1) {
		addrs = append(addrs, m[1])
	}
	return addrs
}

// TestRenderersAgree checks that the three formats show the same changes and the same counts.
func TestRenderersAgree(t *testing.T) {
	t.Parallel()
	all := scenarios(t)
	all["huge"] = huge(t)
	for name, p := range all {
		t.Run(name, func(t *testing.T) {
			var jp JSONPlan
			if err := json.Unmarshal([]byte(render(t, "json", p)), &jp); err != nil {
				t.Fatal(err)
			}
			var fromJSON []string
			for _, c := range jp.Changes {
				fromJSON = append(fromJSON, plan.Address{Kind: plan.Kind(c.Kind), Name: c.Name}.Display())
				if c.Address != c.Kind+"."+c.Name {
					t.Errorf("address %q is not kind.name (%q, %q)", c.Address, c.Kind, c.Name)
				}
			}
			text := render(t, "txt", p)
			if diff := cmp.Diff(fromJSON, headers(text, textHeader)); diff != "" {
				t.Errorf("text and JSON name different changes (-json +text):\n%s", diff)
			}
			md := render(t, "md", p)
			mdAddrs := headers(md, mdHeader)
			if name == "huge" {
				fromJSON = fromJSON[:len(mdAddrs)] // cut, with a notice
			}
			if diff := cmp.Diff(fromJSON, mdAddrs); diff != "" {
				t.Errorf("markdown and JSON name different changes (-json +markdown):\n%s", diff)
			}

			s := p.Summary()
			if got := (JSONSummary{Add: s.Add, Change: s.Change, Remove: s.Remove, HasChanges: p.HasChanges()}); got != jp.Summary {
				t.Errorf("JSON summary %+v, plan %+v", jp.Summary, got)
			}
			line := noChanges
			if p.HasChanges() {
				line = s.String()
			}
			if !strings.HasSuffix(text, "\n"+line+"\n") {
				t.Errorf("text does not end with %q", line)
			}
			if !strings.Contains(md, "**"+line+"**") {
				t.Errorf("markdown lacks %q", line)
			}
			for _, n := range slices.Concat(p.Warnings, p.Notes) {
				if !strings.Contains(text, n) || !slices.Contains(slices.Concat(jp.Warnings, jp.Notes), n) {
					t.Errorf("note %q missing from text or JSON", n)
				}
			}
		})
	}
}

// TestSecretsShowTheirSource holds every format to naming where each secret comes from — the
// reference, so that a reviewer sees which exposed secret a change sends — and to showing
// neither a value nor Keycloak's mask.
func TestSecretsShowTheirSource(t *testing.T) {
	t.Parallel()
	for scenario, refs := range map[string][]string{
		"creates":  {"env CAROL_PASSWORD"},
		"identity": {"env ENTRA_CLIENT_SECRET", "file partner.secret"},
	} {
		p := scenarios(t)[scenario]
		for _, format := range []string{"txt", "md", "json"} {
			out := render(t, format, p)
			for _, ref := range refs {
				want := sensitive + " from " + ref
				if format == "json" {
					want = fmt.Sprintf("%q: %q", "source", ref)
				}
				if !strings.Contains(out, want) {
					t.Errorf("%s output of %s lacks %s", format, scenario, want)
				}
			}
			if strings.Contains(out, "**********") {
				t.Errorf("%s output of %s shows Keycloak's mask", format, scenario)
			}
		}
	}
}

func TestMarkdownEscapesNotes(t *testing.T) {
	t.Parallel()
	p := &plan.Plan{Realm: "r", Notes: []string{"user \"<b>*x*</b>\" | `y`"}}
	got := render(t, "md", p)
	if want := "- user \"&lt;b&gt;\\*x\\*&lt;/b&gt;\" \\| \\`y\\`\n"; !strings.Contains(got, want) {
		t.Errorf("markdown:\n%s\nwant a line %q", got, want)
	}
}

func TestMarkdownRemovalWarningAndLongNotes(t *testing.T) {
	t.Parallel()
	p := &plan.Plan{Realm: "r", Changes: []plan.Change{
		{Addr: plan.Address{Kind: plan.KindUser, Name: "a"}, Action: plan.Disable},
		{Addr: plan.Address{Kind: plan.KindUser, Name: "b"}, Action: plan.Disable},
		{Addr: plan.Address{Kind: plan.KindUser, Name: "c"}, Action: plan.Delete},
	}}
	for i := range maxMarkdownNotes + 3 {
		p.Notes = append(p.Notes, fmt.Sprintf("note %d", i))
	}
	got := render(t, "md", p)
	for _, want := range []string{
		"> :warning: **This plan removes users from CodeMie:** 1 user deleted, 2 users disabled.\n",
		fmt.Sprintf("- note %d\n- … 3 more notes; run roster plan locally to see them\n", maxMarkdownNotes-1),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("markdown:\n%s\nlacks %q", got, want)
		}
	}
}

// TestMarkdownSummaryStaysShort: long names make a line of the access summary stop early, so
// the summary cannot crowd the plan out of the comment.
func TestMarkdownSummaryStaysShort(t *testing.T) {
	t.Parallel()
	var users []model.User
	for i := range 40 {
		users = append(users, user(fmt.Sprintf("%03d%s", i, strings.Repeat("x", 250)), model.RoleDeveloper, model.Grants{}))
	}
	md := render(t, "md", build(t, config(users...), realm(), plan.Options{}))
	line := regexp.MustCompile("(?m)^- \\*\\*Can sign in\\*\\* \\(40\\): .*$").FindString(md)
	if line == "" || len(line) > 2500 || !strings.HasSuffix(line, " and 32 more") {
		t.Errorf("the summary line is %d bytes and ends %q", len(line), line[max(0, len(line)-20):])
	}
}
