package schema

import (
	"testing"
)

// FuzzLoad holds the loader to never panicking, whatever the bytes, and to reporting errors
// exactly when it returns no configuration. It is seeded with every file of the corpora.
//
//	go test -run='^$' -fuzz=FuzzLoad -fuzztime=20s ./internal/schema
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"invalid", "valid"} {
		for _, c := range readCorpus(f, dir) {
			for _, file := range c.files {
				f.Add(file.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, diags := LoadFiles([]File{{Name: "fuzz.yaml", Data: data}}, Options{})
		if (cfg == nil) != diags.HasErrors() {
			t.Fatalf("config returned: %v, errors: %v", cfg != nil, diags.HasErrors())
		}
		for _, d := range diags {
			if d.Message == "" || d.Pos.File != "fuzz.yaml" {
				t.Fatalf("malformed diagnostic %#v", d)
			}
		}
	})
}
