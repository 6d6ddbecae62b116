package schema

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/rosterhq/roster/internal/model"
)

// TestValidCorpus loads every case of testdata/valid and compares the normalised model with
// its want.json section (model.Config as JSON); -update rewrites want.json.
func TestValidCorpus(t *testing.T) {
	t.Parallel()
	for _, c := range readCorpus(t, "valid") {
		t.Run(strings.TrimSuffix(filepath.Base(c.path), ".txtar"), func(t *testing.T) {
			var files []File
			var wantJSON []byte
			for _, f := range c.files {
				if f.Name == "want.json" {
					wantJSON = f.Data
					continue
				}
				files = append(files, f)
			}
			cfg, diags := LoadFiles(files, c.opts)
			if diags.HasErrors() {
				t.Fatalf("unexpected errors:\n%s", render(files, c.opts))
			}
			if *update {
				got, err := json.MarshalIndent(cfg, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				for i := range c.ar.Files {
					if c.ar.Files[i].Name == "want.json" {
						c.ar.Files[i].Data = append(got, '\n')
					}
				}
				if err := os.WriteFile(c.path, txtar.Format(c.ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			var want model.Config
			if err := json.Unmarshal(wantJSON, &want); err != nil {
				t.Fatalf("want.json: %v", err)
			}
			if diff := cmp.Diff(&want, cfg); diff != "" {
				t.Errorf("model (-want +got):\n%s", diff)
			}
			if got, want := render(files, c.opts), c.want; got != want {
				t.Errorf("diagnostics differ\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

// TestExamples validates the desired-state examples: none may have errors, and the only warning
// is the one codemie-prod.yaml shows on purpose (a user with no access yet). Diagnostics are
// compared without their position. examples/ci and examples/k8s hold CI and Kubernetes files,
// which testdata/script/ci_*.txtar run.
func TestExamples(t *testing.T) {
	t.Parallel()
	noAccess := `warning: user "heidi" is a developer with no projects: they can sign in but open no project`
	for p, want := range map[string][]string{
		"../../examples":                   {noAccess},
		"../../examples/codemie-prod.yaml": {noAccess},
		"../../examples/split":             nil,
	} {
		t.Run(p, func(t *testing.T) {
			cfg, diags := Load([]string{p}, Options{})
			var got []string
			for _, d := range diags {
				got = append(got, d.Severity.String()+": "+d.Message)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if cfg == nil || len(cfg.Users) == 0 {
				t.Errorf("no users loaded")
			}
		})
	}
}
