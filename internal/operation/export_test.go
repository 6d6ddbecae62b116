package operation

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

// exportDeps are realmDeps that record the realm and CodeMie reading dialled in asked.
func exportDeps(r Realm, asked *dialed) (Deps, *diag.List) {
	deps, diags := realmDeps(r)
	dial := deps.Dial
	deps.Dial = func(ctx context.Context, realm string, cm model.CodeMie) (Realm, error) {
		if asked != nil {
			asked.realm, asked.codemie = realm, cm
		}
		return dial(ctx, realm, cm)
	}
	return deps, diags
}

// TestExportSingleFile exports to stdout: the users holding admin or developer, at the clock's
// time, read as the CodeMie options say; the others are counted, not declared.
func TestExportSingleFile(t *testing.T) {
	t.Parallel()
	var asked dialed
	deps, diags := exportDeps(fakeRealm(), &asked)
	cm := model.CodeMie{AdminRole: "admin", DeveloperRole: "developer", ClientID: "codemie-ui"}
	res, err := Export(context.Background(), ExportOptions{Realm: "codemie-test", CodeMie: cm, Server: "https://kc.example.com"}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if asked.realm != "codemie-test" || asked.codemie != cm {
		t.Errorf("dialed %+v, want realm codemie-test read as %+v", asked, cm)
	}
	if res.Users != 2 || res.Realm != "codemie-test" || res.Written != nil {
		t.Errorf("result %+v, want 2 users on stdout", res)
	}
	out := string(res.Stdout)
	for _, want := range []string{"username: alice", "username: bob", "payments", "2026-01-02T03:04:05Z", "https://kc.example.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("the export lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "username: carol") || strings.Contains(out, "username: service-account-ci") {
		t.Errorf("the export declares a user without a role or a service account:\n%s", out)
	}
	if len(*diags) != 0 {
		t.Errorf("diagnostics for a clean realm: %s", diagText(diags))
	}
}

// TestExportNarrowsAndAdopts exports only the admins, with the ownership marker.
func TestExportNarrowsAndAdopts(t *testing.T) {
	t.Parallel()
	deps, _ := exportDeps(fakeRealm(), nil)
	opts := ExportOptions{Realm: "codemie-test", Roles: []string{"admin"}, Projects: []string{" Payments "}, Adopt: true, OwnerAttribute: "managed-by"}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(opts.Projects, []string{"payments"}) {
		t.Errorf("projects %q, want them lowercase and trimmed", opts.Projects)
	}
	opts.Projects = nil
	res, err := Export(context.Background(), opts, deps)
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Stdout)
	if res.Users != 1 || !strings.Contains(out, "username: alice") || strings.Contains(out, "username: bob") || !strings.Contains(out, "managed-by") {
		t.Errorf("--role admin --adopt exported %d users:\n%s", res.Users, out)
	}
}

// TestExportSplitWritesOwnerOnlyFilesWithSecretsMasked writes a directory: every file for its
// owner only, with the run's secrets masked; a second export into it is refused.
func TestExportSplitWritesOwnerOnlyFilesWithSecretsMasked(t *testing.T) {
	t.Parallel()
	realm := fakeRealm()
	realm.AddUser(user("dave", developer, []string{"note", "token-s3cret-value"}))
	deps, _ := exportDeps(realm, nil)
	secrets := redact.New()
	secrets.Add("token-s3cret-value")
	deps.Secrets = secrets
	dir := filepath.Join(t.TempDir(), "access")
	res, err := Export(context.Background(), ExportOptions{Realm: "codemie-test", Split: dir}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stdout != nil || len(res.Written) < 2 {
		t.Fatalf("result %+v, want files written", res)
	}
	var all strings.Builder
	for _, f := range res.Written {
		info, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, info.Mode().Perm())
		}
		b, _ := os.ReadFile(f)
		all.Write(b)
	}
	if strings.Contains(all.String(), "token-s3cret-value") || !strings.Contains(all.String(), "username: dave") {
		t.Errorf("the split export holds a secret of the run, or lacks dave:\n%s", all.String())
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Errorf("%s has mode %v, want 0700", dir, info.Mode().Perm())
	}

	_, err = Export(context.Background(), ExportOptions{Realm: "codemie-test", Split: dir}, deps)
	wantErr(t, err, "already holds configuration")
}

// TestExportOut writes one file.
func TestExportOut(t *testing.T) {
	t.Parallel()
	deps, _ := exportDeps(fakeRealm(), nil)
	out := filepath.Join(t.TempDir(), "roster.yaml")
	res, err := Export(context.Background(), ExportOptions{Realm: "codemie-test", Out: out}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Written, []string{out}) || res.Stdout != nil {
		t.Errorf("result %+v, want %s written", res, out)
	}
	_, err = Export(context.Background(), ExportOptions{Realm: "codemie-test", Out: filepath.Join(out, "x")}, deps)
	wantErr(t, err, "failed to write the export")
}

// TestExportWarnsWhatItCannotDeclare: a user CodeMie reads differently from what the format can
// declare is a warning at the user's line; a value the format refuses stops the export before
// anything is written.
func TestExportWarnsWhatItCannotDeclare(t *testing.T) {
	t.Parallel()
	realm := fakeRealm()
	realm.AddUser(user("erin", developer, []string{model.AttrApplications, "Payments"}))
	deps, diags := exportDeps(realm, nil)
	res, err := Export(context.Background(), ExportOptions{Realm: "codemie-test"}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if text := diagText(diags); !strings.Contains(text, `(stdout):`) || !strings.Contains(text, `warning: user "erin": CodeMie reads`) {
		t.Errorf("diagnostics:\n%s\nwant a warning for erin at her place in the export", text)
	}
	if !strings.Contains(string(res.Stdout), "username: erin") {
		t.Errorf("erin is not exported:\n%s", res.Stdout)
	}

	realm.AddUser(user("frank", developer, []string{model.AttrApplications, "bad project!"}))
	out := filepath.Join(t.TempDir(), "roster.yaml")
	deps, diags = exportDeps(realm, nil)
	_, err = Export(context.Background(), ExportOptions{Realm: "codemie-test", Out: out}, deps)
	wantErr(t, err, "the exported configuration would not validate; nothing was written")
	if text := diagText(diags); !strings.Contains(text, `roster.yaml:30:25: project name "bad project!"`) {
		t.Errorf("diagnostics:\n%s\nwant the loader's errors", text)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s was written: %v", out, err)
	}
}

// TestExportReadFailures: a failed dial or read is the export's error, the read's naming the realm.
func TestExportReadFailures(t *testing.T) {
	t.Parallel()
	deps, _ := exportDeps(nil, nil)
	deps.Dial = failDialer()
	_, err := Export(context.Background(), ExportOptions{Realm: "codemie-test"}, deps)
	var ce *keycloak.ConnError
	if !errors.As(err, &ce) {
		t.Errorf("err = %v, want the connection error", err)
	}

	realm := fakeRealm()
	realm.Fail("ReadLive", errors.New("boom"))
	deps, _ = exportDeps(realm, nil)
	_, err = Export(context.Background(), ExportOptions{Realm: "codemie-test"}, deps)
	wantErr(t, err, `failed to read realm "codemie-test": boom`)

	realm = fakeRealm()
	realm.Fail("ReadRealm", errors.New("no such realm"))
	deps, _ = exportDeps(realm, nil)
	_, err = Export(context.Background(), ExportOptions{Realm: "codemie-test"}, deps)
	wantErr(t, err, "no such realm")
}

func TestExportOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts ExportOptions
		want string
	}{
		{ExportOptions{}, "no realm given"},
		{ExportOptions{Realm: "r", Out: "a", Split: "b"}, "--out and --split cannot be combined"},
		{ExportOptions{Realm: "r", Roles: []string{"owner"}}, `unknown role "owner"`},
	} {
		err := tt.opts.Validate()
		wantErr(t, err, tt.want)
		var h interface{ Hints() []string }
		if !errors.As(err, &h) || len(h.Hints()) == 0 {
			t.Errorf("%v has no hint", err)
		}
	}
}
