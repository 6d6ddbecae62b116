package secret

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// EnvPrefix starts the name of every environment variable a configuration may reference. The
// operator exposes a secret by giving it such a name in roster's environment.
const EnvPrefix = "ROSTER_SECRET_"

// DirEnv names the environment variable that names the secrets directory when --secrets-dir is
// not given.
const DirEnv = "ROSTER_SECRETS_DIR"

// MaxFileSize is the largest secret file roster reads; a client secret or password is far
// smaller.
const MaxFileSize = 64 << 10

// Error is a secret reference roster refuses or cannot resolve. Its text names the reference,
// never a value.
type Error struct {
	// Problem says what is wrong, starting lowercase.
	Problem string
	// Hint says how to fix it; may be empty.
	Hint string
	// Missing is set when the reference is allowed but names nothing (a variable not set, a
	// file not there): a pull-request plan runs without the secrets, so only commands that read
	// them report it.
	Missing bool
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Problem
	}
	return e.Problem + "; " + e.Hint
}

const (
	exposeEnv  = "expose the secret to roster as " + EnvPrefix + "<NAME> and write {env: " + EnvPrefix + "<NAME>}"
	exposeFile = "name a file inside the secrets directory (--secrets-dir or " + DirEnv + "), e.g. {file: entra.secret}"
)

// Check says why a configuration may not reference ref, whatever the operator exposed; nil
// when it may. It reads neither the environment nor the disk.
func Check(ref model.SecretRef) error {
	switch {
	case ref.Env != "" && ref.File != "", ref.Env == "" && ref.File == "":
		return &Error{Problem: "a secret reference names exactly one of env or file", Hint: "write {env: ROSTER_SECRET_<NAME>} or {file: PATH}"}
	case ref.Env != "":
		return checkEnv(ref.Env)
	}
	return checkFile(ref.File)
}

func checkEnv(name string) error {
	switch {
	case strings.HasPrefix(name, "KEYCLOAK_"):
		return &Error{Problem: fmt.Sprintf("environment variable %s is roster's own Keycloak setting: a configuration can never reference it", name),
			Hint: exposeEnv}
	case !strings.HasPrefix(name, EnvPrefix) || len(name) == len(EnvPrefix):
		return &Error{Problem: fmt.Sprintf("environment variable %s is not exposed to configurations: they may reference only variables named %s*", name, EnvPrefix),
			Hint: exposeEnv}
	case strings.ContainsFunc(name, func(r rune) bool { return !isWordRune(r) }):
		return &Error{Problem: fmt.Sprintf("invalid environment variable name %q", name), Hint: "use letters, digits and _"}
	}
	return nil
}

func checkFile(name string) error {
	switch {
	case strings.ContainsFunc(name, func(r rune) bool { return !isWordRune(r) && !strings.ContainsRune("./-", r) }):
		return &Error{Problem: fmt.Sprintf("secret file name %q may use only letters, digits, '.', '_', '-' and '/'", name), Hint: exposeFile}
	case strings.HasPrefix(name, "/"):
		return &Error{Problem: fmt.Sprintf("secret file %s is an absolute path", name), Hint: exposeFile}
	case !filepath.IsLocal(name):
		return &Error{Problem: fmt.Sprintf("secret file %s leaves the secrets directory", name), Hint: exposeFile}
	}
	return nil
}

func isWordRune(r rune) bool {
	return r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// Source is what the operator exposed to the configuration.
type Source struct {
	// Dir is the secrets directory; empty exposes no file.
	Dir string
	// LookupEnv looks environment variables up; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Credentials are roster's own credentials (the Keycloak client secret or password): a
	// reference resolving to one of them is refused whatever its name.
	Credentials []string
}

// FromEnv is the source the operator set up in roster's environment: the secrets directory dir,
// else the one DirEnv names, and the credentials roster logs in with.
func FromEnv(dir string) Source {
	if dir == "" {
		dir = os.Getenv(DirEnv)
	}
	return Source{Dir: dir, Credentials: []string{os.Getenv("KEYCLOAK_CLIENT_SECRET"), os.Getenv("KEYCLOAK_PASSWORD")}}
}

// Locate checks that a file reference stays inside the secrets directory once symbolic links
// are followed, without reading it. An environment reference, a source without a directory and
// a file that does not exist pass (Resolve reports them).
func (s Source) Locate(ref model.SecretRef) error {
	if err := Check(ref); err != nil {
		return err
	}
	if ref.File == "" || s.Dir == "" {
		return nil
	}
	_, err := s.locate(ref.File)
	var e *Error
	if errors.As(err, &e) && e.Missing {
		return nil
	}
	return err
}

// locate checks that the file name, its links followed, lies inside the secrets directory, and
// returns the directory's real path.
func (s Source) locate(name string) (string, error) {
	dir, err := filepath.EvalSymlinks(s.Dir)
	if err != nil {
		return "", &Error{Problem: fmt.Sprintf("cannot use secrets directory %s: %v", s.Dir, Reason(err)),
			Hint: "point --secrets-dir or " + DirEnv + " at the directory holding the secrets", Missing: errors.Is(err, fs.ErrNotExist)}
	}
	p, err := filepath.EvalSymlinks(filepath.Join(dir, name))
	if err != nil {
		return "", &Error{Problem: fmt.Sprintf("cannot read secret file %s: %v", name, Reason(err)), Missing: errors.Is(err, fs.ErrNotExist)}
	}
	if rel, err := filepath.Rel(dir, p); err != nil || !filepath.IsLocal(rel) {
		return "", &Error{Problem: fmt.Sprintf("secret file %s resolves outside the secrets directory", name),
			Hint: "keep the secret itself in the secrets directory, not a link out of it"}
	}
	return dir, nil
}

// Resolve reads the secret ref names, after checking that the configuration may reach it. Its
// errors name the reference, never the value.
func (s Source) Resolve(ref model.SecretRef) (model.Secret, error) {
	if err := Check(ref); err != nil {
		return "", err
	}
	var v string
	if ref.Env != "" {
		lookup := s.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		val, set := lookup(ref.Env)
		switch {
		case !set:
			return "", &Error{Problem: fmt.Sprintf("environment variable %s is not set", ref.Env), Missing: true}
		case val == "":
			return "", &Error{Problem: fmt.Sprintf("environment variable %s is empty", ref.Env), Missing: true}
		}
		v = val
	} else {
		val, err := s.readFile(ref.File)
		if err != nil {
			return "", err
		}
		v = val
	}
	for _, c := range s.Credentials {
		if c != "" && v == c {
			return "", &Error{Problem: fmt.Sprintf("secret %s holds roster's own Keycloak credential, which a configuration can never send", ref),
				Hint: "expose the identity provider's or the user's own secret"}
		}
	}
	return model.Secret(v), nil
}

// readFile reads a secret file of the secrets directory, without its final line break. It opens
// the file through an os.Root of the directory, so that a link swapped in after locate cannot
// lead out of it either.
func (s Source) readFile(name string) (string, error) {
	if s.Dir == "" {
		return "", &Error{Problem: fmt.Sprintf("secret file %s: no secrets directory is set", name), Missing: true,
			Hint: "set " + DirEnv + " or pass --secrets-dir DIR to expose the directory holding it"}
	}
	dir, err := s.locate(name)
	if err != nil {
		return "", err
	}
	cannot := func(err error) error {
		return &Error{Problem: fmt.Sprintf("cannot read secret file %s: %v", name, Reason(err))}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", cannot(err)
	}
	defer root.Close()
	// Stat first: opening a FIFO would block.
	switch info, err := root.Stat(name); {
	case err != nil:
		return "", cannot(err)
	case !info.Mode().IsRegular():
		return "", &Error{Problem: fmt.Sprintf("secret file %s is not a regular file", name)}
	}
	f, err := root.Open(name)
	if err != nil {
		return "", cannot(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	switch {
	case err != nil:
		return "", cannot(err)
	case len(b) > MaxFileSize:
		return "", &Error{Problem: fmt.Sprintf("secret file %s is larger than %d KiB", name, MaxFileSize>>10)}
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", &Error{Problem: fmt.Sprintf("secret file %s is empty", name)}
	}
	return v, nil
}

// Reason drops the operation and path from an *fs.PathError, for a message that names the file
// itself: "cannot read secret file x: permission denied".
func Reason(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
