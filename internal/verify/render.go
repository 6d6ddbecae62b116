package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/output"
)

// Report is a verification run: the realm, the client, and a result per verified user.
type Report struct {
	Realm  string
	Client string
	// FromFiles is true when the expected access comes from the files, false when from roster's
	// model of the live realm.
	FromFiles bool
	Results   []Result
}

// Failure is the first error that kept a user from being verified, other than the user being
// gone (404): the server became unreachable, or refused a request.
func (r Report) Failure() error {
	for _, x := range r.Results {
		if x.Err != nil && !keycloak.IsNotFound(x.Err) {
			return fmt.Errorf("failed to verify user %q: %w", x.Username, x.Err)
		}
	}
	return nil
}

// Differ returns the results that do not match.
func (r Report) Differ() []Result {
	var out []Result
	for _, x := range r.Results {
		if !x.Match() {
			out = append(out, x)
		}
	}
	return out
}

// says is how a mismatch line introduces roster's side.
func (r Report) says() string {
	if r.FromFiles {
		return "the files say"
	}
	return "roster reads the realm as"
}

// Sides say how one result differs, with both sides: one sentence per reading that differs.
func (r Report) Sides(x Result) []string {
	var out []string
	switch {
	case x.User == nil:
		out = append(out, fmt.Sprintf("%s %s; the realm has no such user", r.says(), x.Want.Summary()))
	case x.Err != nil:
		out = append(out, fmt.Sprintf("could not be verified: %v", x.Err))
	}
	for _, g := range x.Got {
		if !x.Want.Equal(g.Access) {
			out = append(out, fmt.Sprintf("%s %s; %s make%s CodeMie grant %s", r.says(), x.Want.Summary(),
				TokensText(g.Tokens), verbS(g.Tokens), g.Access.Summary()))
		}
	}
	return out
}

// Lines are the mismatch lines of one result: one per reading that differs, with both sides;
// then the causes, each with its fix (a fix said once).
func (r Report) Lines(x Result) []string {
	var lines []string
	for _, s := range r.Sides(x) {
		lines = append(lines, x.Username+": "+s)
	}
	var fixed []string
	for _, c := range x.Causes {
		lines = append(lines, fmt.Sprintf("  cause: %s (%s)", c.Detail, c.Kind))
		if c.Fix != "" && !slices.Contains(fixed, c.Fix) {
			lines = append(lines, "  fix: "+c.Fix)
			fixed = append(fixed, c.Fix)
		}
	}
	return lines
}

func verbS(ts []model.TokenType) string {
	if len(ts) == 1 {
		return "s"
	}
	return ""
}

// Summary is the last line of the text output.
func (r Report) Summary() string {
	n, differ := len(r.Results), len(r.Differ())
	head := fmt.Sprintf("Verified %s through client %q", plural(n, "user"), r.Client)
	switch {
	case differ == 0 && r.FromFiles:
		return head + ": all match; CodeMie grants what the files say."
	case differ == 0:
		return head + ": all match; CodeMie grants what roster reads in the realm."
	case differ == 1:
		return fmt.Sprintf("%s: %d match, 1 differs.", head, n-1)
	}
	return fmt.Sprintf("%s: %d match, %d differ.", head, n-differ, differ)
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteText writes the mismatch lines of every differing user, then the summary. Each line goes
// through escape.Text: usernames, project names, claim values and the client id come from files,
// from users' own attributes and from the server, and must not forge the lines around them.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for _, x := range r.Differ() {
		for _, l := range r.Lines(x) {
			b.WriteString(escape.Text(l) + "\n")
		}
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString(escape.Text(r.Summary()) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Document is the JSON output.
type Document struct {
	FormatVersion string        `json:"format_version"`
	Source        access.Source `json:"source"`
	Realm         string        `json:"realm"`
	Client        string        `json:"client"`
	Users         []UserResult  `json:"users"`
	Summary       struct {
		Verified int `json:"verified"`
		Match    int `json:"match"`
		Differ   int `json:"differ"`
	} `json:"summary"`
}

// UserResult is one user's verification in JSON. Got is empty when the user is not in the realm
// or could not be verified (Error).
type UserResult struct {
	Username string          `json:"username"`
	Match    bool            `json:"match"`
	Want     access.UserJSON `json:"want"`
	Got      []ReadingJSON   `json:"got"`
	Causes   []Cause         `json:"causes"`
	Error    string          `json:"error,omitempty"`
}

// ReadingJSON is a Reading in JSON: the tokens (access, id, userinfo) and what CodeMie grants on
// reading them.
type ReadingJSON struct {
	Tokens []model.TokenType `json:"tokens"`
	Access access.UserJSON   `json:"access"`
}

// JSON is the report as a Document.
func (r Report) JSON() Document {
	d := Document{FormatVersion: output.VerifyDocument.Version(), Source: access.SourceLive, Realm: r.Realm, Client: r.Client, Users: []UserResult{}}
	if r.FromFiles {
		d.Source = access.SourceFile
	}
	for _, x := range r.Results {
		u := UserResult{Username: x.Username, Match: x.Match(), Want: access.User(x.Username, x.Want), Got: []ReadingJSON{},
			Causes: x.Causes}
		if u.Causes == nil {
			u.Causes = []Cause{}
		}
		if x.Err != nil {
			u.Error = x.Err.Error()
		}
		for _, g := range x.Got {
			u.Got = append(u.Got, ReadingJSON{Tokens: g.Tokens, Access: access.User(x.Username, g.Access)})
		}
		d.Users = append(d.Users, u)
		if u.Match {
			d.Summary.Match++
		} else {
			d.Summary.Differ++
		}
	}
	d.Summary.Verified = len(r.Results)
	return d
}

// WriteJSON writes the report's JSON document, indented.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(r.JSON())
}
