package model

import (
	"fmt"
	"slices"
	"strings"
)

// The user attributes CodeMie reads.
const (
	AttrApplications      = "applications"
	AttrApplicationsAdmin = "applications_admin"
	AttrUserType          = "user_type"
)

// CodeMieAttributes are the user attributes CodeMie reads, in the order roster shows them. Each
// call returns a new slice.
func CodeMieAttributes() []string {
	return []string{AttrApplications, AttrApplicationsAdmin, AttrUserType}
}

// IsCodeMieAttribute reports whether name is one of CodeMieAttributes in any letter case: roster
// writes those from projects and external, and keeps names that differ from them only in case
// out of the files and exports, so that nobody mistakes one for the other.
func IsCodeMieAttribute(name string) bool {
	return slices.ContainsFunc(CodeMieAttributes(), func(a string) bool { return strings.EqualFold(a, name) })
}

// UserTypeExternal is the user_type value that makes a user an External User in CodeMie.
const UserTypeExternal = "external"

// Access is what CodeMie grants a user, derived from the same inputs CodeMie reads: the realm
// role and the applications / applications_admin / user_type attributes.
//
// Invariants (established by NewAccess and DecodeAccess): both project lists are lowercase,
// sorted and free of duplicates, and every project in Admin is also in Projects.
type Access struct {
	// Role is the owned realm role; empty means the user cannot sign in.
	Role Role
	// Projects are all projects the user can open (CodeMie's applications), admin ones included.
	Projects []string
	// Admin are the projects the user administers (CodeMie's applications_admin).
	Admin []string
	// External is true for a guest (user_type=external).
	External bool
	// ServiceAccount is true for user_type=service_account, which CodeMie accepts for API
	// clients' service-account users.
	ServiceAccount bool
	// Refused, when not empty, says why CodeMie answers the user's sign-in with 401 whatever
	// else holds (a user_type it does not accept).
	Refused string
	// Unknown, when not empty, says why roster cannot tell what CodeMie reads for the user.
	Unknown string
	// Disabled is true for a disabled Keycloak user, who cannot sign in whatever else holds.
	Disabled bool
}

// NewAccess merges grants into an Access.
func NewAccess(role Role, external bool, grants ...Grants) Access {
	var member, admin []string
	for _, g := range grants {
		member = append(member, g.Member...)
		admin = append(admin, g.Admin...)
	}
	admin = NormalizeProjects(admin)
	return Access{
		Role:     role,
		Projects: NormalizeProjects(append(member, admin...)),
		Admin:    admin,
		External: external,
	}
}

// NormalizeProjects lowercases, trims, sorts and de-duplicates project names, dropping empty ones.
// It returns nil for an empty result.
func NormalizeProjects(names []string) []string {
	var out []string
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// EncodeProjects is the one encoding roster writes: a single comma-joined value, or no value at
// all for an empty list (the attribute is then removed).
func EncodeProjects(projects []string) []string {
	if len(projects) == 0 {
		return nil
	}
	return []string{strings.Join(projects, ",")}
}

// Attributes returns the CodeMie attributes exactly as roster writes them for this access. A nil
// value means the attribute is absent.
func (a Access) Attributes() map[string][]string {
	m := map[string][]string{
		AttrApplications:      EncodeProjects(a.Projects),
		AttrApplicationsAdmin: EncodeProjects(a.Admin),
		AttrUserType:          nil,
	}
	if a.External {
		m[AttrUserType] = []string{UserTypeExternal}
	}
	return m
}

// Equal reports whether two accesses grant the same.
func (a Access) Equal(b Access) bool {
	return a.Role == b.Role && a.External == b.External && a.ServiceAccount == b.ServiceAccount &&
		a.Refused == b.Refused && a.Unknown == b.Unknown && a.Disabled == b.Disabled &&
		slices.Equal(a.Projects, b.Projects) && slices.Equal(a.Admin, b.Admin)
}

// Summary says in CodeMie's terms what the access grants, using the roles of CodeMie's roles
// overview: "cannot sign in", "cannot sign in (disabled)", "cannot sign in: CodeMie refuses
// user_type \"guest\"", "Admin", "Project Admin (a, b)", "Regular User (c)",
// "Project Admin (a); Regular User (c)", "Regular User (no projects)"; an External User gets the
// prefix "External User: ", a service account "Service Account: ". A project administered but
// missing from applications is marked "(not in applications)": CodeMie leaves it out of the
// user's project list.
func (a Access) Summary() string {
	var s string
	switch {
	case a.Unknown != "":
		return "unknown: " + a.Unknown
	case a.Disabled:
		return "cannot sign in (disabled)"
	case a.Refused != "":
		return "cannot sign in: " + a.Refused
	case a.Role == "":
		return "cannot sign in"
	case a.Role == RoleAdmin:
		s = "Admin"
	default:
		var parts []string
		if len(a.Admin) > 0 {
			names := make([]string, 0, len(a.Admin))
			for _, p := range a.Admin {
				if !slices.Contains(a.Projects, p) {
					p += " (not in applications)"
				}
				names = append(names, p)
			}
			parts = append(parts, fmt.Sprintf("Project Admin (%s)", strings.Join(names, ", ")))
		}
		if member := a.MemberOnly(); len(member) > 0 {
			parts = append(parts, fmt.Sprintf("Regular User (%s)", strings.Join(member, ", ")))
		}
		if len(parts) == 0 {
			parts = append(parts, "Regular User (no projects)")
		}
		s = strings.Join(parts, "; ")
	}
	switch {
	case a.External:
		s = "External User: " + s
	case a.ServiceAccount:
		s = "Service Account: " + s
	}
	return s
}

// MemberOnly returns the projects the user opens but does not administer.
func (a Access) MemberOnly() []string {
	var out []string
	for _, p := range a.Projects {
		if !slices.Contains(a.Admin, p) {
			out = append(out, p)
		}
	}
	return out
}
