package cli

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/secret"
)

// addSecretsDirFlag adds --secrets-dir, the directory whose files the configuration may
// reference (secret.FromEnv falls back to $ROSTER_SECRETS_DIR).
func addSecretsDirFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "secrets-dir", "", "the directory whose files secret references may name (default $"+secret.DirEnv+"); configurations reach no other file")
}

// loadConfig loads the desired state for a command that goes on to talk to Keycloak (see
// operation.LoadConfig). Every diagnostic goes to stderr, so that stdout carries only the
// command's own output, and to the command's report (runReport), for its JSON output.
func loadConfig(ctx context.Context, ios *iostreams.IOStreams, paths []string, secrets secret.Source) (*model.Config, error) {
	cfg, _, err := operation.LoadConfig(paths, secrets, (&connectOptions{}).deps(ctx, ios))
	return cfg, err
}

// plural is "1 noun" or "n nouns".
func plural(n int, noun string) string { return operation.Plural(n, noun) }
