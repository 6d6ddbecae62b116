package access

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/escape/escapetest"
	"github.com/rosterhq/roster/internal/model"
)

// TestHostileValuesStayInTheirCells renders a realm whose usernames and project names are
// hostile in every text view of access and checks that no control character survives and that
// each view has exactly the lines it writes: no value starts a line or a column of its own.
func TestHostileValuesStayInTheirCells(t *testing.T) {
	var rows []Row
	var diffs []Difference
	var names []string
	for _, h := range escapetest.Hostile {
		a := model.NewAccess(model.RoleDeveloper, true, model.Grants{Member: []string{h}, Admin: []string{h + " admin"}})
		rows = append(rows, Row{Username: h, Access: a})
		diffs = append(diffs, Difference{Username: h, File: &a})
		names = append(names, h)
	}
	views := []struct {
		name  string
		lines int
		write func(*bytes.Buffer) error
	}{
		{"table", 1 + len(rows), func(b *bytes.Buffer) error { return WriteTable(b, rows) }},
		{"user", 7, func(b *bytes.Buffer) error { return WriteUser(b, rows[0]) }},
		{"project", 5, func(b *bytes.Buffer) error {
			return WriteProject(b, Project{Name: escapetest.Hostile[0], PlatformAdmins: names, Admins: names,
				Members: names, External: names, CannotSignIn: names})
		}},
		{"diff", 1 + len(diffs) + 2, func(b *bytes.Buffer) error { return WriteDiff(b, diffs) }},
	}
	for _, v := range views {
		var b bytes.Buffer
		if err := v.write(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if c := escapetest.Controls(out, false); c != nil {
			t.Errorf("%s: control characters %v in\n%s", v.name, c, out)
		}
		if got := strings.Count(out, "\n"); got != v.lines {
			t.Errorf("%s: %d lines, want %d:\n%s", v.name, got, v.lines, out)
		}
	}
}
