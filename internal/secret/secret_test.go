package secret

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rosterhq/roster/internal/model"
)

// TestCheck holds the rule of what a configuration may name, whatever the operator exposed.
func TestCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		ref  model.SecretRef
		want string // "" when allowed
	}{
		{model.SecretRef{Env: "ROSTER_SECRET_ENTRA"}, ""},
		{model.SecretRef{Env: "ROSTER_SECRET_a_1"}, ""},
		{model.SecretRef{File: "entra.secret"}, ""},
		{model.SecretRef{File: "idp/entra-client.secret"}, ""},
		{model.SecretRef{File: "a/../b"}, ""},
		{model.SecretRef{Env: "KEYCLOAK_CLIENT_SECRET"}, "environment variable KEYCLOAK_CLIENT_SECRET is roster's own Keycloak setting"},
		{model.SecretRef{Env: "KEYCLOAK_PASSWORD"}, "environment variable KEYCLOAK_PASSWORD is roster's own Keycloak setting"},
		{model.SecretRef{Env: "GITHUB_TOKEN"}, "environment variable GITHUB_TOKEN is not exposed to configurations"},
		{model.SecretRef{Env: "ROSTER_SECRETS_DIR"}, "environment variable ROSTER_SECRETS_DIR is not exposed to configurations"},
		{model.SecretRef{Env: "ROSTER_SECRET_"}, "environment variable ROSTER_SECRET_ is not exposed to configurations"},
		{model.SecretRef{Env: "ROSTER_SECRET_A-B"}, `invalid environment variable name "ROSTER_SECRET_A-B"`},
		{model.SecretRef{File: "../x"}, "secret file ../x leaves the secrets directory"},
		{model.SecretRef{File: "a/../../x"}, "secret file a/../../x leaves the secrets directory"},
		{model.SecretRef{File: ".."}, "secret file .. leaves the secrets directory"},
		{model.SecretRef{File: "/proc/self/environ"}, "secret file /proc/self/environ is an absolute path"},
		{model.SecretRef{File: "a\nb"}, "secret file name \"a\\nb\" may use only"},
		{model.SecretRef{File: "C:x"}, `secret file name "C:x" may use only`},
		{model.SecretRef{}, "a secret reference names exactly one of env or file"},
		{model.SecretRef{Env: "ROSTER_SECRET_A", File: "a"}, "a secret reference names exactly one of env or file"},
	} {
		err := Check(tt.ref)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Check(%+v) = %v, want nil", tt.ref, err)
		case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("Check(%+v) = %v, want %q…", tt.ref, err, tt.want)
		}
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestResolve reads secrets from the environment and the secrets directory, and refuses what
// leads out of it: links, a FIFO, an oversized file, roster's own credential under another name.
func TestResolve(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "secrets")
	writeFile(t, filepath.Join(dir, "entra.secret"), "entra-value\n")
	writeFile(t, filepath.Join(dir, "sub", "inner.secret"), "inner-value")
	writeFile(t, filepath.Join(dir, "kc.secret"), "kc-credential")
	writeFile(t, filepath.Join(dir, "big.secret"), strings.Repeat("x", MaxFileSize+1))
	writeFile(t, filepath.Join(dir, "empty.secret"), "\n")
	writeFile(t, filepath.Join(root, "outside.txt"), "outside-value")
	for name, target := range map[string]string{
		"escape":        "../outside.txt",
		"absolute":      filepath.Join(root, "outside.txt"),
		"proc":          "/proc/self/environ",
		"inner-link":    "sub/inner.secret",
		"sub/up":        "../entra.secret",
		"subdir-escape": "..",
	} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ROSTER_SECRET_A": "a-value", "ROSTER_SECRET_EMPTY": "", "KEYCLOAK_CLIENT_SECRET": "kc-credential",
		"ROSTER_SECRET_KC": "kc-credential", "HOME": "/root"}
	src := Source{Dir: dir, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Credentials: []string{"kc-credential", ""}}

	for _, tt := range []struct {
		ref         model.SecretRef
		want, error string
		missing     bool
	}{
		{ref: model.SecretRef{Env: "ROSTER_SECRET_A"}, want: "a-value"},
		{ref: model.SecretRef{File: "entra.secret"}, want: "entra-value"},
		{ref: model.SecretRef{File: "sub/inner.secret"}, want: "inner-value"},
		{ref: model.SecretRef{File: "inner-link"}, want: "inner-value"},
		{ref: model.SecretRef{File: "sub/up"}, want: "entra-value"},
		{ref: model.SecretRef{Env: "ROSTER_SECRET_B"}, error: "environment variable ROSTER_SECRET_B is not set", missing: true},
		{ref: model.SecretRef{Env: "ROSTER_SECRET_EMPTY"}, error: "environment variable ROSTER_SECRET_EMPTY is empty", missing: true},
		{ref: model.SecretRef{Env: "KEYCLOAK_CLIENT_SECRET"}, error: "environment variable KEYCLOAK_CLIENT_SECRET is roster's own Keycloak setting"},
		{ref: model.SecretRef{Env: "HOME"}, error: "environment variable HOME is not exposed to configurations"},
		{ref: model.SecretRef{Env: "ROSTER_SECRET_KC"}, error: "secret env ROSTER_SECRET_KC holds roster's own Keycloak credential"},
		{ref: model.SecretRef{File: "kc.secret"}, error: "secret file kc.secret holds roster's own Keycloak credential"},
		{ref: model.SecretRef{File: "missing.secret"}, error: "cannot read secret file missing.secret: no such file or directory", missing: true},
		{ref: model.SecretRef{File: "empty.secret"}, error: "secret file empty.secret is empty"},
		{ref: model.SecretRef{File: "big.secret"}, error: "secret file big.secret is larger than 64 KiB"},
		{ref: model.SecretRef{File: "fifo"}, error: "secret file fifo is not a regular file"},
		{ref: model.SecretRef{File: "sub"}, error: "secret file sub is not a regular file"},
		{ref: model.SecretRef{File: "escape"}, error: "secret file escape resolves outside the secrets directory"},
		{ref: model.SecretRef{File: "absolute"}, error: "secret file absolute resolves outside the secrets directory"},
		{ref: model.SecretRef{File: "proc"}, error: "secret file proc resolves outside the secrets directory"},
		{ref: model.SecretRef{File: "subdir-escape/outside.txt"}, error: "secret file subdir-escape/outside.txt resolves outside the secrets directory"},
		{ref: model.SecretRef{File: "../outside.txt"}, error: "secret file ../outside.txt leaves the secrets directory"},
		{ref: model.SecretRef{File: filepath.Join(root, "outside.txt")}, error: "is an absolute path"},
	} {
		got, err := src.Resolve(tt.ref)
		var e *Error
		switch {
		case tt.error == "" && (err != nil || string(got) != tt.want):
			t.Errorf("Resolve(%v) = %q, %v; want %q", tt.ref, got, err, tt.want)
		case tt.error != "" && (err == nil || !strings.Contains(err.Error(), tt.error)):
			t.Errorf("Resolve(%v) = %q, %v; want error %q", tt.ref, got, err, tt.error)
		case tt.error != "" && (!errors.As(err, &e) || e.Missing != tt.missing):
			t.Errorf("Resolve(%v): error %v is Missing=%v, want %v", tt.ref, err, e != nil && e.Missing, tt.missing)
		case tt.error != "" && strings.Contains(err.Error(), "value"):
			t.Errorf("Resolve(%v): error %q shows a value", tt.ref, err)
		}
		// Locate refuses what leads out of the directory, and nothing that merely is missing.
		lerr := src.Locate(tt.ref)
		leaves := strings.Contains(tt.error, "outside") || strings.Contains(tt.error, "leaves") ||
			strings.Contains(tt.error, "absolute") || strings.Contains(tt.error, "own Keycloak setting") || strings.Contains(tt.error, "not exposed")
		if leaves != (lerr != nil) {
			t.Errorf("Locate(%v) = %v, want an error: %v", tt.ref, lerr, leaves)
		}
	}

	if _, err := (Source{}).Resolve(model.SecretRef{File: "entra.secret"}); err == nil ||
		err.Error() != "secret file entra.secret: no secrets directory is set; set ROSTER_SECRETS_DIR or pass --secrets-dir DIR to expose the directory holding it" {
		t.Errorf("without a directory: %v", err)
	}
}
