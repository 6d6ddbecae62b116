package render

import (
	"fmt"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/plan"
)

// Sentences shared by the human renderers.
const (
	noChanges = "No changes. The realm matches the configuration."
	sensitive = "(sensitive)"
)

// body returns the lines shown under a change's header, without indentation: the fields, the
// reason and the CodeMie meaning. Each line has gone through escape.Text: values quoted with
// strconv.Quote are safe already, but project names in the CodeMie meaning and the reason are
// not.
func body(c plan.Change) []string {
	var lines []string
	for _, f := range c.Fields {
		switch {
		case f.Sensitive && f.Source != "":
			lines = append(lines, fmt.Sprintf("%s: %s from %s", f.Name, sensitive, f.Source))
		case f.Sensitive:
			lines = append(lines, fmt.Sprintf("%s: %s", f.Name, sensitive))
		case c.Action == plan.Create:
			lines = append(lines, fmt.Sprintf("%s: %s", f.Name, display(f.After)))
		default:
			lines = append(lines, fmt.Sprintf("%s: %s → %s", f.Name, display(f.Before), display(f.After)))
		}
	}
	if c.Reason != "" {
		lines = append(lines, "# "+c.Reason)
	}
	if c.Access != nil {
		lines = append(lines, "# CodeMie: "+c.Access.String())
	}
	for i, l := range lines {
		lines[i] = escape.Text(l)
	}
	return lines
}

// header is the line that names a change, without its action mark.
func header(c plan.Change) string { return escape.Text(c.Addr.Display()) }

// usedActions returns the actions the plan uses, in legend order.
func usedActions(p *plan.Plan) []plan.Action {
	var used []plan.Action
	for _, a := range []plan.Action{plan.Create, plan.Rename, plan.Update, plan.Disable, plan.Delete} {
		for _, c := range p.Changes {
			if c.Action == a {
				used = append(used, a)
				break
			}
		}
	}
	return used
}

// removals counts the Disable and Delete changes.
func removals(p *plan.Plan) (disabled, deleted int) {
	for _, c := range p.Changes {
		switch c.Action {
		case plan.Disable:
			disabled++
		case plan.Delete:
			deleted++
		}
	}
	return disabled, deleted
}

// count is "1 user" or "n users" for noun "user".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// noChangesFailing is the no-changes sentence when prerequisites fail: the realm's users match
// the files, but CodeMie does not read them as declared.
func noChangesFailing(n int) string {
	s := "s fail"
	if n == 1 {
		s = " fails"
	}
	return fmt.Sprintf("No changes to make, but CodeMie will not read the access the configuration declares: %d prerequisite%s.", n, s)
}
