package cli

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/rosterhq/roster/internal/iostreams"
)

// TestMain registers roster as a command the scripts can exec, running in this test binary.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"roster": func() { os.Exit(Main(os.Args[1:], iostreams.System())) },
	})
}

// TestScripts runs the CLI scripts in testdata/script. ROSTER_UPDATE_SCRIPTS=1 rewrites their
// expected output from what roster prints (review the diff before committing it).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("ROSTER_UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}
