package export

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/model"
)

// Options choose what Build exports and what the header says.
type Options struct {
	// Roles keeps only users holding one of these owned roles; nil keeps every role.
	Roles []model.Role
	// Projects keeps only users who open one of these projects (lowercase); nil keeps all.
	Projects []string
	// Adopt declares the ownership marker (OwnerAttribute: ["true"]) on every exported user, so
	// that the next apply marks them and prune may act on them once they leave the files.
	Adopt bool
	// OwnerAttribute is the ownership marker's name; empty means model.DefaultOwnerAttribute.
	OwnerAttribute string
	// Server is the server's URL, named in the header.
	Server string
	// Time is when the realm was read, named in the header.
	Time time.Time
}

// Export is the selection Build made: the users to write and those it left out.
type Export struct {
	live  *model.Live
	opts  Options
	owner string
	// Users are the exported users, sorted by username.
	Users []User
	// ServiceAccounts counts the clients' service accounts left out.
	ServiceAccounts int
	// Storage counts the users from a user-storage provider (LDAP, …) left out.
	Storage int
	// NoRole are the users left out because they hold neither admin nor developer, sorted.
	NoRole []string
	// NotSelected counts the users --role or --project left out.
	NotSelected int
	// Warnings name the exported users whose live state CodeMie reads differently from how the
	// export can declare it, in username order.
	Warnings []Warning
}

// Warning is an exported user CodeMie reads differently from the export's declaration.
type Warning struct {
	Username string
	// Message says what CodeMie reads today, what it would read once the export is applied,
	// and why they differ.
	Message string
}

// declare returns the access the format can declare for a user CodeMie reads as a and who holds
// role, and, when CodeMie would read that declaration differently once applied, why.
func (e *Export) declare(lu *model.LiveUser, a model.Access, role model.Role) (model.Access, string) {
	admin := model.NormalizeProjects(a.Admin)
	d := model.NewAccess(role, a.External, model.Grants{Member: a.Projects, Admin: admin})
	enabled := lu.Enabled && a.Refused == ""
	d.Disabled = !enabled
	var why []string
	if role != a.Role && a.Unknown == "" {
		why = append(why, e.roleUnread(role))
	}
	if a.Refused != "" {
		why = append(why, a.Refused+"; exported with enabled: false so that apply keeps them out")
	}
	if a.Unknown != "" {
		why = append(why, "roster cannot tell what CodeMie reads: "+a.Unknown)
	}
	if a.ServiceAccount {
		why = append(why, "user_type service_account cannot be declared; apply would remove it")
	}
	if slices.ContainsFunc(a.Admin, func(p string) bool { return !slices.Contains(a.Projects, p) }) {
		why = append(why, "an administered project is missing from applications; apply adds it there")
	}
	if hasUpper(a.Projects) || hasUpper(a.Admin) {
		why = append(why, "project names with upper case are exported lowercase, which CodeMie reads as other projects")
	}
	if len(why) == 0 {
		if read := e.live.CodeMie.ReadStored(e.live.Mapping(), []model.Role{d.Role}, d.Attributes(), enabled); !read.Equal(a) {
			why = append(why, "the realm's token mappers make CodeMie read the exported declaration differently")
		}
	}
	if len(why) == 0 {
		return d, ""
	}
	read := e.live.CodeMie.ReadStored(e.live.Mapping(), []model.Role{d.Role}, d.Attributes(), enabled)
	return d, fmt.Sprintf("CodeMie reads %q today, the export declares what it would read as %q: %s",
		a.Summary(), read.Summary(), strings.Join(why, "; "))
}

func hasUpper(names []string) bool {
	return slices.ContainsFunc(names, func(p string) bool { return strings.ToLower(p) != p })
}

// User is one exported user.
type User struct {
	Live *model.LiveUser
	// Access is CodeMie's reading of the user today.
	Access model.Access
	// Declared is the access the export declares: Access as the format can say it (project
	// names lowercase, administered projects also opened, no service_account). A user CodeMie
	// refuses today is declared disabled, so that apply does not let them in.
	Declared model.Access
	// Misread, when not empty, says how CodeMie would read the declaration differently from
	// today: export comments the user, and Warnings repeats it.
	Misread string
	// Attributes are the attributes written verbatim (CodeMie's, the marker and user fields
	// excluded); Dropped says why others were left out, by name.
	Attributes map[string][]string
	Dropped    map[string]string
}

// maxAttrValueLen is Keycloak's default cap on one attribute value, which the loader enforces.
const maxAttrValueLen = 2048

// Build selects the users to export from live.
func Build(live *model.Live, opts Options) *Export {
	e := &Export{live: live, opts: opts, owner: cmp.Or(opts.OwnerAttribute, model.DefaultOwnerAttribute)}
	for i := range live.Users {
		lu := &live.Users[i]
		a := live.Access(*lu)
		role := declaredRole(lu)
		switch {
		case lu.IsServiceAccount() || strings.EqualFold(lu.Username, live.Identity):
			e.ServiceAccounts++
		case lu.FederationLink != "":
			e.Storage++
		case role == "":
			e.NoRole = append(e.NoRole, lu.Username)
		case !e.selected(role, a):
			e.NotSelected++
		default:
			e.Users = append(e.Users, e.user(lu, a, role))
		}
	}
	slices.SortFunc(e.Users, func(x, y User) int { return strings.Compare(x.Live.Username, y.Live.Username) })
	slices.Sort(e.NoRole)
	return e
}

// declaredRole is the role export declares for a user: the owned role they hold directly that
// CodeMie reads first (admin over developer), whatever CodeMie's client makes of it. A client
// that keeps the role out of its tokens, or a role mapper that renames it, must not make export
// drop or lower a role the user holds, which the next apply would take away; the user's warning
// says what CodeMie reads, and why.
func declaredRole(lu *model.LiveUser) model.Role {
	for _, r := range model.OwnedRoles() { // admin first, as CodeMie reads them
		if slices.Contains(lu.Roles, r) {
			return r
		}
	}
	return ""
}

// roleUnread says why CodeMie does not read role from the tokens of a user who holds it.
func (e *Export) roleUnread(role model.Role) string {
	client := cmp.Or(e.live.CodeMie.ClientID, model.DefaultClientID)
	name := e.live.CodeMie.RoleName(role)
	if p, ok := e.live.Mapping().RoleProblem(client, name); ok {
		return p.Problem
	}
	return fmt.Sprintf("the tokens of client %q do not carry realm role %s", client, name)
}

func (e *Export) selected(role model.Role, a model.Access) bool {
	if len(e.opts.Roles) > 0 && !slices.Contains(e.opts.Roles, role) {
		return false
	}
	if len(e.opts.Projects) > 0 && !slices.ContainsFunc(e.opts.Projects, func(p string) bool { return slices.Contains(a.Projects, p) }) {
		return false
	}
	return true
}

func (e *Export) user(lu *model.LiveUser, a model.Access, role model.Role) User {
	u := User{Live: lu, Access: a, Attributes: map[string][]string{}, Dropped: map[string]string{}}
	u.Declared, u.Misread = e.declare(lu, a, role)
	if u.Misread != "" {
		e.Warnings = append(e.Warnings, Warning{Username: lu.Username, Message: u.Misread})
	}
	for name, vals := range lu.Attributes {
		if why := e.skipAttribute(name, vals); why != "" {
			if why != "-" {
				u.Dropped[name] = why
			}
			continue
		}
		u.Attributes[name] = vals
	}
	if e.opts.Adopt {
		u.Attributes[e.owner] = []string{"true"}
	}
	return u
}

// skipAttribute says why an attribute is not exported verbatim: "-" for those roster writes from
// other fields (no comment needed), a reason for values the format cannot hold, "" to export.
func (e *Export) skipAttribute(name string, vals []string) string {
	lower := strings.ToLower(name)
	switch {
	case name == e.owner:
		return "-"
	case model.IsCodeMieAttribute(name):
		return "-"
	case model.IsUserField(name):
		return "-"
	case lower == "password" || lower == "initialpassword":
		return "it holds a password"
	case len(vals) == 0:
		return "-"
	}
	for _, v := range vals {
		switch {
		case strings.TrimSpace(v) == "":
			return "it has a blank value"
		case len([]rune(v)) > maxAttrValueLen:
			return fmt.Sprintf("it has a value over %d characters", maxAttrValueLen)
		}
	}
	return ""
}

// fileKey is the file of a split export a user goes to: admins, the first project they
// administer, else the first project they open, else no-project.
func fileKey(u User) string {
	switch {
	case u.Declared.Role == model.RoleAdmin:
		return "admins.yaml"
	case len(u.Declared.Admin) > 0:
		return "project-" + u.Declared.Admin[0] + ".yaml"
	case len(u.Declared.Projects) > 0:
		return "project-" + u.Declared.Projects[0] + ".yaml"
	}
	return "no-project.yaml"
}
