package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/plan/render"
	"github.com/rosterhq/roster/internal/planfile"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

type showOptions struct {
	Path   string
	Format string
}

func newShowCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &showOptions{}
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
			if err := checkFormat(opts.Format, "text", "markdown", "json"); err != nil {
				return err
			}
			return runShow(ios, opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text, markdown or json")
	completeValues(cmd, "format", "text", "markdown", "json")
	return cmd
}

func runShow(ios *iostreams.IOStreams, opts *showOptions) error {
	f, err := os.Open(opts.Path)
	if err != nil {
		return fmt.Errorf("cannot read the plan: %w", err)
	}
	defer f.Close()
	saved, err := planfile.Read(f, Version())
	if errors.Is(err, planfile.ErrNotPlan) {
		return withHint(fmt.Errorf("%s is %w", opts.Path, err), "save a plan with roster plan --out FILE; configuration files are shown by roster plan itself")
	}
	if err != nil {
		return err
	}
	// Read for every format: what cannot be shown as text is not passed on as JSON either.
	p, err := render.ReadJSON(saved.Plan)
	if err != nil {
		return fmt.Errorf("cannot show the saved plan: %w", err)
	}
	if opts.Format == "json" {
		out, err := render.WithDiagnostics(saved.Plan, savedWarnings(saved))
		if err != nil {
			return fmt.Errorf("cannot show the saved plan: %w", err)
		}
		_, err = ios.Out.Write(out)
		return err
	}
	if opts.Format == "markdown" {
		return render.Markdown(ios.Out, p, render.MarkdownOptions{Warnings: savedWarnings(saved)})
	}
	fmt.Fprintln(ios.Out, escape.Text(fmt.Sprintf("Saved plan for realm %q on %s, made by roster %s.",
		saved.Realm, saved.Server, saved.RosterVersion)))
	fmt.Fprintln(ios.Out)
	return render.Text(ios.Out, p, render.TextOptions{Color: ios.ColorEnabled()})
}

// savedWarnings are the warnings of the configuration a plan was saved with, which the
// pull-request comment shows: validating the saved files again, offline, finds them.
func savedWarnings(saved *planfile.File) diag.List {
	files := make([]schema.File, len(saved.Sources))
	for i, s := range saved.Sources {
		files[i] = schema.File{Name: s.Path, Data: s.Content}
	}
	_, diags := schema.LoadFiles(files, schema.Options{Secrets: secret.FromEnv("")})
	return warningsOf(diags)
}

// checkFormat refuses a --format value that is not among formats.
func checkFormat(format string, formats ...string) error {
	for _, f := range formats {
		if f == format {
			return nil
		}
	}
	list := strings.Join(formats[:len(formats)-1], ", ") + " or " + formats[len(formats)-1]
	return withHint(fmt.Errorf("unknown format %q", format), "use --format "+list)
}
