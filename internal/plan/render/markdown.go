package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/plan"
)

// MarkdownLimit is the most bytes Markdown writes. GitHub refuses comments over 65,536
// characters; the margin leaves room for what a CI job adds around the comment.
const MarkdownLimit = 60_000

// maxMarkdownNotes is how many notes Markdown lists before it summarises the rest.
const maxMarkdownNotes = 50

// MarkdownOptions tune Markdown.
type MarkdownOptions struct {
	// Warnings are the configuration's warnings (validation's), shown with the plan's own.
	Warnings []diag.Diagnostic
}

// Markdown writes the plan as a pull-request comment a reviewer understands without unfolding
// anything. Visible: the heading, the summary line, every warning (removals first, then the
// plan's, then the configuration's with their positions), and the CodeMie access summary — who
// can or can no longer sign in, becomes or stops being Admin or Project Admin of which
// project, joins or leaves which project, becomes or stops being an External User, is disabled
// or deleted, each line naming at most MaxSummaryNames users and then how many more. The
// changes sit in a collapsed <details> block as a fenced diff, whose + and - lines GitHub
// colours (updates are marked !, which it also highlights); the files read and the notes
// follow. When the comment
// would exceed MarkdownLimit the diff is cut between changes and a line says how many were
// left out.
//
// No value can change that structure: warnings and notes go through escape.Markdown, the
// realm's name, usernames, project names and positions through escape.Code, and the diff's
// lines through escape.Text (in body and diffBlock), inside a fence longer than any run of
// backticks in them.
func Markdown(w io.Writer, p *plan.Plan, opts MarkdownOptions) error {
	var head, tail strings.Builder
	fmt.Fprintf(&head, "## roster plan for realm %s\n\n", escape.Code(p.Realm))
	if !p.HasChanges() {
		fmt.Fprintf(&head, "**%s**\n", noChanges)
	} else {
		fmt.Fprintf(&head, "**%s**\n", p.Summary())
	}
	var warnings []string
	if disabled, deleted := removals(p); disabled+deleted > 0 {
		var parts []string
		if deleted > 0 {
			parts = append(parts, count(deleted, "user")+" deleted")
		}
		if disabled > 0 {
			parts = append(parts, count(disabled, "user")+" disabled")
		}
		warnings = append(warnings, ":warning: **This plan removes users from CodeMie:** "+strings.Join(parts, ", ")+".")
	}
	for _, pr := range p.Prerequisites {
		mark := ":warning: "
		if pr.Error {
			mark = ":x: **Error:** "
		}
		warnings = append(warnings, mark+escape.Markdown(pr.Problem)+". To fix: "+escape.Markdown(pr.Fix))
	}
	for _, s := range p.Warnings {
		warnings = append(warnings, ":warning: "+escape.Markdown(s))
	}
	for _, d := range opts.Warnings {
		msg := d.Message
		if d.Hint != "" {
			msg += "; " + d.Hint
		}
		at := ""
		if pos := d.Pos.String(); pos != "" {
			at = escape.Code(pos) + ": "
		}
		warnings = append(warnings, ":warning: "+at+escape.Markdown(msg))
	}
	for _, s := range warnings {
		fmt.Fprintf(&head, "\n> %s\n", s)
	}
	if p.HasChanges() {
		if sum := summarize(p); sum.any {
			head.WriteString("\n**CodeMie access**\n\n")
			for _, l := range sum.markdownLines() {
				fmt.Fprintf(&head, "- %s\n", l)
			}
		} else {
			head.WriteString("\n**CodeMie access:** no change; no user gains or loses anything in CodeMie.\n")
		}
	}

	if len(p.Files) > 0 {
		files := make([]string, len(p.Files))
		for i, f := range p.Files {
			files[i] = escape.Code(f)
		}
		fmt.Fprintf(&tail, "\nRead %s\n", strings.Join(files, ", "))
	}
	if n := len(p.Notes); n > 0 {
		tail.WriteString("\n**Notes**\n\n")
		for i, s := range p.Notes {
			if i == maxMarkdownNotes {
				fmt.Fprintf(&tail, "- … %d more notes; run roster plan locally to see them\n", n-i)
				break
			}
			fmt.Fprintf(&tail, "- %s\n", escape.Markdown(s))
		}
	}

	var out strings.Builder
	out.WriteString(head.String())
	if p.HasChanges() {
		open := fmt.Sprintf("\n<details><summary>Show %s</summary>\n\n", count(len(p.Changes), "change"))
		closing := "\n\n</details>\n"
		budget := MarkdownLimit - head.Len() - tail.Len() - len(open) - len(closing)
		// The fence outgrows ``` only when a value holds a run of backticks; the diff then
		// gives up the fence's extra length.
		block := diffBlock(p.Changes, budget-len("```diff\n```"))
		if fence := escape.Fence(block); len(fence) > 3 {
			block = diffBlock(p.Changes, budget-len(fence+"diff\n"+fence))
		}
		fence := escape.Fence(block)
		out.WriteString(open)
		out.WriteString(fence + "diff\n" + block + fence)
		out.WriteString(closing)
	}
	out.WriteString(tail.String())
	_, err := io.WriteString(w, out.String())
	return err
}

// diffBlock renders the changes as diff lines in at most budget bytes, cutting between changes
// and ending with a notice when they do not all fit.
func diffBlock(changes []plan.Change, budget int) string {
	var b strings.Builder
	for i, c := range changes {
		mark := c.Action.Symbol()
		if c.Action == plan.Update || c.Action == plan.Rename {
			mark = "!"
		}
		var one strings.Builder
		if i > 0 {
			one.WriteString("\n")
		}
		fmt.Fprintf(&one, "%s %s\n", mark, header(c))
		for _, l := range body(c) {
			fmt.Fprintf(&one, "%s     %s\n", mark, l)
		}
		notice := fmt.Sprintf("\n… %s not shown; run roster plan locally or download the plan artifact\n",
			count(len(changes)-i, "more change"))
		rest := len(changes) - i - 1
		if b.Len()+one.Len() > budget-len(notice) && (rest > 0 || b.Len()+one.Len() > budget) {
			b.WriteString(notice)
			break
		}
		b.WriteString(one.String())
	}
	return b.String()
}
