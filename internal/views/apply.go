package views

import (
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan/render"
)

// ApplyFormats are the formats of roster apply.
var ApplyFormats = []output.Format{output.Text, output.JSON}

// Apply renders what roster apply did.
type Apply struct {
	// Out is stdout, ErrOut stderr.
	Out, ErrOut io.Writer
	Format      output.Format
}

// Result writes res. In text: the no-changes sentence, or one line per change in plan order,
// the summary and the invitations. In JSON: apply's result with diags on stdout, and the
// invitations' lines on stderr, so that stdout holds only the document.
func (v Apply) Result(res *operation.ApplyResult, diags diag.List) error {
	if v.Format == output.JSON {
		doc := res.Result.JSON()
		if err := res.RunErr(); err != nil {
			doc.Error = &apply.JSONError{Message: escape.Text(err.Error()), Hints: []string{}}
			for _, hint := range diag.HintsOf(err) {
				doc.Error.Hints = append(doc.Error.Hints, escape.Text(hint))
			}
		}
		if err := JSONValue(v.Out, diags, doc); err != nil {
			return err
		}
		Invitations(v.ErrOut, res.Invitations)
		return nil
	}
	if !res.Plan.HasChanges() {
		return render.NoChanges(v.Out, res.Plan)
	}
	for _, o := range res.Result.Outcomes {
		fmt.Fprintln(v.Out, o)
	}
	fmt.Fprintln(v.Out, res.Result.Summary())
	Invitations(v.Out, res.Invitations)
	return nil
}

// Invitations writes a line for each invitation: sent, or why it failed.
func Invitations(w io.Writer, invitations []operation.Invitation) {
	for _, inv := range invitations {
		if inv.Err != nil {
			fmt.Fprintln(w, escape.Text(fmt.Sprintf("%s: invitation failed: %v", inv.Addr.Display(), inv.Err)))
			continue
		}
		fmt.Fprintf(w, "%s: invitation sent\n", escape.Text(inv.Addr.Display()))
	}
}

// ConfirmApply writes the question apply asks before changing realm, on the terminal's stderr.
func ConfirmApply(w io.Writer, realm string) {
	fmt.Fprintf(w, "\nDo you want to apply these changes to realm %q?\n  Only 'yes' will be accepted.\n\n  Enter a value: ", realm)
}
