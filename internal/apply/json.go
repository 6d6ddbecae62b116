package apply

import (
	"encoding/json"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/output"
)

// JSONResult is the JSON form of a Result, what `roster apply --format json` prints: a contract
// with the scripts that read it. Every field is always present (empty lists as []), and changes
// keep the plan's order.
type JSONResult struct {
	// FormatVersion is output.ApplyDocument's version.
	FormatVersion string `json:"format_version"`
	// Realm is the realm the plan was for.
	Realm string `json:"realm"`
	// Complete is true when every change was applied: the realm is as the plan intended.
	Complete bool `json:"complete"`
	// Interrupted is true when the run was cancelled before every change had started.
	Interrupted bool `json:"interrupted"`
	// Summary counts the outcomes.
	Summary JSONSummary `json:"summary"`
	// Changes are the outcomes, one per planned change, in the plan's order.
	Changes []JSONOutcome `json:"changes"`
	// Error is the failure that came after the changes — the apply lock lost during the run, or
	// not released after it — and null when there was none (format 1.3). The process exits 1 or 3
	// then, whatever the changes' statuses say.
	Error *JSONError `json:"error"`
}

// JSONError is a failure of the run as a whole: its message and the hints that suggest a fix.
type JSONError struct {
	Message string   `json:"message"`
	Hints   []string `json:"hints"`
}

// JSONSummary counts the outcomes as Result does: added = applied creates (adopted users
// included), changed = applied updates and renames, removed = applied disables and deletes.
type JSONSummary struct {
	Added      int `json:"added"`
	Changed    int `json:"changed"`
	Removed    int `json:"removed"`
	Failed     int `json:"failed"`
	NotStarted int `json:"not_started"`
	// NotVerified counts the applied changes the read-back could not check (format 1.1).
	NotVerified int `json:"not_verified"`
}

// JSONOutcome is what became of one change.
type JSONOutcome struct {
	// Address is the change's stable address, as in the JSON plan: "realm.unmanagedAttributePolicy",
	// "role.developer", "user.bob". Kind and Name are its two parts.
	Address string `json:"address"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	// Action is the planned action: "create", "update", "rename", "disable" or "delete".
	Action string `json:"action"`
	// Status is "applied", "failed" or "not-started".
	Status string `json:"status"`
	// Adopted is true for a create whose answer was lost: apply found the user it had just made.
	Adopted bool `json:"adopted"`
	// NotVerified, for an applied change, says why the read-back could not check what Keycloak
	// stored; "" otherwise (format 1.1).
	NotVerified string `json:"not_verified"`
	// Error says why the change failed or was not started; "" when applied. Hints suggest a
	// fix, when there is one.
	Error string   `json:"error"`
	Hints []string `json:"hints"`
}

// JSON converts the result to its JSON form.
func (r *Result) JSON() *JSONResult {
	j := &JSONResult{
		FormatVersion: output.ApplyDocument.Version(),
		Realm:         r.Realm,
		Complete:      r.Err() == nil,
		Interrupted:   r.Interrupted,
		Summary: JSONSummary{Added: r.Added, Changed: r.Changed, Removed: r.Removed,
			Failed: r.Failed, NotStarted: r.NotStarted, NotVerified: r.Unverified},
		Changes: make([]JSONOutcome, len(r.Outcomes)),
	}
	for i, o := range r.Outcomes {
		jo := JSONOutcome{
			Address: o.Addr.String(), Kind: string(o.Addr.Kind), Name: o.Addr.Name,
			Action: o.Action.String(), Status: o.Status.String(), Adopted: o.Adopted, Hints: []string{},
		}
		if o.Unverified != nil {
			jo.NotVerified = o.Unverified.Error()
		}
		if o.Err != nil {
			jo.Error = o.Err.Error()
			jo.Hints = append(jo.Hints, diag.HintsOf(o.Err)...)
		}
		j.Changes[i] = jo
	}
	return j
}

// MarshalJSON encodes the result as its JSONResult.
func (r *Result) MarshalJSON() ([]byte, error) { return json.Marshal(r.JSON()) }
