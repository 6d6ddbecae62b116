// Package iostreams carries a command's standard streams and what is known about them: whether
// each is a terminal and whether colour is wanted. Commands write data to Out and diagnostics and
// progress to ErrOut; tests build streams with Test and force either kind of terminal.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the streams a command uses.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	noColor               bool
}

// System returns the process's streams, detecting terminals and honouring NO_COLOR.
func System() *IOStreams {
	_, noColor := os.LookupEnv("NO_COLOR")
	return &IOStreams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		inTTY:   term.IsTerminal(int(os.Stdin.Fd())),
		outTTY:  term.IsTerminal(int(os.Stdout.Fd())),
		errTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		noColor: noColor || os.Getenv("TERM") == "dumb",
	}
}

// Test returns streams backed by buffers, none of them a terminal: stdin, stdout, stderr.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = new(bytes.Buffer), new(bytes.Buffer), new(bytes.Buffer)
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
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

// CanPrompt reports whether the user can answer a question: both In and ErrOut are terminals.
func (s *IOStreams) CanPrompt() bool { return s.inTTY && s.errTTY }
