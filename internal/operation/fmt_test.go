package operation

import (
	"bytes"
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
