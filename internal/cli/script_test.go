package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/operation"
)

// TestMain registers roster as a command the scripts can exec, running in this test binary, at a
// fixed time: the one export writes in its header.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"roster": func() { os.Exit(mainAt(os.Args[1:], iostreams.System(), scriptClock{})) },
	})
}

// scriptClock says it is always 2026-01-02 03:04:05 UTC, and sleeps as the system's clock does.
type scriptClock struct{ operation.SystemClock }

func (scriptClock) Now() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

// TestScripts runs the CLI scripts in testdata/script. ROSTER_UPDATE_SCRIPTS=1 rewrites their
// expected output from what roster prints (review the diff before committing it).
//
// Scripts that need Keycloak start with
//
//	[!keycloak] skip 'needs Keycloak: run make test'
//	realm
//
// `realm` creates a fresh realm on the test server and exports REALM and roster's connection
// variables for its service account. The keycloak condition holds when a server is configured,
// and under ROSTER_ACCEPTANCE=require (where a missing server then fails `realm`).
//
// `account CLIENT VAR ROLE...` adds a service account holding only the given realm-management
// roles to the realm and puts its secret in VAR. `endless PATH` points roster at a proxy whose
// listing GET /admin/realms/$REALM/PATH never ends.
//
// REPO is the repository's root; `cijob` (ci_test.go) extracts a job of the CI and Kubernetes
// examples into shell scripts that the ci_* scripts run; `release DIR` writes a release of the
// roster under test there and `serve DIR VAR` serves it, for their install steps.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("ROSTER_UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			// The repository, for scripts that run its examples.
			root, err := filepath.Abs("../..")
			env.Setenv("REPO", root)
			return err
		},
		Condition: func(cond string) (bool, error) {
			if cond != "keycloak" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := keycloaktest.FromEnv()
			return err == nil || keycloaktest.Required(), nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"realm":     cmdRealm,
			"expand":    cmdExpand,
			"kc":        cmdKC,
			"kcpolicy":  cmdKCPolicy,
			"kcid":      cmdKCID,
			"kccodemie": cmdKCCodeMie,
			"exits":     cmdExits,
			"cijob":     cmdCIJob,
			"account":   cmdAccount,
			"endless":   cmdEndless,
			"mdoutline": cmdMDOutline,
			"release":   cmdRelease,
			"serve":     cmdServe,
		},
	})
}

// cmdRealm creates a fresh realm for the script and points roster at it through the environment
// (REALM, KEYCLOAK_URL, KEYCLOAK_CLIENT_ID, KEYCLOAK_CLIENT_SECRET), exports the master
// administrator's credentials as KEYCLOAK_ADMIN_USER and KEYCLOAK_ADMIN_PASSWORD, and the
// server's version as KEYCLOAK_SERVER_VERSION.
func cmdRealm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: realm")
	}
	s, err := keycloaktest.FromEnv()
	ts.Check(err)
	r, err := s.CreateRealm(context.Background())
	ts.Check(err)
	realmsMu.Lock()
	scriptRealms[ts] = r
	realmsMu.Unlock()
	ts.Defer(func() {
		realmsMu.Lock()
		delete(scriptRealms, ts)
		realmsMu.Unlock()
		ts.Check(r.Delete(context.Background()))
	})
	version, err := s.Version(context.Background())
	ts.Check(err)
	ts.Setenv("REALM", r.Name)
	ts.Setenv("KEYCLOAK_SERVER_VERSION", version)
	ts.Setenv("KEYCLOAK_URL", s.URL)
	ts.Setenv("KEYCLOAK_CLIENT_ID", r.ClientID)
	ts.Setenv("KEYCLOAK_CLIENT_SECRET", r.ClientSecret)
	// For scripts that log in as the administrator instead (KEYCLOAK_USER, KEYCLOAK_PASSWORD).
	ts.Setenv("KEYCLOAK_ADMIN_USER", s.AdminUser)
	ts.Setenv("KEYCLOAK_ADMIN_PASSWORD", s.AdminPassword)
}

// scriptRealms holds each running script's realm; scripts run in parallel.
var (
	realmsMu     sync.Mutex
	scriptRealms = map[*testscript.TestScript]*keycloaktest.Realm{}
)

func scriptRealm(ts *testscript.TestScript) *keycloaktest.Realm {
	realmsMu.Lock()
	r, ok := scriptRealms[ts]
	realmsMu.Unlock()
	if !ok {
		ts.Fatalf("no realm: start the script with `realm`")
	}
	return r
}

// cmdExits runs a program like exec and checks its exact exit code: exits CODE PROG [ARGS...].
// Its stdout and stderr are then checked as after exec.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// cmdExpand replaces $VAR and ${VAR} in files with the script's environment, in place.
func cmdExpand(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: expand FILE...")
	}
	for _, f := range args {
		b, err := os.ReadFile(ts.MkAbs(f))
		ts.Check(err)
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(os.Expand(string(b), ts.Getenv)), 0o666))
	}
}

// cmdKC sends an Admin API request for the script's realm as the master administrator:
// kc METHOD PATH [BODYFILE]. A GET's answer goes to stdout as indented JSON.
func cmdKC(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: kc METHOD PATH [BODYFILE]")
	}
	var body any
	if len(args) == 3 {
		b, err := os.ReadFile(ts.MkAbs(args[2]))
		ts.Check(err)
		ts.Check(json.Unmarshal([]byte(os.Expand(string(b), ts.Getenv)), &body))
	}
	var result any
	err := scriptRealm(ts).Admin(context.Background(), strings.ToUpper(args[0]), args[1], body, &result)
	if neg {
		if err == nil {
			ts.Fatalf("kc %s %s succeeded unexpectedly", args[0], args[1])
		}
		return
	}
	ts.Check(err)
	if result != nil {
		enc := json.NewEncoder(ts.Stdout())
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		ts.Check(enc.Encode(result))
	}
}

// cmdKCID finds the id of an object in an Admin API listing of the script's realm and sets a
// variable to it: kcid VAR PATH FIELD VALUE, e.g. kcid CID /clients clientId codemie.
func cmdKCID(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: kcid VAR PATH FIELD VALUE")
	}
	var list []map[string]any
	ts.Check(scriptRealm(ts).Admin(context.Background(), "GET", args[1], nil, &list))
	for _, o := range list {
		if o[args[2]] == args[3] {
			id, _ := o["id"].(string)
			ts.Setenv(args[0], id)
			return
		}
	}
	ts.Fatalf("kcid: GET %s lists no object with %s %q", args[1], args[2], args[3])
}

// cmdAccount adds a service-account client with exactly the given realm-management roles to the
// script's realm and sets the variable VAR to its secret: account CLIENT VAR ROLE...
func cmdAccount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: account CLIENT VAR ROLE...")
	}
	secret, err := scriptRealm(ts).AddServiceAccount(context.Background(), args[0], args[2:]...)
	ts.Check(err)
	ts.Setenv(args[1], secret)
}

// cmdEndless puts a proxy in front of the script's server that answers every page of the
// listing GET /admin/realms/$REALM/PATH with rows never sent before (a listing without end), and
// points roster at the proxy through KEYCLOAK_URL: endless PATH, e.g. endless /users.
func cmdEndless(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 || !strings.HasPrefix(args[0], "/") {
		ts.Fatalf("usage: endless PATH")
	}
	r := scriptRealm(ts)
	p, stop, err := keycloaktest.StartFaultProxy(r.Server)
	ts.Check(err)
	ts.Defer(stop)
	p.Answer(http.MethodGet, "/admin/realms/"+r.Name+args[0], math.MaxInt, keycloaktest.EndlessPages)
	ts.Setenv("KEYCLOAK_URL", p.URL)
}

// cmdKCPolicy sets the realm's unmanaged-attribute policy: kcpolicy ENABLED|ADMIN_EDIT|ADMIN_VIEW|DISABLED.
func cmdKCPolicy(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: kcpolicy POLICY")
	}
	p := args[0]
	if p == "DISABLED" {
		p = ""
	}
	ts.Check(scriptRealm(ts).SetPolicy(context.Background(), p))
}

// cmdKCCodeMie creates CodeMie's client codemie in the script's realm: kccodemie mappers adds
// single-valued attribute mappers for applications, applications_admin and user_type to client
// scope profile, as CodeMie's guide sets them up; kccodemie bare leaves them
// out, as CodeMie's installation does; kccodemie bare SCOPE... adds those scopes as default.
func cmdKCCodeMie(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 || args[0] != "mappers" && args[0] != "bare" || args[0] == "mappers" && len(args) != 1 {
		ts.Fatalf("usage: kccodemie mappers | kccodemie bare [SCOPE...]")
	}
	var err error
	if args[0] == "mappers" {
		_, err = scriptRealm(ts).CodeMieClient(context.Background(), "codemie", "profile", false)
	} else {
		_, err = scriptRealm(ts).BareCodeMieClient(context.Background(), "codemie", args[1:]...)
	}
	ts.Check(err)
}
