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
reads a modeline such as:

  # yaml-language-server: $schema=schema/roster.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := ios.Out.Write(schema.JSON())
			return err
		},
	}
}
