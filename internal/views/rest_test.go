package views

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/verify"
)

func TestInitText(t *testing.T) {
	t.Parallel()
	view := []keycloak.Permission{keycloak.ViewClients, keycloak.ViewUsers}
	res := operation.InitResult{
		Options: operation.InitOptions{Realm: "codemie-prod", PlanClient: "roster-plan", ApplyClient: "roster-apply", SecretsDir: "/s", CI: operation.GitHub},
		Server:  "https://kc.example.com",
		Done:    true,
		Accounts: []operation.Account{
			{ClientID: "roster-plan", Job: doctor.JobPlan, Roles: view, Outcome: operation.AccountCreated,
				SecretFile: "/s/roster-plan.secret", SecretWritten: true, Checked: true, Checks: 3, Passed: true},
			{ClientID: "roster-apply", Job: doctor.JobApply, Roles: view, Outcome: operation.AccountCompleted, Granted: view[1:],
				SecretFile: "/s/roster-apply.secret", Checked: true, Checks: 1, Passed: true},
		},
	}
	var b bytes.Buffer
	if err := Init(&b, res); err != nil {
		t.Fatal(err)
	}
	want := `client roster-plan: created (service account holding view-clients, view-users)
  secret: /s/roster-plan.secret, written (readable by its owner only)
  doctor --for plan: 3 checks passed
client roster-apply: completed: granted view-users (an earlier init stopped halfway)
  secret: /s/roster-apply.secret, unchanged
  doctor --for apply: 1 check passed

Created 2 service accounts in realm "codemie-prod".

# Store the accounts as the workflows in examples/ci/github expect (run in the repository):
gh secret set KEYCLOAK_URL --body 'https://kc.example.com'
gh secret set KEYCLOAK_READ_CLIENT_ID --body roster-plan
gh secret set KEYCLOAK_READ_CLIENT_SECRET < '/s/roster-plan.secret'
gh secret set KEYCLOAK_CLIENT_ID --env roster-apply --body roster-apply
gh secret set KEYCLOAK_CLIENT_SECRET --env roster-apply < '/s/roster-apply.secret'
# then delete the secret files: rm '/s/roster-plan.secret' '/s/roster-apply.secret'
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}

	res.Options.CI = operation.GitLab
	b.Reset()
	_ = Init(&b, res)
	if !strings.Contains(b.String(), "\nglab variable set KEYCLOAK_CLIENT_SECRET --masked --protected < '/s/roster-apply.secret'\n") {
		t.Errorf("gitlab:\n%s", b.String())
	}

	// Not as roster needs them: no CI commands. Stopped by an error: no summary.
	res.Accounts[0] = operation.Account{ClientID: "roster-plan", Job: doctor.JobPlan, Roles: view, Outcome: operation.AccountDiffers,
		Differences: []string{"it is disabled", "line\nbreak"}}
	res.Accounts[1].Passed, res.Accounts[1].Failed = false, []doctor.Check{{Name: "login", Status: doctor.Fail, Detail: "invalid_client"}}
	b.Reset()
	if err := Init(&b, res); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		`client roster-plan: exists with other settings, left as it is: it is disabled; line\nbreak`,
		"  fix: make it a confidential client with only its service account enabled, holding exactly view-clients, view-users; or delete it and run roster init again; or choose another name with --plan-client",
		"  doctor --for apply: 1 of 1 check did not pass:\n    FAIL login: invalid_client\n",
		"\n2 accounts not as roster needs them: see above.\n",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("lacks %q:\n%s", line, b.String())
		}
	}
	if strings.Contains(b.String(), "gh secret") {
		t.Errorf("CI commands for accounts that failed:\n%s", b.String())
	}
	res.Done, res.Accounts = false, res.Accounts[:1]
	b.Reset()
	_ = Init(&b, res)
	if strings.Contains(b.String(), "see above") || !strings.HasPrefix(b.String(), "client roster-plan:") {
		t.Errorf("an init stopped by an error:\n%s", b.String())
	}
}

func TestDoctorJSON(t *testing.T) {
	t.Parallel()
	res := operation.DoctorResult{Server: "https://kc", Realm: "r", For: doctor.JobVerify, Report: doctor.Report{Checks: []doctor.Check{
		{Name: "server", Status: doctor.Pass}, {Name: "login", Status: doctor.Warn}, {Name: "realm", Status: doctor.Fail},
	}}}
	var b bytes.Buffer
	if err := Doctor(&b, res, output.JSON); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		For           string `json:"for"`
		Summary       struct {
			Pass, Warn, Fail int
			OK               bool
		} `json:"summary"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.FormatVersion != "1.2" || doc.For != "verify" || doc.Summary.Pass != 1 || doc.Summary.Warn != 1 || doc.Summary.Fail != 1 || doc.Summary.OK {
		t.Errorf("document %+v", doc)
	}
	b.Reset()
	if err := Doctor(&b, res, output.Text); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(b.String(), "\n3 checks: 1 passed, 1 warning, 1 failed, 0 skipped.\n") {
		t.Errorf("text:\n%s", b.String())
	}
}

func TestExportAndFmt(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	_ = Export(&out, &errOut, operation.ExportResult{Realm: "r", Users: 1, Stdout: []byte("version: 1\n")})
	if out.String() != "version: 1\n" || errOut.Len() != 0 {
		t.Errorf("to stdout: %q, %q", out.String(), errOut.String())
	}
	out.Reset()
	_ = Export(&out, &errOut, operation.ExportResult{Realm: "r", Users: 1, Written: []string{"a.yaml"}})
	if out.Len() != 0 || errOut.String() != "Exported 1 user from realm \"r\".\n" {
		t.Errorf("to a file: %q, %q", out.String(), errOut.String())
	}

	out.Reset()
	_ = Fmt(&out, operation.FmtResult{Files: []operation.FmtFile{{Name: "a.yaml"}, {Name: "b.yaml", Diff: []byte("--- b.yaml\n+x")}}})
	if out.String() != "a.yaml\n--- b.yaml\n+x\n" {
		t.Errorf("fmt: %q", out.String())
	}
}

func TestAccessAndVerify(t *testing.T) {
	t.Parallel()
	rows := []access.Row{{Username: "alice", Access: model.Access{Role: model.RoleAdmin}}}
	for _, tt := range []struct {
		res  operation.AccessResult
		f    output.Format
		want string
	}{
		{operation.AccessResult{Answer: operation.AccessTable, Rows: rows}, output.Text, "alice"},
		{operation.AccessResult{Answer: operation.AccessUser, Rows: rows}, output.Text, "alice"},
		{operation.AccessResult{Answer: operation.AccessProject, Project: access.Project{Name: "payments"}}, output.Text, "payments"},
		{operation.AccessResult{Answer: operation.AccessDiff}, output.Text, ""},
		{operation.AccessResult{Answer: operation.AccessTable, Rows: rows, Realm: "r"}, output.JSON, `"format_version"`},
		{operation.AccessResult{Answer: operation.AccessDiff, Realm: "r"}, output.JSON, `"format_version"`},
		{operation.AccessResult{Answer: operation.AccessProject, Realm: "r"}, output.JSON, `"format_version"`},
		{operation.AccessResult{Answer: operation.AccessPage, Page: access.Page{Realm: "r", Rows: rows}}, output.HTML, "<!DOCTYPE html>"},
	} {
		var b bytes.Buffer
		if err := Access(&b, tt.res, tt.f); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("answer %d as %v lacks %q:\n%s", tt.res.Answer, tt.f, tt.want, b.String())
		}
	}
	if err := Access(&bytes.Buffer{}, operation.AccessResult{Answer: 9}, output.Text); err == nil {
		t.Error("an unknown answer rendered")
	}

	r := verify.Report{Realm: "r", Client: "codemie"}
	var text, js bytes.Buffer
	if err := Verify(&text, r, output.Text); err != nil {
		t.Fatal(err)
	}
	if err := Verify(&js, r, output.JSON); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(js.Bytes()) || text.Len() == 0 || json.Valid(text.Bytes()) {
		t.Errorf("verify: text %q, json %q", text.String(), js.String())
	}
}
