package views

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
)

// ValidateFormats are the formats of roster validate.
var ValidateFormats = []output.Format{output.Text, output.JSON}

// Validate writes what validate found in format.
func Validate(w io.Writer, format output.Format, v *operation.Validated) error {
	if format == output.JSON {
		return validateJSON(w, v)
	}
	return validateText(w, v)
}

func validateText(w io.Writer, v *operation.Validated) error {
	for _, d := range v.Diags {
		if _, err := fmt.Fprintln(w, d.String()); err != nil {
			return err
		}
	}
	errs, warns := v.Diags.Count()
	var err error
	switch {
	case v.Failed && errs == 0:
		_, err = fmt.Fprintf(w, "%s (--strict fails on warnings).\n", operation.Plural(warns, "warning"))
	case v.Failed:
		_, err = fmt.Fprintf(w, "%s, %s.\n", operation.Plural(errs, "error"), operation.Plural(warns, "warning"))
	default:
		for _, f := range v.Config.Files {
			if _, err := fmt.Fprintf(w, "Read %s\n", escape.Text(f)); err != nil {
				return err
			}
		}
		c := v.Counts
		suffix := ""
		if warns > 0 {
			suffix = fmt.Sprintf(" (%s)", operation.Plural(warns, "warning"))
		}
		_, err = fmt.Fprintf(w, "Success! %s, %s, %s, %s%s.\n", operation.Plural(c.Files, "file"), operation.Plural(c.Users, "user"),
			operation.Plural(c.Teams, "team"), operation.Plural(c.Projects, "project"), suffix)
	}
	return err
}

type jsonValidate struct {
	FormatVersion string            `json:"format_version"`
	Valid         bool              `json:"valid"`
	ErrorCount    int               `json:"error_count"`
	WarningCount  int               `json:"warning_count"`
	Counts        *operation.Counts `json:"counts"` // null when the configuration has errors
	// Files are the files read, in load order, named as given; [] when the configuration has
	// errors.
	Files       []string    `json:"files"`
	Diagnostics []diag.JSON `json:"diagnostics"`
}

func validateJSON(w io.Writer, v *operation.Validated) error {
	out := jsonValidate{FormatVersion: output.ValidateDocument.Version(), Valid: !v.Failed, Diagnostics: v.Diags.JSON(), Files: []string{}}
	out.ErrorCount, out.WarningCount = v.Diags.Count()
	if v.Config != nil {
		c := v.Counts
		out.Counts = &c
		out.Files = append(out.Files, v.Config.Files...)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
