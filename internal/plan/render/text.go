package render

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/plan"
)

// TextOptions tune Text.
type TextOptions struct {
	// Color marks actions in colour (green +, yellow ~, red -). Callers set it only when the
	// output is a terminal and NO_COLOR is unset.
	Color bool
}

const (
	ansiReset  = "\x1b[0m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiRed    = "\x1b[31m"
	ansiBold   = "\x1b[1m"
)

// Text writes the plan for a terminal, in the manner of terraform plan: the files read, the
// realm, a legend of the symbols used, each change with its differences and its meaning in
// CodeMie, warnings, notes, and the summary line (or the no-changes sentence). Values reach the
// terminal through escape.Text or strconv.Quote, so none can write a control sequence or a line
// of its own.
func Text(w io.Writer, p *plan.Plan, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	paint := func(code, s string) string {
		if !opts.Color {
			return s
		}
		return code + s + ansiReset
	}
	symbol := func(a plan.Action) string {
		code := ansiRed
		switch a {
		case plan.Create:
			code = ansiGreen
		case plan.Update, plan.Rename:
			code = ansiYellow
		}
		return paint(code, a.Symbol())
	}

	if len(p.Files) > 0 {
		fmt.Fprintf(bw, "Read %s\n\n", escape.Text(strings.Join(p.Files, ", ")))
	}
	if p.HasChanges() {
		fmt.Fprintf(bw, "roster will perform the following actions in realm %q:\n\n", p.Realm)
		fmt.Fprintln(bw, "Changes are marked with these symbols:")
		for _, a := range usedActions(p) {
			fmt.Fprintf(bw, "  %s %s\n", symbol(a), a.Description())
		}
		for _, c := range p.Changes {
			fmt.Fprintf(bw, "\n  %s %s\n", symbol(c.Action), header(c))
			for _, l := range body(c) {
				fmt.Fprintf(bw, "      %s\n", l)
			}
		}
		fmt.Fprintln(bw)
	}
	writePrerequisites(bw, p, paint)
	for _, s := range p.Warnings {
		fmt.Fprintf(bw, "%s %s\n", paint(ansiYellow+ansiBold, "Warning:"), escape.Text(s))
	}
	for _, s := range p.Notes {
		fmt.Fprintf(bw, "Note: %s\n", escape.Text(s))
	}
	if len(p.Prerequisites)+len(p.Warnings)+len(p.Notes) > 0 {
		fmt.Fprintln(bw)
	}
	if p.HasChanges() {
		fmt.Fprintln(bw, paint(ansiBold, p.Summary().String()))
	} else {
		fmt.Fprintln(bw, paint(ansiBold, noChangesLine(p)))
	}
	return bw.Flush()
}

// NoChanges writes what apply says for a plan without changes: the failing prerequisites, if
// any, and the no-changes sentence.
func NoChanges(w io.Writer, p *plan.Plan) error {
	bw := bufio.NewWriter(w)
	writePrerequisites(bw, p, func(_, s string) string { return s })
	if len(p.Prerequisites) > 0 {
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, noChangesLine(p))
	return bw.Flush()
}

func writePrerequisites(w io.Writer, p *plan.Plan, paint func(code, s string) string) {
	for _, pr := range p.Prerequisites {
		label := paint(ansiYellow+ansiBold, "Warning:")
		if pr.Error {
			label = paint(ansiRed+ansiBold, "Error:")
		}
		fmt.Fprintf(w, "%s %s\n  To fix: %s\n", label, escape.Text(pr.Problem), escape.Text(pr.Fix))
	}
}

// noChangesLine is the last line of a plan without changes.
func noChangesLine(p *plan.Plan) string {
	if n := p.Failing(); n > 0 {
		return noChangesFailing(n)
	}
	return noChanges
}
