// Package diag holds the positioned diagnostics every roster stage reports: a problem, where it is,
// and what to do about it. It is a leaf package; the rest of roster builds on it.
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/escape"
)

// Severity says whether a diagnostic fails the command.
type Severity int

const (
	// Error makes the input unusable; validate exits 1.
	Error Severity = iota
	// Warning is worth reading but does not fail, unless validate runs with --strict.
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// Pos is a place in an input file. Line and Col are 1-based; zero means unknown (a problem with the
// file as a whole, or with the combination of several files).
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders the position as file:line:col, dropping the parts that are unknown.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Diagnostic is one problem found in the input.
type Diagnostic struct {
	Severity Severity
	Pos      Pos
	// Path is the location in the document in JSONPath-like form, e.g. "users[2].role"; empty for
	// problems with a whole file.
	Path string
	// Message says what is wrong, starting lowercase and without a final period.
	Message string
	// Hint, when set, says how to fix it ("did you mean \"developer\"?").
	Hint string
}

// String renders the diagnostic on one line as "file:line:col: [warning: ]message[; hint]".
// File names and the values messages quote come from the files, so the line goes through
// escape.Text: nothing in it can end the line or act on the terminal.
func (d Diagnostic) String() string {
	var b strings.Builder
	if p := d.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	b.WriteString(d.Message)
	if d.Hint != "" {
		b.WriteString("; ")
		b.WriteString(d.Hint)
	}
	return escape.Text(b.String())
}

// List collects diagnostics. The zero value is ready to use.
type List []Diagnostic

// Errorf appends an error at pos. The returned pointer lets the caller set a Hint; it is valid
// until the next append.
func (l *List) Errorf(pos Pos, path, format string, args ...any) *Diagnostic {
	return l.add(Error, pos, path, fmt.Sprintf(format, args...))
}

// Warnf appends a warning at pos; the returned pointer is as for Errorf.
func (l *List) Warnf(pos Pos, path, format string, args ...any) *Diagnostic {
	return l.add(Warning, pos, path, fmt.Sprintf(format, args...))
}

func (l *List) add(s Severity, pos Pos, path, msg string) *Diagnostic {
	*l = append(*l, Diagnostic{Severity: s, Pos: pos, Path: path, Message: msg})
	return &(*l)[len(*l)-1]
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool {
	return slices.ContainsFunc(l, func(d Diagnostic) bool { return d.Severity == Error })
}

// Count returns the number of errors and warnings.
func (l List) Count() (errors, warnings int) {
	for _, d := range l {
		if d.Severity == Error {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

// Sort orders the list by file, line and column, then message, so output is deterministic.
func (l List) Sort() {
	slices.SortStableFunc(l, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// JSON is a diagnostic as every `--format json` output carries it: the position's parts (left
// out when unknown), the document path, the message and the hint.
type JSON struct {
	Severity string `json:"severity"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

// JSON returns the list in its JSON form, [] when empty.
func (l List) JSON() []JSON {
	out := make([]JSON, 0, len(l))
	for _, d := range l {
		out = append(out, JSON{Severity: d.Severity.String(), File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col,
			Path: d.Path, Message: d.Message, Hint: d.Hint})
	}
	return out
}

// HintsOf returns the hints of the first error in err's chain that has them (a Hints() []string
// method): what to do about it. Nil when none does.
func HintsOf(err error) []string {
	var h interface{ Hints() []string }
	if errors.As(err, &h) {
		return h.Hints()
	}
	return nil
}
