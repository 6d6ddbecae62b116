package scenario

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/peakrss"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// rosterBin builds roster once for the package's tests (ROSTER_BIN names a binary built already).
func rosterBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if bin := os.Getenv("ROSTER_BIN"); bin != "" {
			binPath, buildErr = filepath.Abs(bin)
			return
		}
		dir, err := os.MkdirTemp("", "roster-scenario-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "roster")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/rosterhq/roster/cmd/roster").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	peakrss.Main()
	code := m.Run()
	if binPath != "" && os.Getenv("ROSTER_BIN") == "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// roster runs the binary for one realm: as its service account, against server (the real one
// or a proxy in front of it), in dir.
type roster struct {
	t      *testing.T
	bin    string
	dir    string
	server string
	env    []string
	// lastMaxRSS is the peak memory, in bytes, of the process run last ran.
	lastMaxRSS int64
}

func newRoster(t *testing.T, realm *keycloaktest.Realm, server string) *roster {
	return &roster{t: t, bin: rosterBin(t), dir: t.TempDir(), server: server, env: []string{
		"KEYCLOAK_URL=" + server, "KEYCLOAK_CLIENT_ID=" + realm.ClientID, "KEYCLOAK_CLIENT_SECRET=" + realm.ClientSecret,
		"NO_COLOR=1",
	}}
}

// command returns the command for args, with the environment of r and then extra.
func (r *roster) command(args []string, extra ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, args...)
	cmd.Dir = r.dir
	cmd.Env = append(append(baseEnv(), r.env...), extra...)
	return cmd
}

// run runs roster to its end and returns its output and exit code.
func (r *roster) run(args ...string) (stdout, stderr string, code int) {
	r.t.Helper()
	cmd := r.command(args)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	rss, err := peakrss.Run(cmd)
	r.lastMaxRSS = rss << 10
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		r.t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// write writes a file in r's directory and returns its name.
func (r *roster) write(name, content string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, name), []byte(content), 0o600); err != nil {
		r.t.Fatal(err)
	}
	return name
}

// baseEnv is the test's environment without anything that would point roster elsewhere or log
// it in differently.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "KEYCLOAK_") || strings.HasPrefix(kv, "ROSTER_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// liveUser is a user as the Admin API lists it.
type liveUser struct {
	ID         string              `json:"id"`
	Username   string              `json:"username"`
	Email      string              `json:"email"`
	Enabled    bool                `json:"enabled"`
	Attributes map[string][]string `json:"attributes"`
}

// listUsers returns every user of the realm, read as the master administrator.
func listUsers(t *testing.T, realm *keycloaktest.Realm) []liveUser {
	t.Helper()
	var all []liveUser
	for first := 0; ; first += 500 {
		var page []liveUser
		if err := realm.Admin(context.Background(), "GET", fmt.Sprintf("/users?briefRepresentation=false&first=%d&max=500", first), nil, &page); err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 500 {
			return all
		}
	}
}

// duplicates returns the usernames and emails that more than one user has.
func duplicates(users []liveUser) []string {
	seen := map[string]int{}
	for _, u := range users {
		seen["username "+u.Username]++
		if u.Email != "" {
			seen["email "+strings.ToLower(u.Email)]++
		}
	}
	var out []string
	for k, n := range seen {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s (%d times)", k, n))
		}
	}
	sort.Strings(out)
	return out
}

// realmRoleMembers returns the usernames holding the realm role directly.
func realmRoleMembers(t *testing.T, realm *keycloaktest.Realm, role string) map[string]bool {
	t.Helper()
	var members []liveUser
	if err := realm.Admin(context.Background(), "GET", "/roles/"+role+"/users?briefRepresentation=true&first=0&max=10000", nil, &members); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range members {
		out[m.Username] = true
	}
	return out
}
