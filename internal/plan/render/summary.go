package render

import (
	"fmt"
	"slices"
	"strings"

	codemie "github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// MaxSummaryNames is how many users one line of the access summary names before it says how
// many more there are.
const MaxSummaryNames = 20

// maxSummaryLine is about the most bytes of names one line of the access summary holds.
const maxSummaryLine = 2000

// accessKind is one line of the access summary: a kind of change in what CodeMie grants.
type accessKind int

const (
	gainSignIn accessKind = iota
	loseSignIn
	gainAdmin
	loseAdmin
	gainProjectAdmin
	loseProjectAdmin
	joinProject
	leaveProject
	becomeExternal
	stopExternal
	disabled
	deleted
	accessKinds
)

// accessLabels lead the lines, in the words of CodeMie's roles overview.
var accessLabels = [accessKinds]string{
	gainSignIn:       "Can sign in",
	loseSignIn:       "Can no longer sign in",
	gainAdmin:        "Become Admin",
	loseAdmin:        "No longer Admin",
	gainProjectAdmin: "Become Project Admin",
	loseProjectAdmin: "No longer Project Admin (still members)",
	joinProject:      "Become members",
	leaveProject:     "Lose membership",
	becomeExternal:   "Become External Users",
	stopExternal:     "No longer External Users",
	disabled:         "Disabled",
	deleted:          "Deleted",
}

// projectKinds are the lines that group their users by project.
func (k accessKind) byProject() bool {
	return k == gainProjectAdmin || k == loseProjectAdmin || k == joinProject || k == leaveProject
}

// accessSummary is who gains or loses what in CodeMie: for each kind, the usernames (for the
// project kinds, by project), in plan order.
type accessSummary struct {
	users    [accessKinds][]string
	projects [accessKinds]map[string][]string
	// any is true when some user's access changes.
	any bool
}

func (s *accessSummary) add(k accessKind, user string) {
	s.users[k] = append(s.users[k], user)
	s.any = true
}

func (s *accessSummary) addProject(k accessKind, project, user string) {
	if s.projects[k] == nil {
		s.projects[k] = map[string][]string{}
	}
	s.projects[k][project] = append(s.projects[k][project], user)
	s.any = true
}

// summarize reads the CodeMie meaning of every user change. A removed user (prune) counts only
// as disabled or deleted, a user the files disable only as disabled, a user who can no longer
// sign in only as that. A platform Admin opens every
// project, so for a user who is an Admin before or after, project changes are not listed.
// Membership counts every project a user opens; becoming Project Admin of a project is not also
// listed as joining it.
func summarize(p *plan.Plan) accessSummary {
	var s accessSummary
	for _, c := range p.Changes {
		if c.Access == nil {
			continue
		}
		name := c.Addr.Name
		switch c.Action {
		case plan.Disable:
			s.add(disabled, name)
			continue
		case plan.Delete:
			s.add(deleted, name)
			continue
		}
		b, a := c.Access.Before, c.Access.After
		bs, as := codemie.CanSignIn(b), codemie.CanSignIn(a)
		switch {
		case !bs && as:
			s.add(gainSignIn, name)
		case bs && a.Disabled:
			s.add(disabled, name)
		case bs && !as:
			s.add(loseSignIn, name)
		}
		if !as {
			continue // losing sign-in says all; nothing else is granted
		}
		ba, aa := bs && b.Role == model.RoleAdmin, as && a.Role == model.RoleAdmin
		switch {
		case !ba && aa:
			s.add(gainAdmin, name)
		case ba && !aa:
			s.add(loseAdmin, name)
		}
		if ba || aa {
			continue
		}
		var bp, bAdm []string
		if bs {
			bp, bAdm = b.Projects, b.Admin
		}
		ap, aAdm := a.Projects, a.Admin
		for _, pr := range aAdm {
			if !slices.Contains(bAdm, pr) {
				s.addProject(gainProjectAdmin, pr, name)
			}
		}
		for _, pr := range bAdm {
			if !slices.Contains(aAdm, pr) && slices.Contains(ap, pr) {
				s.addProject(loseProjectAdmin, pr, name)
			}
		}
		for _, pr := range ap {
			if !slices.Contains(bp, pr) && !slices.Contains(aAdm, pr) {
				s.addProject(joinProject, pr, name)
			}
		}
		for _, pr := range bp {
			if !slices.Contains(ap, pr) {
				s.addProject(leaveProject, pr, name)
			}
		}
		switch {
		case a.External && !(bs && b.External):
			s.add(becomeExternal, name)
		case bs && b.External && !a.External:
			s.add(stopExternal, name)
		}
	}
	return s
}

// markdownLines are the summary's list items: "**Become Admin** (1): `alice`", and for the
// project kinds "**Become members** (3): `codemie`: `bob`, `carol`; `search-ai`: `dave`". Each
// line names at most MaxSummaryNames users, and stops sooner when its names pass
// maxSummaryLine bytes (names may be long), then says "and N more"; so the summary never
// crowds the plan out of the comment. Names and projects are set in code spans (escape.Code),
// so no value can add markup.
func (s accessSummary) markdownLines() []string {
	var lines []string
	for k := range accessKinds {
		// entries are the line's users in order, each with its project for the project kinds.
		type entry struct{ project, user string }
		var entries []entry
		if k.byProject() {
			projects := make([]string, 0, len(s.projects[k]))
			for pr := range s.projects[k] {
				projects = append(projects, pr)
			}
			slices.Sort(projects)
			for _, pr := range projects {
				for _, u := range s.projects[k][pr] {
					entries = append(entries, entry{pr, u})
				}
			}
		} else {
			for _, u := range s.users[k] {
				entries = append(entries, entry{user: u})
			}
		}
		if len(entries) == 0 {
			continue
		}
		var b strings.Builder
		shown := 0
		for i, e := range entries {
			if shown == MaxSummaryNames || b.Len() > maxSummaryLine {
				break
			}
			switch {
			case i > 0 && e.project != entries[i-1].project:
				b.WriteString("; " + escape.Code(e.project) + ": ")
			case i > 0:
				b.WriteString(", ")
			case e.project != "":
				b.WriteString(escape.Code(e.project) + ": ")
			}
			b.WriteString(escape.Code(e.user))
			shown++
		}
		lines = append(lines, fmt.Sprintf("**%s** (%d): %s%s", accessLabels[k], len(entries), b.String(), more(len(entries)-shown)))
	}
	return lines
}

func more(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n)
}
