package views

import (
	"io"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/plan/render"
)

// PlanFormats are the formats of roster plan and roster show.
var PlanFormats = []output.Format{output.Text, output.Markdown, output.JSON}

// Plan writes p in format; the markdown comment and the JSON plan also show the configuration's
// warnings, which the text leaves to stderr. Colour applies to text only.
func Plan(w io.Writer, format output.Format, p *plan.Plan, color bool, warnings []diag.Diagnostic) error {
	switch format {
	case output.Markdown:
		return render.Markdown(w, p, render.MarkdownOptions{Warnings: warnings})
	case output.JSON:
		return render.JSON(w, p, warnings)
	}
	return render.Text(w, p, render.TextOptions{Color: color})
}
