// Command roster manages who can use the CodeMie AI platform, as code: it validates a
// desired-state YAML, plans the changes to a Keycloak realm and applies them.
package main

import (
	"os"

	"github.com/rosterhq/roster/internal/cli"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/supervise"
)

// main runs roster in a supervised child of itself where it can, so that a crash exits 1, never
// the 2 of "changes present" (see package supervise).
func main() {
	if supervise.Child() {
		os.Exit(supervise.ChildExit(cli.Main(os.Args[1:], iostreams.System())))
	}
	if self, err := os.Executable(); err == nil {
		if code, err := supervise.Run(self, os.Args[1:], os.Stderr); err == nil {
			os.Exit(code)
		}
	}
	os.Exit(cli.Main(os.Args[1:], iostreams.System()))
}
