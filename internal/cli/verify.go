package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/views"
)

// runVerify is roster access --verify: the access the files (or roster's reading of the realm)
// say, against what the tokens Keycloak issues through CodeMie's client make CodeMie grant.
func runVerify(ctx context.Context, ios *iostreams.IOStreams, opts *accessOptions) error {
	if err := opts.fill(); err != nil {
		return err
	}
	deps := operation.VerifyDeps{Dial: dialAs(&opts.connect, asVerifyRealm), Diagnostics: opts.connect.deps(ctx, ios).Diagnostics}
	if ios.IsStderrTTY() {
		deps.Progress = func(done, total int) { fmt.Fprintf(ios.ErrOut, "\rVerifying: %d of %d users done", done, total) }
	}
	report, err := operation.Verify(ctx, opts.AccessOptions, deps)
	if deps.Progress != nil && len(report.Results) > 0 {
		fmt.Fprint(ios.ErrOut, "\r\033[K")
	}
	if err != nil {
		return classify(err)
	}
	if err := renderDoc(ctx, ios.Out, opts.Format, func(w io.Writer) error { return views.Verify(w, report, opts.Format) }); err != nil {
		return err
	}
	if len(report.Differ()) > 0 {
		return silentExit(ExitError)
	}
	return nil
}
