package cli

import (
	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/views"
)

type fmtOptions struct {
	operation.FmtOptions
	SecretsDir string
}

func newFmtCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &fmtOptions{}
	cmd := &cobra.Command{
		Use:   "fmt PATH...",
		Short: "Rewrite configuration files into the canonical layout",
		Long: `Fmt rewrites configuration files in roster's canonical layout, keeping every comment
and value, and prints the name of each file it changed. Directories contribute their
*.yaml and *.yml files, as for validate.

The layout: keys in the order of docs/format.md, two spaces of indentation, short
lists of plain values on one line ([a, b]), secret references as {env: ...}, every
other mapping one key per line, values quoted only where YAML needs it, one space
before a comment that ends a line, and blank lines between entries kept where the
file has them (docs/format.md#canonical-layout).

Fmt changes nothing when the configuration does not load (roster validate shows why):
a file split over several files is formatted by naming all of them, or their
directory. Running fmt twice gives the same files.

--check changes nothing: it lists the files that are not in the canonical layout and
exits 1 if there are any, for CI. --diff prints the changes as a unified diff instead
of the file names (and, without --check, still makes them).`,
		Example: `  # Format every configuration file in access/
  roster fmt access/

  # In CI: fail when a file is not formatted, and show how
  roster fmt --check --diff access/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return runFmt(ios, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Check, "check", false, "change nothing; list the files that are not formatted and exit 1 if any")
	f.BoolVar(&opts.Diff, "diff", false, "print the changes as a unified diff")
	addSecretsDirFlag(f, &opts.SecretsDir)
	return cmd
}

func runFmt(ios *iostreams.IOStreams, opts *fmtOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	opts.Secrets = secret.FromEnv(opts.SecretsDir)
	res, err := operation.Fmt(opts.FmtOptions, ios.ErrOut)
	if verr := views.Fmt(ios.Out, res); err == nil {
		err = verr
	}
	return err
}
