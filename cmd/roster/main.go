// Command roster manages who can use the CodeMie AI platform, as code: it validates a
// desired-state YAML, plans the changes to a Keycloak realm and applies them.
package main

import (
	"os"

	"github.com/rosterhq/roster/internal/cli"
	"github.com/rosterhq/roster/internal/iostreams"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], iostreams.System()))
}
