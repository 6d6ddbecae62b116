package scenario

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/planfile"
)

// reviewedFile is the configuration of the saved-plan scenarios: one policy change and two users.
func reviewedFile(realm string) string {
	return fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ADMIN_EDIT}
users:
  - {username: alice, role: admin}
  - {username: bob, role: developer, projects: {member: [codemie]}}
`, realm)
}

// mallory is what a hostile edit adds to the configuration: a platform administrator.
const mallory = "  - {username: mallory, role: admin}\n"

// realmState is everything the saved-plan scenarios could change, read as the master
// administrator: users with attributes, realm roles (the scenarios start without admin and
// developer, so no user can hold them unnoticed) and the user profile.
func realmState(t *testing.T, realm *keycloaktest.Realm) string {
	t.Helper()
	var roles, profile any
	for path, v := range map[string]*any{"/roles": &roles, "/users/profile": &profile} {
		if err := realm.Admin(context.Background(), "GET", path, nil, v); err != nil {
			t.Fatal(err)
		}
	}
	b, err := json.Marshal(map[string]any{"users": listUsers(t, realm), "roles": roles, "profile": profile})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// editJSON rewrites the JSON file name in r's directory with edit.
func (r *roster) editJSON(name string, edit func(doc map[string]any)) {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(r.dir, name))
	if err != nil {
		r.t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		r.t.Fatal(err)
	}
	edit(doc)
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(name, string(out))
}

// forge rewrites the saved plan name in r's directory with edit and recomputes its digests, as
// anyone who can write the file can.
func (r *roster) forge(name string, edit func(f *planfile.File)) {
	r.t.Helper()
	path := filepath.Join(r.dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		r.t.Fatal(err)
	}
	var v struct {
		Version string `json:"roster_version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		r.t.Fatal(err)
	}
	f, err := planfile.Read(bytes.NewReader(b), v.Version)
	if err != nil {
		r.t.Fatal(err)
	}
	edit(f)
	if err := planfile.Write(path, f, nil); err != nil {
		r.t.Fatal(err)
	}
}

// TestSavedPlanTamperedIsRefused edits every part of a saved plan, crudely (the digests no
// longer match) and as a forger would (digests recomputed), and checks that apply refuses each
// with a message saying what is wrong, writing nothing; the plan as roster wrote it then applies.
func TestSavedPlanTamperedIsRefused(t *testing.T) {
	realm := keycloaktest.NewRealm(t)
	r := newRoster(t, realm, realm.Server.URL)
	reviewed := reviewedFile(realm.Name)
	r.write("roster.yaml", reviewed)
	if stdout, stderr, code := r.run("plan", "--out", "reviewed.plan", "roster.yaml"); code != 0 {
		t.Fatalf("plan: exit %d\n%s%s", code, stdout, stderr)
	}
	original, err := os.ReadFile(filepath.Join(r.dir, "reviewed.plan"))
	if err != nil {
		t.Fatal(err)
	}
	before := realmState(t, realm)
	damaged := `^roster: the saved plan was edited or damaged since roster plan wrote it: `

	tests := []struct {
		name   string
		local  string // roster.yaml while apply runs; the reviewed file when empty
		tamper func(r *roster)
		want   string // a regular expression stderr must match
	}{
		{"embedded configuration edited", "", func(r *roster) {
			r.editJSON("tampered.plan", func(doc map[string]any) {
				src := doc["sources"].([]any)[0].(map[string]any)
				content, _ := base64.StdEncoding.DecodeString(src["content"].(string))
				src["content"] = base64.StdEncoding.EncodeToString(append(content, mallory...))
			})
		}, damaged + `its digest does not match its content$`},
		{"embedded configuration edited, digests recomputed", "", func(r *roster) {
			r.forge("tampered.plan", func(f *planfile.File) { f.Sources[0].Content = append(f.Sources[0].Content, mallory...) })
		}, `^roster: the plan is stale: roster.yaml changed since the plan was made$`},
		{"embedded configuration edited, digests recomputed, file here edited too", reviewed + mallory, func(r *roster) {
			r.forge("tampered.plan", func(f *planfile.File) { f.Sources[0].Content = append(f.Sources[0].Content, mallory...) })
		}, `(?m)^roster: the saved plan is not what apply would do now: 1 difference from the reviewed plan\n  user "mallory": apply would now create it; the reviewed plan does not change it\nroster: hint: nothing was changed; `},
		{"reviewed plan edited", "", func(r *roster) {
			r.editJSON("tampered.plan", func(doc map[string]any) {
				doc["plan"].(map[string]any)["changes"] = []any{}
			})
		}, damaged + `its digest does not match its content$`},
		{"reviewed plan edited, digests recomputed", "", func(r *roster) {
			r.forge("tampered.plan", func(f *planfile.File) {
				f.Plan = bytes.ReplaceAll(f.Plan, []byte(`"bob"`), []byte(`"bobby"`))
			})
		}, damaged + `the plan it shows for review is not the plan of its change set$`},
		{"reviewed change set edited", "", func(r *roster) {
			r.editJSON("tampered.plan", func(doc map[string]any) {
				doc["changes"] = doc["changes"].([]any)[:1]
			})
		}, damaged + `its digest does not match its content$`},
		{"reviewed change set edited, digests recomputed", "", func(r *roster) {
			r.forge("tampered.plan", func(f *planfile.File) { f.Changes = f.Changes[:4] })
		}, `(?m)^  user "bob": apply would now create it; the reviewed plan does not change it$`},
		{"version changed", "", func(r *roster) {
			r.editJSON("tampered.plan", func(doc map[string]any) { doc["roster_version"] = "v9.9.9" })
		}, `^roster: the plan was made by roster v9.9.9, and this is roster .+$`},
		{"digest edited", "", func(r *roster) {
			r.editJSON("tampered.plan", func(doc map[string]any) {
				doc["digest"] = "sha256:" + strings.Repeat("0", 64)
			})
		}, damaged + `its digest does not match its content$`},
		{"change-set digest edited", "", func(r *roster) {
			r.editJSON("tampered.plan", func(doc map[string]any) { doc["changes_digest"] = "sha256:" + strings.Repeat("1", 64) })
		}, damaged + `its digest does not match its content$`},
		{"reviewed change edited, digests recomputed", "", func(r *roster) {
			r.forge("tampered.plan", func(f *planfile.File) { f.Changes[0].Values["Policy.After"] = json.RawMessage(`"ENABLED"`) })
		}, `(?m)^  realm.unmanagedAttributePolicy: Policy.After is "ENABLED" in the reviewed plan, "ADMIN_EDIT" now$`},
		{"plan applied from where its files are not", "-", func(r *roster) {
			r.write("tampered.plan", string(original))
		}, `^roster: the plan was made from roster.yaml, which is not here$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r.t = t
			r.write("tampered.plan", string(original))
			tt.tamper(r)
			switch tt.local {
			case "":
				r.write("roster.yaml", reviewed)
			case "-":
				if err := os.Remove(filepath.Join(r.dir, "roster.yaml")); err != nil {
					t.Fatal(err)
				}
			default:
				r.write("roster.yaml", tt.local)
			}
			stdout, stderr, code := r.run("apply", "tampered.plan")
			if code != 1 {
				t.Errorf("apply: exit %d, want 1\n%s%s", code, stdout, stderr)
			}
			if !regexp.MustCompile(`(?m)` + tt.want).MatchString(stderr) {
				t.Errorf("apply: stderr does not match %q:\n%s", tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("apply printed on stdout:\n%s", stdout)
			}
			if after := realmState(t, realm); after != before {
				t.Errorf("the realm changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	r.t = t
	r.write("roster.yaml", reviewed)
	stdout, stderr, code := r.run("apply", "reviewed.plan")
	if code != 0 || !strings.Contains(stdout, "Apply complete: 4 added, 1 changed, 0 removed, 0 failed.") {
		t.Fatalf("apply of the plan as written: exit %d\n%s%s", code, stdout, stderr)
	}
}

// viewRoles are the realm-management roles a plan needs, whatever the files declare: users and
// role members, realm roles and the user profile, token mappers, identity providers and links.
var viewRoles = []string{"view-users", "view-realm", "view-clients", "view-identity-providers"}

// leastPrivilegeFile declares everything plan reads: the policy, token mappers, an identity
// provider with a mapper, and users, one linked to the provider.
func leastPrivilegeFile(realm, extra string) string {
	return fmt.Sprintf(`version: 1
realm: %s
settings: {unmanagedAttributePolicy: ADMIN_EDIT}
tokenMappers: {}
identityProviders:
  - alias: entra
    tenant: 6a1c5f0e-2b7d-4c1e-9f3a-0d8e7b6c5a41
    clientId: codemie
    clientSecret: {env: ROSTER_SECRET_ENTRA}
    mappers:
      - {name: developer-role, type: hardcoded-role, role: developer}
users:
  - username: alice
    role: admin
    federatedIdentities: [{provider: entra, userId: 0b1c, userName: alice@example.com}]
  - {username: bob, role: developer, projects: {member: [codemie]}}
%s`, realm, extra)
}

// leastPrivilegeSetup makes a realm as apply leaves leastPrivilegeFile, and returns roster as
// the write account (the realm's own service account) and as a read-only account holding
// only viewRoles, both in the same directory.
func leastPrivilegeSetup(t *testing.T) (realm *keycloaktest.Realm, write, view *roster) {
	t.Helper()
	realm = keycloaktest.NewRealm(t)
	viewSecret, err := realm.AddServiceAccount(context.Background(), "roster-view", viewRoles...)
	if err != nil {
		t.Fatal(err)
	}
	// CodeMie's installation creates its client; doctor checks it and the tokens it issues.
	if _, err := realm.BareCodeMieClient(context.Background(), "codemie"); err != nil {
		t.Fatal(err)
	}
	write = newRoster(t, realm, realm.Server.URL)
	write.env = append(write.env, "ROSTER_SECRET_ENTRA=entra-secret")
	view = newRoster(t, realm, realm.Server.URL)
	view.dir = write.dir
	view.env = append(view.env, "KEYCLOAK_CLIENT_ID=roster-view", "KEYCLOAK_CLIENT_SECRET="+viewSecret)
	write.write("roster.yaml", leastPrivilegeFile(realm.Name, ""))
	if stdout, stderr, code := write.run("apply", "--auto-approve", "roster.yaml"); code != 0 {
		t.Fatalf("first apply: exit %d\n%s%s", code, stdout, stderr)
	}
	return realm, write, view
}

// TestPlanReadOnlyApplyWrite proves the least-privilege setup against the real server: a
// service account holding only viewRoles plans everything roster manages, and the plan it saves
// is applied by the write account; each of viewRoles is needed.
func TestPlanReadOnlyApplyWrite(t *testing.T) {
	realm, w, v := leastPrivilegeSetup(t)
	ctx := context.Background()
	w.write("roster.yaml", leastPrivilegeFile(realm.Name, "  - {username: carol, role: developer, projects: {member: [codemie], admin: [codemie]}}\n"))
	if stdout, stderr, code := v.run("plan", "--out", "reviewed.plan", "roster.yaml"); code != 0 || !strings.Contains(stdout, `+ user "carol"`) {
		t.Fatalf("plan with the read-only account: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, stderr, code := w.run("apply", "reviewed.plan"); code != 0 ||
		!strings.Contains(stdout, "Apply complete: 1 added, 0 changed, 0 removed, 0 failed.") {
		t.Fatalf("apply of the read-only account's plan with the write account: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, stderr, code := v.run("plan", "--detailed-exitcode", "roster.yaml"); code != 0 {
		t.Errorf("plan after apply: exit %d\n%s%s", code, stdout, stderr)
	}

	t.Run("each view role is needed", func(t *testing.T) {
		for i, missing := range viewRoles {
			others := append(append([]string{}, viewRoles[:i]...), viewRoles[i+1:]...)
			id := "roster-no-" + missing
			secret, err := realm.AddServiceAccount(ctx, id, others...)
			if err != nil {
				t.Fatal(err)
			}
			n := *w
			n.t = t
			n.env = append(append([]string{}, w.env...), "KEYCLOAK_CLIENT_ID="+id, "KEYCLOAK_CLIENT_SECRET="+secret)
			stdout, stderr, code := n.run("plan", "roster.yaml")
			if code != 1 || !strings.Contains(stderr, "403") {
				t.Errorf("plan without %s: exit %d, want 1 and Keycloak's 403\n%s%s", missing, code, stdout, stderr)
			}
		}
	})
}

// TestDoctorForPlanAndApply checks the read-only and the write account with doctor: --for plan
// passes for the read-only account and warns about the write account's manage roles, and
// --for apply fails for the read-only account, naming each role it lacks and how to grant it.
func TestDoctorForPlanAndApply(t *testing.T) {
	realm, w, v := leastPrivilegeSetup(t)
	stdout, stderr, code := v.run("doctor", "--for", "plan", "roster.yaml")
	if code != 0 || stderr != "" {
		t.Errorf("doctor --for plan, read-only account: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, role := range viewRoles {
		if !regexp.MustCompile(`(?m)^PASS  permission ` + role + ` +plan reads `).MatchString(stdout) {
			t.Errorf("doctor --for plan does not pass %s:\n%s", role, stdout)
		}
	}
	manage := []string{"manage-users", "manage-realm", "manage-clients", "manage-identity-providers"}
	for _, role := range manage {
		if !regexp.MustCompile(`(?m)^PASS  permission ` + role + ` +not held: a plan job needs no manage role$`).MatchString(stdout) {
			t.Errorf("doctor --for plan does not report %s as not held:\n%s", role, stdout)
		}
	}

	stdout, _, code = v.run("doctor", "--for", "apply", "roster.yaml")
	if code != 1 {
		t.Errorf("doctor --for apply, read-only account: exit %d, want 1\n%s", code, stdout)
	}
	for _, role := range manage {
		want := `(?m)^FAIL  permission ` + role + ` +missing: Keycloak refused .* \(403\); apply .*\n +fix: in the console, realm ` +
			realm.Name + `: Clients → roster-view → Service account roles → Assign role → Client roles → realm-management ` + role + `$`
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("doctor --for apply does not name the missing %s:\n%s", role, stdout)
		}
	}

	stdout, _, code = w.run("doctor", "--for", "plan", "roster.yaml")
	if code != 0 || !regexp.MustCompile(`(?m)^WARN  permission manage-users +held, and a plan job needs no manage role`).MatchString(stdout) {
		t.Errorf("doctor --for plan, write account: exit %d, want 0 and a warning about manage-users\n%s", code, stdout)
	}
}
