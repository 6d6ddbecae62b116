package views

import (
	"io"

	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/verify"
)

// Verify renders access --verify's report as text or JSON.
func Verify(w io.Writer, r verify.Report, f output.Format) error {
	if f == output.JSON {
		return verify.WriteJSON(w, r)
	}
	return verify.WriteText(w, r)
}
