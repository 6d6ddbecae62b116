package cli

import (
	"github.com/spf13/pflag"

	"github.com/rosterhq/roster/internal/secret"
)

// addSecretsDirFlag adds --secrets-dir, the directory whose files the configuration may
// reference (secret.FromEnv falls back to $ROSTER_SECRETS_DIR).
func addSecretsDirFlag(fs *pflag.FlagSet, dir *string) {
	fs.StringVar(dir, "secrets-dir", "", "the directory whose files secret references may name (default $"+secret.DirEnv+"); configurations reach no other file")
}
