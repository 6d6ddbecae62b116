package apply

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/plan"
)

// Status is what became of one change.
type Status int

const (
	// NotStarted is the zero value: apply never began the change, because it was interrupted
	// or because a change the change depends on failed. Nothing of it was written.
	NotStarted Status = iota
	// Applied means every step of the change succeeded and, for users whose attributes were
	// written, Keycloak was seen to store them.
	Applied
	// Failed means a step failed, or Keycloak did not store what it was sent. Steps before the
	// failing one may have taken effect; re-running plan and apply converges.
	Failed
)

// String is the status as the JSON result spells it: "applied", "failed" or "not-started".
func (s Status) String() string {
	switch s {
	case Applied:
		return "applied"
	case Failed:
		return "failed"
	}
	return "not-started"
}

// Outcome is what became of one change of the plan.
type Outcome struct {
	// Addr and Action are the change's, as planned.
	Addr   plan.Address
	Action plan.Action
	// Status is what became of it.
	Status Status
	// Adopted is true for a user Create whose create request failed although it took effect
	// (the connection broke after Keycloak made the user): apply found the user it had just
	// made and finished it. An adopted create counts as added.
	Adopted bool
	// Unverified, for an Applied change, says why the read-back could not check what Keycloak
	// stored (it was interrupted or failed, or the run lost its lock and another run may have
	// changed the user since); nil when it was checked or there was nothing to check. Every
	// request of the change succeeded.
	Unverified error
	// Err says why the change failed (Failed), or why it was not started (NotStarted); nil when
	// Applied. Keycloak's message is part of it. It does not repeat Addr, except where the
	// sentence needs the name (VerifyError).
	Err error
}

// String is the outcome as one line for people: `user "bob": created`,
// `user "bob": created (the create's answer was lost; found the user it made)`, `role "admin": failed to create: …`,
// `user "eve": not started: apply was interrupted`. Keycloak's message is part of a failure,
// so the line goes through escape.Text: nothing in it can end the line or act on the terminal.
func (o Outcome) String() string { return escape.Text(o.line()) }

func (o Outcome) line() string {
	s := o.Addr.Display() + ": "
	switch o.Status {
	case Applied:
		s += pastTense(o.Action)
		if o.Adopted {
			s += " (the create's answer was lost; found the user it made)"
		}
		if o.Unverified != nil {
			s += " (not verified: " + o.Unverified.Error() + ")"
		}
		return s
	case Failed:
		return s + o.Err.Error()
	}
	if o.Err == nil {
		return s + "not started"
	}
	return s + "not started: " + o.Err.Error()
}

func pastTense(a plan.Action) string {
	switch a {
	case plan.Create:
		return "created"
	case plan.Update:
		return "updated"
	case plan.Rename:
		return "renamed"
	case plan.Disable:
		return "disabled"
	case plan.Delete:
		return "deleted"
	}
	return "unchanged"
}

// EventKind says what an Event reports.
type EventKind int

const (
	// ChangeFinished: a change finished, applied or failed (Outcome, Finished, Total).
	ChangeFinished EventKind = iota
	// PhaseStarted: Run starts a phase of Size changes (Phase).
	PhaseStarted
	// UserWritten: a user's writes landed; the read-back still has to confirm its attributes
	// before it finishes (Outcome, with Status still NotStarted).
	UserWritten
)

// Phase names a phase of Run, as a progress display shows it.
type Phase string

// The phases of Run, in order (see the package documentation).
const (
	PhasePrerequisites Phase = "prerequisites"
	PhaseUsers         Phase = "users"
	PhaseReadBack      Phase = "read-back"
	PhaseRemovals      Phase = "removals"
)

// Event reports progress to Options.Progress: by default a finished change.
type Event struct {
	Kind EventKind
	// Phase and Size are the phase that starts and how many changes it holds (PhaseStarted).
	Phase Phase
	Size  int
	// Outcome is the change's final outcome, Applied or Failed (ChangeFinished), or the user
	// whose writes landed (UserWritten).
	Outcome
	// Finished counts the changes finished so far, this one included; Total is the number of
	// changes in the plan. Finished stays below Total when some changes are not started.
	Finished, Total int
}

// Result is what Run did: every change's outcome, in plan order, and the counts.
type Result struct {
	// Realm is the plan's realm.
	Realm string
	// Outcomes hold one entry per change of the plan, in the plan's order.
	Outcomes []Outcome
	// Added counts applied creations (users, adopted ones included, and roles); Changed
	// applied updates (policy, role descriptions, users) and renames; Removed applied Disable and Delete
	// changes; Failed the failed changes of every kind; NotStarted the changes never begun.
	Added, Changed, Removed, Failed, NotStarted int
	// Unverified counts the applied changes whose read-back did not happen (Outcome.Unverified).
	Unverified int
	// Interrupted is true when the context was cancelled before every change had started.
	Interrupted bool
}

func newResult(realm string, outcomes []Outcome, interrupted bool) *Result {
	r := &Result{Realm: realm, Outcomes: outcomes, Interrupted: interrupted}
	for _, o := range outcomes {
		if o.Status == Applied && o.Unverified != nil {
			r.Unverified++
		}
		switch {
		case o.Status == Failed:
			r.Failed++
		case o.Status == NotStarted:
			r.NotStarted++
		case o.Action == plan.Create:
			r.Added++
		case o.Action == plan.Update, o.Action == plan.Rename:
			r.Changed++
		case o.Action.IsRemoval():
			r.Removed++
		}
	}
	return r
}

// Summary is the closing line. When every change was started it is exactly
// "Apply complete: A added, C changed, D removed, F failed."; otherwise it says the apply was
// interrupted (by the context) or stopped (by a failed policy or role change) and counts the
// changes not started: "Apply interrupted: A added, C changed, D removed, F failed, N not started."
func (r *Result) Summary() string {
	counts := fmt.Sprintf("%d added, %d changed, %d removed, %d failed", r.Added, r.Changed, r.Removed, r.Failed)
	var s string
	switch {
	case r.NotStarted == 0:
		s = "Apply complete: " + counts
	case r.Interrupted:
		s = fmt.Sprintf("Apply interrupted: %s, %d not started", counts, r.NotStarted)
	default:
		s = fmt.Sprintf("Apply stopped: %s, %d not started", counts, r.NotStarted)
	}
	if r.Unverified > 0 {
		s += fmt.Sprintf("; %d applied but not verified", r.Unverified)
	}
	return s + "."
}

// Err is nil when every change was applied, and an *Error otherwise.
func (r *Result) Err() error {
	if r.Failed == 0 && r.NotStarted == 0 && r.Unverified == 0 {
		return nil
	}
	e := &Error{Failed: r.Failed, NotStarted: r.NotStarted, Unverified: r.Unverified, Interrupted: r.Interrupted}
	for _, o := range r.Outcomes {
		if o.Status == Failed {
			e.Errs = append(e.Errs, &ChangeError{Addr: o.Addr, Err: o.Err})
		}
	}
	return e
}

// Error is Result.Err: some changes failed or were not started. Its message only counts them;
// each failure is in Errs, and errors.As finds the typed errors among them.
type Error struct {
	// Failed, NotStarted and Unverified are the Result's counts.
	Failed, NotStarted, Unverified int
	// Interrupted is the Result's.
	Interrupted bool
	// Errs are the failures, one *ChangeError per failed change, in plan order.
	Errs []error
}

func (e *Error) Error() string {
	var parts []string
	if e.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d %s failed", e.Failed, plural(e.Failed, "change", "changes")))
	}
	if e.NotStarted > 0 {
		parts = append(parts, fmt.Sprintf("%d not started", e.NotStarted))
	}
	if e.Unverified > 0 {
		parts = append(parts, fmt.Sprintf("%d applied but not verified", e.Unverified))
	}
	msg := strings.Join(parts, ", ")
	if e.Interrupted {
		msg = "apply interrupted: " + msg
	}
	return msg
}

// Unwrap returns the failures.
func (e *Error) Unwrap() []error { return e.Errs }

// Hints are the distinct hints of the failures, then how to go on.
func (e *Error) Hints() []string {
	var hints []string
	for _, err := range e.Errs {
		for _, s := range diag.HintsOf(err) {
			if !slices.Contains(hints, s) {
				hints = append(hints, s)
			}
		}
	}
	if e.Unverified > 0 {
		hints = append(hints, "every request of the unverified changes succeeded; roster plan shows anything Keycloak did not keep")
	}
	if e.NotStarted > 0 || slices.ContainsFunc(e.Errs, func(err error) bool { return !permanent(err) }) {
		hints = append(hints, "run roster plan and roster apply again: apply picks up where this run stopped")
	}
	return hints
}

// permanent reports whether repeating the failed change cannot help until someone changes the
// configuration or the realm: Keycloak refused it as invalid (400) or as conflicting with
// something that exists (409).
func permanent(err error) bool {
	var ee *ExistsError
	var te *EmailTakenError
	if errors.As(err, &ee) || errors.As(err, &te) {
		return true
	}
	s := statusOf(err)
	return s == http.StatusBadRequest || s == http.StatusConflict
}

// statusOf returns the HTTP status of a failed request in err's chain, or 0.
func statusOf(err error) int {
	var s interface{ StatusCode() int }
	if errors.As(err, &s) {
		return s.StatusCode()
	}
	return 0
}

// ExistsError is a create that failed because a user of the name exists that this run did not
// make: a hand-made account, or one made before this run by anyone. roster does not take it
// over: it would write its ownership marker onto it, and a later prune would remove it.
type ExistsError struct {
	Username string
	ID       string
	Created  time.Time // zero when unknown
	Err      error     // the create's failure
}

func (e *ExistsError) Error() string {
	created := ""
	if !e.Created.IsZero() {
		created = ", created " + e.Created.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("failed to create: %v; a user %q (id %s%s) exists already and this run did not create it, so roster leaves it alone",
		e.Err, e.Username, e.ID, created)
}

func (e *ExistsError) Unwrap() error { return e.Err }

// Hints say how to go on.
func (e *ExistsError) Hints() []string {
	return []string{fmt.Sprintf("run roster plan again: it shows what it would change on the existing %q, which then stays unmarked (prune never removes it); "+
		"if that account belongs to someone else, give the user in the configuration another username", e.Username)}
}

// EmailTakenError is a create refused because another user holds its email.
type EmailTakenError struct {
	Email  string
	Holder string // the username of the user who has the email
	Err    error
}

func (e *EmailTakenError) Error() string {
	return fmt.Sprintf("failed to create: %v: user %q has the email %s", e.Err, e.Holder, e.Email)
}

func (e *EmailTakenError) Unwrap() error { return e.Err }

// Hints say how to go on.
func (e *EmailTakenError) Hints() []string {
	return []string{fmt.Sprintf("Keycloak lets one user only have an email: change the email in the configuration, or change or remove %q in Keycloak, then run roster plan again", e.Holder)}
}

// ChangeError is the failure of one change, named by its address: `user "bob": failed to
// create: POST /users: 400 …`.
type ChangeError struct {
	Addr plan.Address
	Err  error
}

func (e *ChangeError) Error() string { return e.Addr.Display() + ": " + e.Err.Error() }

// Unwrap returns the failure.
func (e *ChangeError) Unwrap() error { return e.Err }

// VerifyError is the failure of a user whose attributes Keycloak accepted without storing them,
// as it does, answering 2xx, when the realm's unmanaged-attribute policy does not allow an
// attribute the user profile does not declare.
type VerifyError struct {
	// Username is the user's.
	Username string
	// NotStored are the attributes sent with a value that Keycloak does not hold as sent,
	// sorted.
	NotStored []string
	// NotRemoved are the attributes sent for removal that Keycloak still holds, sorted.
	NotRemoved []string
	// Read and Want, when Read is not empty, are what CodeMie reads from the user as stored and
	// what the plan said it would read.
	Read, Want string
}

// Error is "Keycloak did not store `applications` for bob: the realm's unmanaged-attribute
// policy does not allow it", listing every attribute concerned.
func (e *VerifyError) Error() string {
	var parts []string
	if len(e.NotStored) > 0 {
		parts = append(parts, "did not store "+codeList(e.NotStored))
	}
	if len(e.NotRemoved) > 0 {
		parts = append(parts, "did not remove "+codeList(e.NotRemoved))
	}
	reading := ""
	if e.Read != "" {
		reading = fmt.Sprintf("; CodeMie reads %s, not %s", e.Read, e.Want)
	}
	if len(parts) == 0 {
		return fmt.Sprintf("Keycloak stored what roster sent for %s, yet CodeMie reads %s, not %s", e.Username, e.Read, e.Want)
	}
	it := "it"
	if len(e.NotStored)+len(e.NotRemoved) > 1 {
		it = "them"
	}
	return fmt.Sprintf("Keycloak %s for %s: the realm's unmanaged-attribute policy does not allow %s%s",
		strings.Join(parts, " and "), e.Username, it, reading)
}

// Hints say how to make Keycloak keep the attributes.
func (e *VerifyError) Hints() []string {
	return []string{"set settings.unmanagedAttributePolicy: ADMIN_EDIT, or declare the attribute in the realm's user profile with admin edit permission"}
}

// codeList is "`a`", "`a`, `b`".
func codeList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
