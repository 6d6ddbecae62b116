package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/secret"
)

var update = flag.Bool("update", false, "rewrite the want sections of testdata/invalid from current output")

// corpusCase is one txtar archive of testdata/invalid: input files, a want section with the
// exact diagnostics, and options in the comment (lines "check-secrets", "env NAME=value" and
// "secrets-dir DIR", a directory of the case's files named DIR/...).
type corpusCase struct {
	path  string
	ar    *txtar.Archive
	files []File
	opts  Options
	want  string
}

func readCorpus(t testing.TB, dir string) []corpusCase {
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.txtar"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no cases in testdata/%s: %v", dir, err)
	}
	var cases []corpusCase
	for _, p := range paths {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c := corpusCase{path: p, ar: ar}
		env := map[string]string{}
		for _, line := range strings.Split(string(ar.Comment), "\n") {
			switch {
			case line == "check-secrets":
				c.opts.CheckSecrets = true
			case strings.HasPrefix(line, "env "):
				k, v, _ := strings.Cut(strings.TrimPrefix(line, "env "), "=")
				env[k] = v
			case strings.HasPrefix(line, "secrets-dir "):
				c.opts.Secrets.Dir = filepath.Join(t.TempDir(), strings.TrimPrefix(line, "secrets-dir "))
				if err := os.MkdirAll(c.opts.Secrets.Dir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
		}
		c.opts.Secrets.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		for _, f := range ar.Files {
			switch {
			case f.Name == "want":
				c.want = string(f.Data)
			case c.opts.Secrets.Dir != "" && strings.HasPrefix(f.Name, filepath.Base(c.opts.Secrets.Dir)+"/"):
				name := filepath.Join(filepath.Dir(c.opts.Secrets.Dir), f.Name)
				if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(name, f.Data, 0o600); err != nil {
					t.Fatal(err)
				}
			default:
				c.files = append(c.files, File{Name: f.Name, Data: f.Data})
			}
		}
		cases = append(cases, c)
	}
	return cases
}

func render(files []File, opts Options) string {
	_, diags := LoadFiles(files, opts)
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestInvalidCorpus loads every case of testdata/invalid and compares the diagnostics with its
// want section, exactly. Each case must report at least one error.
func TestInvalidCorpus(t *testing.T) {
	t.Parallel()
	cases := readCorpus(t, "invalid")
	if len(cases) < 40 {
		t.Errorf("the corpus has %d cases, want at least 40", len(cases))
	}
	for _, c := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(c.path), ".txtar"), func(t *testing.T) {
			cfg, diags := LoadFiles(c.files, c.opts)
			got := render(c.files, c.opts)
			if *update {
				for i := range c.ar.Files {
					if c.ar.Files[i].Name == "want" {
						c.ar.Files[i].Data = []byte(got)
					}
				}
				if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != c.want {
				t.Errorf("diagnostics differ\n--- got\n%s--- want\n%s", got, c.want)
			}
			if !diags.HasErrors() || cfg != nil {
				t.Errorf("want errors and a nil config, got %d diagnostics and config %v", len(diags), cfg != nil)
			}
			for _, d := range diags {
				if d.Pos.File == "" {
					t.Errorf("diagnostic without a file: %s", d)
				}
			}
		})
	}
}

// TestLoadPaths covers reading from disk: directories, unreadable paths, relative names.
func TestLoadPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("b.yaml", "version: 1\nusers:\n  - {username: bob, role: admin}\n")
	write("a.yml", "version: 1\nrealm: r\n")
	write("notes.txt", "not read")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("sub/c.yaml", "not: [read")
	cfg, diags := Load([]string{dir, filepath.Join(dir, "a.yml")}, Options{})
	if len(diags) != 0 || cfg == nil {
		t.Fatalf("Load: %v", diags)
	}
	if want := []string{filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yaml")}; strings.Join(cfg.Files, " ") != strings.Join(want, " ") {
		t.Errorf("Files = %q, want %q", cfg.Files, want)
	}

	missing := filepath.Join(dir, "missing.yaml")
	big := write("big.yaml", "version: 1\n"+strings.Repeat("#", MaxFileSize))
	empty := filepath.Join(dir, "sub")
	if err := os.Remove(filepath.Join(empty, "c.yaml")); err != nil {
		t.Fatal(err)
	}
	cfg, diags = Load([]string{missing, big, empty}, Options{})
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	want := []string{
		big + ": file is larger than 32 MiB; split the configuration into several files",
		missing + ": cannot read: no such file or directory",
		empty + ": directory holds no .yaml or .yml file",
	}
	if cfg != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestDirectoryLinksStayInside: a link in a configuration directory that leads outside it is
// refused without reading it (an error about its content would quote it into a pull-request
// comment); one that leads to a file of the directory is read once.
func TestDirectoryLinksStayInside(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "access")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "token"), []byte("ghp_secretvalue123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("version: 1\nrealm: r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"z.yaml": filepath.Join(root, "token"), "b.yaml": "a.yaml"} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	_, diags := Load([]string{dir}, Options{})
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	want := filepath.Join(dir, "z.yaml") + ": is a link leading outside " + dir +
		": roster reads only the files inside the directories it is given; copy the file into the directory, or name it on the command line"
	if len(got) != 1 || got[0] != want {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

// TestPublishedSchemaIsIdentical keeps schema/roster.schema.json equal to the embedded schema.
func TestPublishedSchemaIsIdentical(t *testing.T) {
	t.Parallel()
	published, err := os.ReadFile("../../schema/roster.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(published, JSON()) {
		t.Error("schema/roster.schema.json differs from internal/schema/roster.schema.json: copy the embedded one over it")
	}
}

// TestSchemaDocumentsEveryProperty makes sure editors can show documentation for every field.
func TestSchemaDocumentsEveryProperty(t *testing.T) {
	t.Parallel()
	compiledSchema()
	var walk func(path string, v any)
	walk = func(path string, v any) {
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for name, p := range props {
				pm, _ := p.(map[string]any)
				if _, ok := pm["description"]; !ok {
					if ref, ok := pm["$ref"].(string); !ok || schemaAt(schemaURL + ref + "/x")["description"] == nil {
						t.Errorf("%s.%s has no description", path, name)
					}
				}
				walk(path+"."+name, p)
			}
		}
		if defs, ok := m["$defs"].(map[string]any); ok {
			for name, d := range defs {
				walk("$defs."+name, d)
			}
		}
	}
	walk("", schemaDoc)
}

// TestSchemaEnvPatternIsSecretRule keeps the JSON Schema's pattern for {env: NAME}, which
// editors check, the same rule as package secret's, which roster enforces.
func TestSchemaEnvPatternIsSecretRule(t *testing.T) {
	t.Parallel()
	var root struct {
		Defs map[string]struct {
			Properties map[string]struct {
				Pattern string `json:"pattern"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(schemaJSON, &root); err != nil {
		t.Fatal(err)
	}
	for _, def := range []string{"secretRef", "passwordRef"} {
		re := regexp.MustCompile(root.Defs[def].Properties["env"].Pattern)
		for _, name := range []string{"ROSTER_SECRET_A", "ROSTER_SECRET_entra_1", "ROSTER_SECRET_", "ROSTER_SECRETS_DIR",
			"KEYCLOAK_CLIENT_SECRET", "HOME", "1PW", "ROSTER_SECRET_A-B", "XROSTER_SECRET_A", "ROSTER_SECRET_A\n"} {
			if allowed := secret.Check(model.SecretRef{Env: name}) == nil; re.MatchString(name) != allowed {
				t.Errorf("%s.env pattern matches %q: %v; package secret allows it: %v", def, name, !allowed, allowed)
			}
		}
	}
}
