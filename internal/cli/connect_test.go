package cli

import (
	"strings"
	"testing"
)

// TestCodeMieFlagsRefuseApplyRoles: the CodeMie role flags cannot name a realm role roster apply
// keeps for its lock, which every read hides, as settings.codemie cannot.
func TestCodeMieFlagsRefuseApplyRoles(t *testing.T) {
	for _, f := range []codemieFlags{
		{AdminRole: "roster-apply-lock", DeveloperRole: "developer", ClientID: "codemie"},
		{AdminRole: "admin", DeveloperRole: "roster-apply-released-0a1b2c3d4e5f", ClientID: "codemie"},
	} {
		if _, err := f.model(); err == nil || !strings.Contains(err.Error(), "cannot name a realm role roster apply keeps for its lock") {
			t.Errorf("flags %+v: %v, want refused", f, err)
		}
	}
	if _, err := (&codemieFlags{AdminRole: "admin", DeveloperRole: "developer", ClientID: "codemie"}).model(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}
