package cli

import (
	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/views"
)

type showOptions struct {
	Path   string
	Format *output.Flag
}

func newShowCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &showOptions{Format: output.NewFlag(views.PlanFormats...)}
	cmd := &cobra.Command{
		Use:   "show PLANFILE",
		Short: "Show a plan saved with roster plan --out",
		Long: `Show prints a plan saved with 'roster plan --out FILE' as roster plan printed it: in
text (headed by the server, realm and roster version it was made with), as a
pull-request comment (--format markdown) or as roster's JSON plan (--format json).

It reads only the file: it does not contact Keycloak, so it shows what the plan said
when it was made, not whether it is still current (roster apply PLANFILE checks that).
A file edited since roster plan wrote it, or made by another version of roster, is
refused as apply refuses it.`,
		Example: `  # Review the plan a CI job saved as an artifact
  roster show roster.plan

  # The plan as JSON, for a script
  roster show --format json roster.plan | jq '.changes[].address'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			return runShow(ios, opts)
		},
	}
	cmd.Flags().Var(opts.Format, "format", "output format: text, markdown or json")
	completeValues(cmd, "format", opts.Format.Names()...)
	return cmd
}

func runShow(ios *iostreams.IOStreams, opts *showOptions) error {
	shown, err := operation.Show(operation.ShowOptions{Path: opts.Path, RosterVersion: Version()})
	if err != nil {
		return err
	}
	return views.Show(ios.Out, opts.Format.Format(), shown, ios.ColorEnabled())
}
