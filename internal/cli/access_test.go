package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/output"
)

// TestAccessOutIsOwnerOnlyAndMasked writes the access page over a file readable by everyone: the
// result is 0600, as every file roster writes, and holds no secret of the run, even where the
// page quotes one (here a username equal to the administrator's password).
func TestAccessOutIsOwnerOnlyAndMasked(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "roster.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nrealm: r\nusers:\n  - {username: heidi-pa55, role: developer}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "access.html")
	if err := os.WriteFile(out, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ios, _, _, _ := iostreams.Test()
	ios.Secrets.Add("heidi-pa55")
	opts := &accessOptions{format: output.NewFlag(output.HTML)}
	opts.Paths, opts.Out = []string{cfg}, out
	if err := opts.format.Set("html"); err != nil {
		t.Fatal(err)
	}
	if err := runAccess(context.Background(), ios, opts); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", out, info.Mode().Perm())
	}
	b, _ := os.ReadFile(out)
	if strings.Contains(string(b), "heidi-pa55") {
		t.Errorf("%s holds a secret of the run", out)
	}
}
