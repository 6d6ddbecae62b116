package views

import (
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
)

// AccessFormats are the formats of roster access; with --verify, text and JSON only.
var AccessFormats = []output.Format{output.Text, output.JSON, output.HTML}

// Access renders access's answer: a table, one user, one project or the differences as text or
// JSON, or the access-review page as HTML.
func Access(w io.Writer, r operation.AccessResult, f output.Format) error {
	if r.Answer == operation.AccessPage {
		return access.WriteHTML(w, r.Page)
	}
	if f == output.JSON {
		return access.WriteJSON(w, accessDocument(r))
	}
	switch r.Answer {
	case operation.AccessDiff:
		return access.WriteDiff(w, r.Diffs)
	case operation.AccessUser:
		return access.WriteUser(w, r.Rows[0])
	case operation.AccessProject:
		return access.WriteProject(w, r.Project)
	case operation.AccessTable:
		return access.WriteTable(w, r.Rows)
	}
	return fmt.Errorf("internal error: no view of access answer %d", r.Answer)
}

func accessDocument(r operation.AccessResult) access.Document {
	switch r.Answer {
	case operation.AccessDiff:
		return access.DiffDocument(r.Realm, r.Diffs)
	case operation.AccessProject:
		return access.ProjectDocument(r.Source, r.Realm, r.Project)
	}
	return access.UsersDocument(r.Source, r.Realm, r.Rows)
}
