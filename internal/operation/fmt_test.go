package operation

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/layout"
	"github.com/rosterhq/roster/internal/schema"
)

// The configurations under examples/ are in the canonical layout; formatting them keeps what
// they declare, and formatting the result again changes nothing.
func TestFmtExamples(t *testing.T) {
	t.Parallel()
	for _, paths := range [][]string{{"../../examples/codemie-prod.yaml"}, {"../../examples/split"}} {
		t.Run(filepath.Base(paths[0]), func(t *testing.T) {
			cfg, diags := schema.Load(paths, schema.Options{})
			if diags.HasErrors() {
				t.Fatalf("the example does not load:\n%v", diags)
			}
			var once, twice []schema.File
			for _, f := range cfg.Files {
				data := readFile(t, f)
				out := format(t, f, data)
				once = append(once, schema.File{Name: f, Data: out})
				twice = append(twice, schema.File{Name: f, Data: format(t, f, out)})
			}
			for i := range once {
				if !bytes.Equal(once[i].Data, readFile(t, once[i].Name)) {
					t.Errorf("%s is not in the canonical layout: run roster fmt on it", once[i].Name)
				}
				if !bytes.Equal(once[i].Data, twice[i].Data) {
					t.Errorf("%s: a second fmt changes the first one's output:\n%s\n---\n%s", once[i].Name, once[i].Data, twice[i].Data)
				}
			}
			after, diags := schema.LoadFiles(once, schema.Options{})
			if diags.HasErrors() {
				t.Fatalf("the formatted example does not load:\n%v", diags)
			}
			if !sameMeaning(cfg, after) {
				t.Errorf("the formatted example declares something else")
			}
		})
	}
}

// Every YAML file under examples/, roster's or not (CI workflows, Kubernetes manifests), formats
// to a fixed point with its comments.
func TestFmtAnyExampleYAMLIsIdempotent(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir("../../examples", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		out := format(t, path, readFile(t, path))
		if again := format(t, path, out); !bytes.Equal(out, again) {
			t.Errorf("%s: a second fmt changes the first one's output:\n%s\n---\n%s", path, out, again)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func format(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	out, err := layout.Format(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const unformatted = "version: 1\nrealm:   codemie-test   # the realm\nusers:\n  - username: alice\n    role:   admin\n"

// TestFmtCheckChangesNothing lists the file not in the layout, with its diff, and fails.
func TestFmtCheckChangesNothing(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, unformatted)
	res, err := Fmt(FmtOptions{Paths: []string{path}, Check: true, Diff: true}, io.Discard)
	wantErr(t, err, "1 file is not in the canonical layout")
	if len(res.Files) != 1 || res.Files[0].Name != path || !bytes.Contains(res.Files[0].Diff, []byte("+realm: codemie-test # the realm")) {
		t.Errorf("result %+v", res)
	}
	if got := readFile(t, path); string(got) != unformatted {
		t.Errorf("--check changed the file:\n%s", got)
	}
}

// TestFmtRewritesKeepingMode rewrites the file with its mode; a second run changes nothing.
func TestFmtRewritesKeepingMode(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, unformatted)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(filepath.Dir(path), "more.yaml")
	// A file already in the layout stays as it is.
	if err := os.WriteFile(other, format(t, other, []byte("version: 1\nusers:\n  - {username: bob, role: developer, projects: {member: [search]}}\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Fmt(FmtOptions{Paths: []string{filepath.Dir(path)}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Name != path || res.Files[0].Diff != nil {
		t.Errorf("result %+v, want %s changed", res, path)
	}
	if got := readFile(t, path); !strings.Contains(string(got), "realm: codemie-test # the realm\n") {
		t.Errorf("formatted:\n%s", got)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", info.Mode().Perm())
	}
	res, err = Fmt(FmtOptions{Paths: []string{path, other}, Check: true}, io.Discard)
	if err != nil || len(res.Files) != 0 {
		t.Errorf("a second run: %+v, %v", res, err)
	}
}

// TestFmtRefusesWhatDoesNotLoad formats nothing when the configuration has errors, and says why.
func TestFmtRefusesWhatDoesNotLoad(t *testing.T) {
	t.Parallel()
	body := "version: 1\nrealm: r\nusers:\n  - {username: alice, role: owner}\n"
	path := writeConfig(t, body)
	var diags bytes.Buffer
	_, err := Fmt(FmtOptions{Paths: []string{path}}, &diags)
	wantErr(t, err, "nothing was formatted: the configuration does not load")
	if !strings.Contains(diags.String(), path+":4:") {
		t.Errorf("diagnostics:\n%s", diags.String())
	}
	if string(readFile(t, path)) != body {
		t.Error("the file changed")
	}
	wantErr(t, (&FmtOptions{}).Validate(), "no configuration given")
}

// TestFmtWriteFailure: a file fmt cannot replace is an error.
func TestFmtWriteFailure(t *testing.T) {
	t.Parallel()
	if os.Getuid() == 0 {
		t.Skip("root writes anywhere")
	}
	path := writeConfig(t, unformatted)
	dir := filepath.Dir(path)
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	_, err := Fmt(FmtOptions{Paths: []string{path}}, io.Discard)
	wantErr(t, err, "cannot write")
}

// TestFmtKeepsSymbolicLinks formats a file named through a symbolic link: the link stays one and
// its target gets the layout.
func TestFmtKeepsSymbolicLinks(t *testing.T) {
	t.Parallel()
	target := writeConfig(t, unformatted)
	link := filepath.Join(t.TempDir(), "roster.yaml")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := Fmt(FmtOptions{Paths: []string{link}}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symbolic link: %v", link, err)
	}
	if got := readFile(t, target); !strings.Contains(string(got), "realm: codemie-test # the realm\n") {
		t.Errorf("the target was not formatted:\n%s", got)
	}
}
