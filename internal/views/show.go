package views

import (
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan/render"
)

// Show writes a saved plan as roster plan printed it: the text headed by the server, realm and
// roster version it was made with, the pull-request comment, or the JSON plan with the
// configuration's warnings.
func Show(w io.Writer, format output.Format, s *operation.Shown, color bool) error {
	switch format {
	case output.JSON:
		out, err := render.WithDiagnostics(s.Saved.Plan, s.Warnings)
		if err != nil {
			return fmt.Errorf("cannot show the saved plan: %w", err)
		}
		_, err = w.Write(out)
		return err
	case output.Markdown:
		return render.Markdown(w, s.Plan, render.MarkdownOptions{Warnings: s.Warnings})
	}
	fmt.Fprintln(w, escape.Text(fmt.Sprintf("Saved plan for realm %q on %s, made by roster %s.",
		s.Saved.Realm, s.Saved.Server, s.Saved.RosterVersion)))
	fmt.Fprintln(w)
	return render.Text(w, s.Plan, render.TextOptions{Color: color})
}
