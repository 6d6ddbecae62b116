package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

// addSecretsDirFlag adds --secrets-dir, the directory whose files the configuration may
// reference (secret.FromEnv falls back to $ROSTER_SECRETS_DIR).
func addSecretsDirFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "secrets-dir", "", "the directory whose files secret references may name (default $"+secret.DirEnv+"); configurations reach no other file")
}

// loadConfig loads the desired state for a command that goes on to talk to Keycloak. Every
// diagnostic goes to stderr, so that stdout carries only the command's own output; errors stop
// the command, warnings do not. Secret references are checked against what secrets exposes
// (package secret) but not read: a pull-request plan runs without the secrets, and apply reads
// each one when a change needs it.
//
// The diagnostics also go to the command's report (runReport), for its JSON output.
func loadConfig(ctx context.Context, ios *iostreams.IOStreams, paths []string, secrets secret.Source) (*model.Config, error) {
	cfg, _, err := loadConfigWarnings(ctx, ios, paths, secrets)
	return cfg, err
}

// loadConfigWarnings is loadConfig that also returns the warnings, for an output that shows
// them (the pull-request comment).
func loadConfigWarnings(ctx context.Context, ios *iostreams.IOStreams, paths []string, secrets secret.Source) (*model.Config, []diag.Diagnostic, error) {
	cfg, diags := schema.Load(paths, schema.Options{Secrets: secrets})
	reportOf(ctx).add(diags)
	for _, d := range diags {
		fmt.Fprintln(ios.ErrOut, d)
	}
	if diags.HasErrors() {
		errs, _ := diags.Count()
		return nil, nil, withHint(errors.New("the configuration is not valid: "+plural(errs, "error")),
			"fix the problems above; `roster validate` checks the files without contacting Keycloak")
	}
	return cfg, warningsOf(diags), nil
}

// warningsOf returns the warnings among diags.
func warningsOf(diags diag.List) []diag.Diagnostic {
	var warnings []diag.Diagnostic
	for _, d := range diags {
		if d.Severity == diag.Warning {
			warnings = append(warnings, d)
		}
	}
	return warnings
}
