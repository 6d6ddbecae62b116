package access

import (
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// Source says where rows come from.
type Source string

const (
	SourceFile Source = "file" // the desired-state files
	SourceLive Source = "live" // the Keycloak realm
)

// Row is one user's effective CodeMie access.
type Row struct {
	Username string
	Access   model.Access
	// EnabledUnknown is true for a file user whose file leaves enabled alone: Access.Disabled
	// is then false (a new user is enabled), and Diff takes the realm's value.
	EnabledUnknown bool
}

// FromConfig returns the access the files grant, by username.
func FromConfig(cfg *model.Config) []Row {
	rows := make([]Row, 0, len(cfg.Users))
	for _, u := range cfg.Users {
		a := u.Access
		a.Disabled = u.Enabled != nil && !*u.Enabled
		rows = append(rows, Row{Username: u.Username, Access: a, EnabledUnknown: u.Enabled == nil})
	}
	return sortRows(rows)
}

// FromLive returns the access the realm grants, by username; service accounts are left out.
func FromLive(live *model.Live) []Row {
	rows := make([]Row, 0, len(live.Users))
	for _, u := range live.Users {
		if !u.IsServiceAccount() {
			rows = append(rows, Row{Username: u.Username, Access: live.Access(u)})
		}
	}
	return sortRows(rows)
}

func sortRows(rows []Row) []Row {
	slices.SortFunc(rows, func(a, b Row) int { return strings.Compare(a.Username, b.Username) })
	return rows
}

// Find returns the row of username (ignoring case).
func Find(rows []Row, username string) (Row, bool) {
	i := slices.IndexFunc(rows, func(r Row) bool { return strings.EqualFold(r.Username, username) })
	if i < 0 {
		return Row{}, false
	}
	return rows[i], true
}

// CanSignIn reports whether CodeMie lets the user in at all.
func CanSignIn(a model.Access) bool {
	return a.Role != "" && !a.Disabled && a.Refused == "" && a.Unknown == ""
}

// Project is who can do what in one project.
type Project struct {
	Name string
	// PlatformAdmins hold the admin role: they administer every project.
	PlatformAdmins []string
	// Admins are the Project Admins: the project is in their applications_admin.
	Admins []string
	// Members are the Regular Users: the project is only in their applications.
	Members []string
	// External are the External Users among Admins and Members.
	External []string
	// CannotSignIn name the project but have no role, are disabled, or are refused by CodeMie:
	// they get nothing.
	CannotSignIn []string
}

// ForProject computes a project's view from rows.
func ForProject(rows []Row, name string) Project {
	p := Project{Name: name}
	for _, r := range rows {
		a := r.Access
		has := slices.Contains(a.Projects, name) || slices.Contains(a.Admin, name)
		switch {
		case a.Role == model.RoleAdmin && !a.Disabled:
			p.PlatformAdmins = append(p.PlatformAdmins, r.Username)
			continue
		case !has:
			continue
		case !CanSignIn(a):
			p.CannotSignIn = append(p.CannotSignIn, r.Username)
			continue
		case slices.Contains(a.Admin, name):
			p.Admins = append(p.Admins, r.Username)
		default:
			p.Members = append(p.Members, r.Username)
		}
		if a.External {
			p.External = append(p.External, r.Username)
		}
	}
	return p
}

// Difference is a user whose access differs between the files and the realm. File is nil for a
// user the files do not declare, Live for one the realm does not have.
type Difference struct {
	Username string
	File     *model.Access
	Live     *model.Access
}

// Diff lists the users whose effective access differs between file and live rows, by username:
// declared users whose access differs or who are missing from the realm, and undeclared users
// who can sign in. A file user that leaves enabled alone is compared with the realm's enabled.
func Diff(file, live []Row) []Difference {
	var out []Difference
	liveBy := make(map[string]Row, len(live))
	for _, r := range live {
		liveBy[strings.ToLower(r.Username)] = r
	}
	declared := make(map[string]bool, len(file))
	for _, f := range file {
		key := strings.ToLower(f.Username)
		declared[key] = true
		fa := f.Access
		l, ok := liveBy[key]
		if !ok {
			out = append(out, Difference{Username: f.Username, File: &fa})
			continue
		}
		la := l.Access
		if f.EnabledUnknown {
			fa.Disabled = la.Disabled
		}
		if !fa.Equal(la) {
			out = append(out, Difference{Username: f.Username, File: &fa, Live: &la})
		}
	}
	for _, l := range live {
		if la := l.Access; !declared[strings.ToLower(l.Username)] && CanSignIn(la) {
			out = append(out, Difference{Username: l.Username, Live: &la})
		}
	}
	slices.SortFunc(out, func(a, b Difference) int { return strings.Compare(a.Username, b.Username) })
	return out
}
