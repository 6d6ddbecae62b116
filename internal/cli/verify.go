package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/verify"
)

// runVerify is roster access --verify: the access the files (or roster's reading of the realm)
// say, against what the tokens Keycloak issues through CodeMie's client make CodeMie grant.
func runVerify(ctx context.Context, ios *iostreams.IOStreams, opts *accessOptions) error {
	cfg, realm, err := opts.loadOptional(ctx, ios)
	if err != nil {
		return err
	}
	ro, err := opts.readOptions(cfg)
	if err != nil {
		return err
	}
	c, _, live, err := opts.connect.read(ctx, realm, ro)
	if err != nil {
		return err
	}
	facts, subjects, err := verify.Prepare(ctx, c, live, cfg)
	if err != nil {
		return classify(err)
	}
	switch {
	case opts.User != "":
		s, ok := verify.Find(subjects, opts.User)
		if !ok {
			return unknownUser(opts.User, realm, cfg == nil, "roster access --verify")
		}
		subjects = []verify.Subject{s}
	case opts.Sample > 0:
		subjects = verify.Sample(subjects, opts.Sample)
	}

	vopts := verify.Options{Parallelism: opts.Parallelism}
	if ios.IsStderrTTY() {
		vopts.Progress = func(done, total int) { fmt.Fprintf(ios.ErrOut, "\rVerifying: %d of %d users done", done, total) }
	}
	results := verify.Run(ctx, c, facts, subjects, vopts)
	if vopts.Progress != nil {
		fmt.Fprint(ios.ErrOut, "\r\033[K")
	}
	report := verify.Report{Realm: realm, Client: facts.Client.ClientID, FromFiles: facts.FromFiles, Results: results}
	if err := report.Failure(); err != nil {
		return classify(err)
	}
	if opts.Format == "json" {
		err = writeJSONDoc(ctx, ios.Out, func(w io.Writer) error { return verify.WriteJSON(w, report) })
	} else {
		err = verify.WriteText(ios.Out, report)
	}
	if err != nil {
		return err
	}
	if len(report.Differ()) > 0 {
		return silentExit(ExitError)
	}
	return nil
}
