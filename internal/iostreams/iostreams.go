// Package iostreams carries a command's standard streams and what is known about them: whether
// each is a terminal and whether colour is wanted. Commands write data to Out and diagnostics and
// progress to ErrOut; tests build streams with Test and force either kind of terminal.
//
// Out and ErrOut mask the secrets of the run (see package redact): whatever a command prints,
// a credential, token or resolved secret it holds comes out as ***. Call Flush when the
// command ends.
package iostreams

import (
	"bytes"
	"errors"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/rosterhq/roster/internal/redact"
)

// IOStreams are the streams a command uses.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// Secrets are the secrets of the run, masked in Out, ErrOut and the files roster writes.
	Secrets *redact.Secrets

	inTTY, outTTY, errTTY bool
	noColor               bool
}

// System returns the process's streams, detecting terminals and honouring NO_COLOR.
func System() *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	secrets := redact.New()
	return &IOStreams{
		In: os.Stdin, Out: redact.NewWriter(secrets, os.Stdout), ErrOut: redact.NewWriter(secrets, os.Stderr),
		Secrets: secrets,
		inTTY:   term.IsTerminal(int(os.Stdin.Fd())),
		outTTY:  term.IsTerminal(int(os.Stdout.Fd())),
		errTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		noColor: noColor || os.Getenv("TERM") == "dumb",
	}
}

// Test returns streams backed by buffers, none of them a terminal: stdin, stdout, stderr.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = new(bytes.Buffer), new(bytes.Buffer), new(bytes.Buffer)
	secrets := redact.New()
	return &IOStreams{In: in, Out: redact.NewWriter(secrets, out), ErrOut: redact.NewWriter(secrets, errOut),
		Secrets: secrets}, in, out, errOut
}

// Flush writes what Out and ErrOut held back while it could have been the start of a secret.
func (s *IOStreams) Flush() error {
	var errs []error
	for _, w := range []io.Writer{s.Out, s.ErrOut} {
		if f, ok := w.(interface{ Flush() error }); ok {
			errs = append(errs, f.Flush())
		}
	}
	return errors.Join(errs...)
}

// SetTTY forces every stream to be treated as a terminal, or not.
func (s *IOStreams) SetTTY(tty bool) { s.inTTY, s.outTTY, s.errTTY = tty, tty, tty }

// SetNoColor forces colour off (as NO_COLOR does) or lets the terminal decide.
func (s *IOStreams) SetNoColor(off bool) { s.noColor = off }

// IsStdoutTTY reports whether Out is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether ErrOut is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// ColorEnabled reports whether Out may carry colour: it is a terminal and NO_COLOR is unset.
func (s *IOStreams) ColorEnabled() bool { return s.outTTY && !s.noColor }

// ErrColorEnabled reports whether ErrOut may carry colour: it is a terminal and NO_COLOR is
// unset.
func (s *IOStreams) ErrColorEnabled() bool { return s.errTTY && !s.noColor }

// CanPrompt reports whether the user can answer a question: both In and ErrOut are terminals.
func (s *IOStreams) CanPrompt() bool { return s.inTTY && s.errTTY }
