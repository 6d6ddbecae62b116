package cli

import (
	"errors"
	"fmt"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/schema"
)

// loadConfig loads the desired state for a command that goes on to talk to Keycloak. Every
// diagnostic goes to stderr, so that stdout carries only the command's own output; errors stop
// the command, warnings do not. Secret references are checked only when the command will read
// them (apply): a pull-request plan usually runs without the secrets.
func loadConfig(ios *iostreams.IOStreams, paths []string, checkSecrets bool) (*model.Config, error) {
	cfg, diags := schema.Load(paths, schema.Options{CheckSecrets: checkSecrets})
	for _, d := range diags {
		fmt.Fprintln(ios.ErrOut, d)
	}
	if diags.HasErrors() {
		errs, _ := diags.Count()
		return nil, withHint(errors.New("the configuration is not valid: "+plural(errs, "error")),
			"fix the problems above; `roster validate` checks the files without contacting Keycloak")
	}
	return cfg, nil
}
