package operation

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/internal/planfile"
)

// TestCheckSources runs in a directory holding access/a.yaml and access/b.yaml, for a plan made
// from access/.
func TestCheckSources(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("access", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join("access", name), []byte("version: 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sources, err := planfile.ReadSources([]string{"access/a.yaml", "access/b.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	saved := &planfile.File{Sources: sources, Dirs: []string{"access"}}
	leftOut := &planfile.File{Sources: sources[:1]} // a forged plan that drops access/b.yaml
	for _, tc := range []struct {
		name  string
		saved *planfile.File
		paths []string
		want  string // the error, "" for none
	}{
		{"no paths", saved, nil, ""},
		{"the directory", saved, []string{"access"}, ""},
		{"the directory, spelled otherwise", saved, []string{"./access/"}, ""},
		{"its files", saved, []string{"access/b.yaml", "./access/a.yaml"}, ""},
		{"one file of two", saved, []string{"access/a.yaml"}, "the plan was made from access/b.yaml too, which access/a.yaml does not name"},
		{"another file", saved, []string{"access", "other.yaml"}, "the plan was not made from other.yaml"},
		{"a plan that leaves a file out, without paths", leftOut, nil, ""},
		{"a plan that leaves a file out", leftOut, []string{"access"}, "the plan was not made from access/b.yaml"},
		{"a source outside the checkout", &planfile.File{Sources: []planfile.Source{{Path: "/etc/hostname"}}}, nil,
			"the plan names /etc/hostname, which is outside the directory it is applied in"},
		{"a source through ..", &planfile.File{Sources: []planfile.Source{{Path: "../other/a.yaml"}}}, nil,
			"the plan names ../other/a.yaml, which is outside the directory it is applied in"},
		{"a directory outside the checkout", &planfile.File{Dirs: []string{"/etc"}}, nil,
			"the plan names /etc, which is outside the directory it is applied in"},
	} {
		err := checkSources(tc.saved, tc.paths)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
