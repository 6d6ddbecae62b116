package cli

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/views"
)

// ValidateOptions are the inputs of `roster validate`.
type ValidateOptions struct {
	IO           *iostreams.IOStreams
	Paths        []string
	Format       *output.Flag
	Strict       bool
	CheckSecrets bool
	SecretsDir   string
}

func newValidateCmd(ios *iostreams.IOStreams, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: ios, Format: output.NewFlag(views.ValidateFormats...)}
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check configuration files without contacting Keycloak",
		Long: `Check desired-state files without contacting Keycloak.

Each PATH is a YAML file or a directory, whose *.yaml and *.yml files (in any case)
are read in name order (subdirectories are not); a file there that looks meant as
YAML but is not named so (teams.yaml.bak) is an error. A file named twice is read
once. Objects may be spread over several files; a valid run lists the files read.
Every problem is reported at once as file:line:col: message.

Exit status: 0 when the configuration is valid, 1 when it has errors (or warnings,
with --strict).`,
		Example: `  roster validate examples/codemie-prod.yaml
  roster validate --strict --check-secrets --secrets-dir /run/secrets/roster config/
  roster validate --format json config/ | jq .diagnostics`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withHint(errors.New("validate needs at least one file or directory"),
					"run 'roster validate config/' or 'roster validate roster.yaml'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if runF != nil {
				return runF(opts)
			}
			return runValidate(opts)
		},
	}
	cmd.Flags().Var(opts.Format, "format", "output format: text or json")
	completeValues(cmd, "format", opts.Format.Names()...)
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "fail on warnings too")
	cmd.Flags().BoolVar(&opts.CheckSecrets, "check-secrets", false,
		"check that every secret reference resolves: its environment variable is set, its file is in the secrets directory, neither is empty")
	addSecretsDirFlag(cmd.Flags(), &opts.SecretsDir)
	return cmd
}

func runValidate(opts *ValidateOptions) error {
	v := operation.Validate(operation.ValidateOptions{Paths: opts.Paths, Strict: opts.Strict, CheckSecrets: opts.CheckSecrets,
		Secrets: secret.FromEnv(opts.SecretsDir)})
	if err := views.Validate(opts.IO.Out, opts.Format.Format(), v); err != nil {
		return err
	}
	if v.Failed {
		return silentExit(ExitError)
	}
	return nil
}
