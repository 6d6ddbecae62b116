package cli

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/views"
)

// runReport collects what a command found in the configuration, so that its JSON output, or
// the failure document that replaces it, carries every warning and error with its position.
type runReport struct {
	mu    sync.Mutex
	diags diag.List
}

type reportKey struct{}

// reportOf returns the command's report; a command run without Main gets one of its own.
func reportOf(ctx context.Context) *runReport {
	if r, ok := ctx.Value(reportKey{}).(*runReport); ok {
		return r
	}
	return &runReport{}
}

func (r *runReport) add(l diag.List) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.diags = append(r.diags, l...)
}

func (r *runReport) list() diag.List {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.diags
}

// writeJSONDoc writes the JSON object write renders to w with the command's diagnostics
// appended as its last member, "diagnostics".
func writeJSONDoc(ctx context.Context, w io.Writer, write func(io.Writer) error) error {
	return views.JSONDocument(w, reportOf(ctx).list(), write)
}

// jsonFailure is what a command given --format json prints on stdout when it fails before
// writing its own document: its format_version, failed true, the error, and the
// configuration's diagnostics with their positions.
type jsonFailure struct {
	FormatVersion string      `json:"format_version"`
	Failed        bool        `json:"failed"`
	Error         jsonError   `json:"error"`
	Diagnostics   []diag.JSON `json:"diagnostics"`
}

type jsonError struct {
	Message  string   `json:"message"`
	Details  []string `json:"details"`
	Hints    []string `json:"hints"`
	ExitCode int      `json:"exit_code"`
}

// jsonFormatVersion is the format_version of the command's JSON document, "" for a command
// without one.
func jsonFormatVersion(cmd *cobra.Command) string {
	f := cmd.Flags().Lookup("verify")
	d, _ := output.ForCommand(cmd.Name(), f != nil && f.Value.String() == "true")
	return d.Version()
}

// writeFailureJSON writes the failure document when cmd was asked for JSON.
func writeFailureJSON(ctx context.Context, ios *iostreams.IOStreams, cmd *cobra.Command, err error, code int) {
	version := jsonFormatVersion(cmd)
	if f := cmd.Flags().Lookup("format"); version == "" || f == nil || f.Value.String() != "json" {
		return
	}
	e := jsonError{Message: escape.Text(err.Error()), Details: []string{}, Hints: []string{}, ExitCode: code}
	var d interface{ Details() []string }
	if errors.As(err, &d) {
		for _, line := range d.Details() {
			e.Details = append(e.Details, escape.Text(line))
		}
	}
	for _, hint := range diag.HintsOf(err) {
		e.Hints = append(e.Hints, escape.Text(hint))
	}
	b, merr := json.MarshalIndent(jsonFailure{FormatVersion: version, Failed: true, Error: e, Diagnostics: reportOf(ctx).list().JSON()}, "", "  ")
	if merr == nil {
		_, _ = ios.Out.Write(append(b, '\n'))
	}
}
