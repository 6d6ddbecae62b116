package apply

import (
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/escape/escapetest"
	"github.com/rosterhq/roster/internal/plan"
)

// TestReportLinesCannotBeForged renders the report line of changes whose user name and
// Keycloak message are hostile, failed and not started: each stays one line with no control
// character, so a server's answer cannot write "Apply complete" or clear the terminal.
func TestReportLinesCannotBeForged(t *testing.T) {
	for _, h := range escapetest.Hostile {
		addr := plan.Address{Kind: plan.KindUser, Name: h}
		for _, o := range []Outcome{
			{Addr: addr, Action: plan.Create, Status: Failed, Err: &ChangeError{Addr: addr, Err: errors.New("400 Bad Request: " + h)}},
			{Addr: addr, Action: plan.Update, Status: Failed, Err: &VerifyError{Username: h, NotStored: []string{h}}},
			{Addr: addr, Action: plan.Delete, Status: NotStarted, Err: errors.New(h)},
			{Addr: addr, Action: plan.Create, Status: Applied, Adopted: true},
		} {
			line := o.String()
			if c := escapetest.Controls(line, false); c != nil || strings.Contains(line, "\n") {
				t.Errorf("report line %q: control characters %v", line, c)
			}
		}
	}
}
