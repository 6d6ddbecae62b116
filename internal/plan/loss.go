package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// AccessLoss is what one user loses in CodeMie through a plan.
type AccessLoss struct {
	// User is the username.
	User string
	// Lost says what, in CodeMie's words: "sign-in", "the admin role",
	// "projects payments-ai, search-ai", "Project Admin of payments-ai".
	Lost []string
}

// String is the loss as one line; printed through escape.Text, hostile project names cannot
// break it.
func (l AccessLoss) String() string {
	return fmt.Sprintf("user %q loses %s", l.User, strings.Join(l.Lost, "; "))
}

// accessGuard refuses a plan in which more users lose access than settings.maxAccessLosses
// allows: users who keep their account but
// lose sign-in, the admin role, a project or Project Admin rights. (Removed users are the
// mass-removal guard's.) A lost file of teams takes grants from every member at once without
// removing anyone; this guard stops it.
func (b *builder) accessGuard(changes []Change, opts Options) error {
	if opts.AllowMassRemoval {
		return nil
	}
	var losses []AccessLoss
	for _, c := range changes {
		if c.Access == nil || c.Action.IsRemoval() {
			continue
		}
		if lost := accessLost(*c.Access); len(lost) > 0 {
			losses = append(losses, AccessLoss{User: c.Addr.Name, Lost: lost})
		}
	}
	if len(losses) <= b.cfg.Settings.MaxAccessLosses {
		return nil
	}
	slices.SortFunc(losses, func(x, y AccessLoss) int { return strings.Compare(x.User, y.User) })
	return &AccessLossError{Losses: losses, MaxLosses: b.cfg.Settings.MaxAccessLosses}
}

// accessLost lists what the change takes away in CodeMie; nil when it takes nothing.
func accessLost(a AccessChange) []string {
	before, after := a.Before, a.After
	if u := cmp.Or(before.Unknown, after.Unknown); u != "" {
		// Nothing proves that the change takes nothing away: count it, so that a realm whose
		// mappers roster cannot read through cannot switch the guard off.
		return []string{"what CodeMie reads, which roster cannot predict (" + u + ")"}
	}
	if before.Role == "" || before.Disabled {
		// Cannot sign in today: only grants can be lost.
		before.Role = ""
	}
	if after.Role == model.RoleAdmin && !after.Disabled {
		return nil // an Admin opens every project
	}
	var lost []string
	switch {
	case before.Role != "" && (after.Role == "" || after.Disabled):
		lost = append(lost, "sign-in")
	case before.Role == model.RoleAdmin && after.Role != model.RoleAdmin:
		lost = append(lost, "the admin role")
	}
	lostAdmin := missing(before.Admin, after.Admin)
	// A project lost altogether that the user administered is named once, as Project Admin.
	if p := missing(missing(before.Projects, after.Projects), lostAdmin); len(p) > 0 {
		lost = append(lost, "projects "+strings.Join(p, ", "))
	}
	if len(lostAdmin) > 0 {
		lost = append(lost, "Project Admin of "+strings.Join(lostAdmin, ", "))
	}
	if !before.External && after.External {
		lost = append(lost, "full membership (becomes External User)")
	}
	return lost
}

// missing returns the items of have that want lacks.
func missing(have, want []string) []string {
	var out []string
	for _, s := range have {
		if !slices.Contains(want, s) {
			out = append(out, s)
		}
	}
	return out
}
