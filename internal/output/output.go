// Package output names the forms a command's result can take on stdout. The set is closed: a
// command declares which of them it supports, and its --format flag accepts exactly those.
package output

import (
	"fmt"
	"strings"
)

// Format is one form of a command's output.
type Format int

// The formats. Text is every command's default.
const (
	Text Format = iota
	Markdown
	JSON
	HTML
)

var names = [...]string{Text: "text", Markdown: "markdown", JSON: "json", HTML: "html"}

// String is the format's name as --format takes it.
func (f Format) String() string {
	if f < 0 || int(f) >= len(names) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return names[f]
}

// Flag is a --format flag that accepts only the formats it was made with. It implements
// pflag.Value.
type Flag struct {
	value   Format
	allowed []Format
}

// NewFlag returns a flag set to Text that accepts the allowed formats (Text among them).
func NewFlag(allowed ...Format) *Flag {
	return &Flag{value: Text, allowed: allowed}
}

// Format is the format chosen.
func (f *Flag) Format() Format { return f.value }

// Is reports whether format was chosen.
func (f *Flag) Is(format Format) bool { return f.value == format }

// String implements pflag.Value.
func (f *Flag) String() string { return f.value.String() }

// Type implements pflag.Value; it is what cobra's help shows after the flag's name.
func (f *Flag) Type() string { return "format" }

// Set implements pflag.Value: it accepts one of the allowed formats' names.
func (f *Flag) Set(s string) error {
	for _, a := range f.allowed {
		if a.String() == s {
			f.value = a
			return nil
		}
	}
	return &UnknownError{Name: s, Allowed: f.List()}
}

// UnknownError is a --format value the command does not support.
type UnknownError struct {
	// Name is the value given; Allowed the command's formats as a sentence ("text or json").
	Name, Allowed string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown format %q: use %s", e.Name, e.Allowed)
}

// Names are the allowed formats' names, for shell completion.
func (f *Flag) Names() []string {
	out := make([]string, len(f.allowed))
	for i, a := range f.allowed {
		out[i] = a.String()
	}
	return out
}

// List is the allowed formats as a sentence: "text, markdown or json".
func (f *Flag) List() string {
	n := f.Names()
	if len(n) == 1 {
		return n[0]
	}
	return strings.Join(n[:len(n)-1], ", ") + " or " + n[len(n)-1]
}
