package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
)

// DoctorFormats are the formats of roster doctor.
var DoctorFormats = []output.Format{output.Text, output.JSON}

// Doctor renders doctor's report as text or JSON.
func Doctor(w io.Writer, r operation.DoctorResult, f output.Format) error {
	if f == output.JSON {
		return doctorJSON(w, r)
	}
	return DoctorText(w, r.Report)
}

// DoctorText writes a line per check, and one for its fix. Names, details and fixes quote
// realm, role and mapper names and server answers: they go through escape.Text.
func DoctorText(w io.Writer, r doctor.Report) error {
	checks := make([]doctor.Check, len(r.Checks))
	width := 0
	for i, c := range r.Checks {
		c.Name, c.Detail, c.Fix = escape.Text(c.Name), escape.Text(c.Detail), escape.Text(c.Fix)
		checks[i] = c
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	for _, c := range checks {
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", strings.ToUpper(string(c.Status)), width, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(&b, "      %-*s  fix: %s\n", width, "", c.Fix)
		}
	}
	fmt.Fprintf(&b, "\n%s: %d passed, %s, %d failed, %d skipped.\n", operation.Plural(len(r.Checks), "check"),
		r.Count(doctor.Pass), operation.Plural(r.Count(doctor.Warn), "warning"), r.Count(doctor.Fail), r.Count(doctor.Skip))
	_, err := io.WriteString(w, b.String())
	return err
}

type doctorDocument struct {
	FormatVersion string `json:"format_version"`
	Server        string `json:"server"`
	Realm         string `json:"realm"`
	// For is the job the credentials were checked for: "plan", "apply" or "verify".
	For     string         `json:"for"`
	Checks  []doctor.Check `json:"checks"`
	Summary struct {
		Pass int `json:"pass"`
		Warn int `json:"warn"`
		Fail int `json:"fail"`
		Skip int `json:"skip"`
		// OK is true when no check failed and the server answered and accepted the credentials.
		OK bool `json:"ok"`
	} `json:"summary"`
}

func doctorJSON(w io.Writer, res operation.DoctorResult) error {
	r := res.Report
	doc := doctorDocument{FormatVersion: output.DoctorDocument.Version(), Server: res.Server, Realm: res.Realm, For: string(res.For), Checks: r.Checks}
	doc.Summary.Pass, doc.Summary.Warn = r.Count(doctor.Pass), r.Count(doctor.Warn)
	doc.Summary.Fail, doc.Summary.Skip = r.Count(doctor.Fail), r.Count(doctor.Skip)
	doc.Summary.OK = !r.Failed() && !r.Unreachable
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
