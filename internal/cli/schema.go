package cli

import (
	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/schema"
)

func newSchemaCmd(ios *iostreams.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the configuration format",
		Long: `Print the JSON Schema (draft 2020-12) of roster's desired-state files.

Editors use it for completion and inline documentation; the YAML language server
reads a modeline on the first line of a file, such as:

  # yaml-language-server: $schema=roster.schema.json`,
		Example: `  # Write the schema next to the files, once; the modeline above then finds it
  roster schema > roster.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := ios.Out.Write(schema.JSON())
			return err
		},
	}
}
