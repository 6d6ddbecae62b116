package render

import (
	"fmt"

	"github.com/rosterhq/roster/internal/plan"
)

// Sentences shared by the human renderers.
const (
	noChanges = "No changes. The realm matches the configuration."
	sensitive = "(sensitive)"
)

// body returns the lines shown under a change's header, without indentation: the fields, the
// reason and the CodeMie meaning.
func body(c plan.Change) []string {
	var lines []string
	for _, f := range c.Fields {
		switch {
		case f.Sensitive:
			lines = append(lines, fmt.Sprintf("%s: %s", f.Name, sensitive))
		case c.Action == plan.Create:
			lines = append(lines, fmt.Sprintf("%s: %s", f.Name, f.After))
		default:
			lines = append(lines, fmt.Sprintf("%s: %s → %s", f.Name, f.Before, f.After))
		}
	}
	if c.Reason != "" {
		lines = append(lines, "# "+c.Reason)
	}
	if c.Access != nil {
		lines = append(lines, "# CodeMie: "+c.Access.String())
	}
	return lines
}

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
