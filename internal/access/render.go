package access

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/output"
)

// UserJSON is one user's access in JSON.
type UserJSON struct {
	Username string `json:"username"`
	// Role is admin, developer, or "" for none.
	Role string `json:"role"`
	// CodeMie is model.Access.Summary: "Admin", "Project Admin (a); Regular User (b)", …
	CodeMie   string   `json:"codemie"`
	CanSignIn bool     `json:"can_sign_in"`
	External  bool     `json:"external"`
	Disabled  bool     `json:"disabled"`
	Admin     []string `json:"admin"`
	Member    []string `json:"member"`
}

// ProjectJSON is a project's view in JSON.
type ProjectJSON struct {
	Name           string   `json:"name"`
	PlatformAdmins []string `json:"platform_admins"`
	Admins         []string `json:"admins"`
	Members        []string `json:"members"`
	External       []string `json:"external"`
	CannotSignIn   []string `json:"cannot_sign_in"`
}

// DifferenceJSON is a Difference in JSON; a side is null where the user is missing.
type DifferenceJSON struct {
	Username string    `json:"username"`
	File     *UserJSON `json:"file"`
	Live     *UserJSON `json:"live"`
}

// Document is the JSON output; exactly one of Users, Project and Differences is set.
type Document struct {
	FormatVersion string           `json:"format_version"`
	Source        Source           `json:"source"`
	Realm         string           `json:"realm"`
	Users         []UserJSON       `json:"users,omitempty"`
	Project       *ProjectJSON     `json:"project,omitempty"`
	Differences   []DifferenceJSON `json:"differences,omitempty"`
}

// UsersDocument is the JSON of a list of rows (a realm or one user).
func UsersDocument(src Source, realm string, rows []Row) Document {
	d := Document{FormatVersion: output.AccessDocument.Version(), Source: src, Realm: realm, Users: []UserJSON{}}
	for _, r := range rows {
		d.Users = append(d.Users, userJSON(r.Username, r.Access))
	}
	return d
}

// ProjectDocument is the JSON of a project's view.
func ProjectDocument(src Source, realm string, p Project) Document {
	return Document{FormatVersion: output.AccessDocument.Version(), Source: src, Realm: realm, Project: &ProjectJSON{
		Name: p.Name, PlatformAdmins: nonNil(p.PlatformAdmins), Admins: nonNil(p.Admins), Members: nonNil(p.Members),
		External: nonNil(p.External), CannotSignIn: nonNil(p.CannotSignIn),
	}}
}

// DiffDocument is the JSON of Diff's result; its source is "diff".
func DiffDocument(realm string, diffs []Difference) Document {
	d := Document{FormatVersion: output.AccessDocument.Version(), Source: "diff", Realm: realm, Differences: []DifferenceJSON{}}
	for _, x := range diffs {
		dj := DifferenceJSON{Username: x.Username}
		if x.File != nil {
			u := userJSON(x.Username, *x.File)
			dj.File = &u
		}
		if x.Live != nil {
			u := userJSON(x.Username, *x.Live)
			dj.Live = &u
		}
		d.Differences = append(d.Differences, dj)
	}
	return d
}

// User is one user's access in JSON.
func User(name string, a model.Access) UserJSON { return userJSON(name, a) }

func userJSON(name string, a model.Access) UserJSON {
	return UserJSON{
		Username: name, Role: string(a.Role), CodeMie: a.Summary(), CanSignIn: CanSignIn(a),
		External: a.External, Disabled: a.Disabled, Admin: nonNil(a.Admin), Member: nonNil(a.MemberOnly()),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteJSON writes d indented, with a final newline.
func WriteJSON(w io.Writer, d Document) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// The text views pass every username, project name and access summary through escape.Text: a
// value cannot end a line, add a column or act on the terminal.

// WriteTable writes one line per user: USER and CODEMIE (the access in CodeMie's terms).
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tCODEMIE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\n", escape.Text(r.Username), escape.Text(r.Access.Summary()))
	}
	return tw.Flush()
}

// WriteUser writes one user's access, a field per line.
func WriteUser(w io.Writer, r Row) error {
	a := r.Access
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "user:\t%s\n", escape.Text(r.Username))
	fmt.Fprintf(tw, "CodeMie:\t%s\n", escape.Text(a.Summary()))
	fmt.Fprintf(tw, "role:\t%s\n", orNone([]string{string(a.Role)}))
	fmt.Fprintf(tw, "administers:\t%s\n", orNone(a.Admin))
	fmt.Fprintf(tw, "member of:\t%s\n", orNone(a.MemberOnly()))
	fmt.Fprintf(tw, "external:\t%s\n", yesNo(a.External))
	fmt.Fprintf(tw, "enabled:\t%s\n", enabled(r))
	return tw.Flush()
}

func enabled(r Row) string {
	if r.EnabledUnknown {
		return "yes (the files leave it alone)"
	}
	return yesNo(!r.Access.Disabled)
}

// WriteProject writes who administers and uses a project.
func WriteProject(w io.Writer, p Project) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "project:\t%s\n", escape.Text(p.Name))
	fmt.Fprintf(tw, "Admins (every project):\t%s\n", orNone(p.PlatformAdmins))
	fmt.Fprintf(tw, "Project Admins:\t%s\n", orNone(markExternal(p.Admins, p.External)))
	fmt.Fprintf(tw, "Regular Users:\t%s\n", orNone(markExternal(p.Members, p.External)))
	if len(p.CannotSignIn) > 0 {
		fmt.Fprintf(tw, "named, cannot sign in:\t%s\n", escape.Text(strings.Join(p.CannotSignIn, ", ")))
	}
	return tw.Flush()
}

func markExternal(names, external []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		for _, e := range external {
			if e == n {
				out[i] += " (External User)"
			}
		}
	}
	return out
}

// WriteDiff writes the users whose access differs, the files' side and the realm's, and a last
// line saying how many.
func WriteDiff(w io.Writer, diffs []Difference) error {
	if len(diffs) == 0 {
		_, err := fmt.Fprintln(w, "No differences: the realm grants what the files say.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tFILES\tREALM")
	for _, d := range diffs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", escape.Text(d.Username), side(d.File, "(not declared)"), side(d.Live, "(not in the realm)"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	noun, verb := "users", "differ"
	if len(diffs) == 1 {
		noun, verb = "user", "differs"
	}
	_, err := fmt.Fprintf(w, "\n%d %s %s in access between the files and the realm.\n", len(diffs), noun, verb)
	return err
}

func side(a *model.Access, missing string) string {
	if a == nil {
		return missing
	}
	return escape.Text(a.Summary())
}

func orNone(s []string) string {
	if len(s) == 0 || len(s) == 1 && s[0] == "" {
		return "(none)"
	}
	return escape.Text(strings.Join(s, ", "))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
