package operation

import (
	"context"
	"fmt"
	"time"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/redact"
)

// Reader is the part of a realm that plan reads.
type Reader interface {
	// ReadRealm reads the realm's own settings; a missing realm is an error that says so.
	ReadRealm(ctx context.Context) (keycloak.RealmInfo, error)
	// ReadLive reads everything roster manages in the realm.
	ReadLive(ctx context.Context, opts keycloak.ReadOptions) (*model.Live, error)
}

// Realm is the Keycloak side of plan and apply: *keycloak.Client, or keycloakfake.Realm in
// tests.
type Realm interface {
	Reader
	apply.Target
	// Since is when the client first logged in, by the server's clock (apply.Options.Since).
	Since() time.Time
	// SendActionsEmail emails the user Keycloak's link to perform the actions (an invitation).
	SendActionsEmail(ctx context.Context, id string, actions []string) error
	// Watch sees the apply lock and its mark in one request, before a read apply may trust.
	Watch(ctx context.Context) (keycloak.Watch, error)
	// TryLock takes the realm's apply lock once; *keycloak.LockedError says who holds it.
	TryLock(ctx context.Context, holder string, lease time.Duration) (keycloak.HeldLock, error)
}

var _ Realm = (*keycloak.Client)(nil)

// Dialer logs in to realm, reading it as codemie says CodeMie does. The CLI's refuses the
// master realm unless asked, and marks connection failures for their exit code.
type Dialer func(ctx context.Context, realm string, codemie model.CodeMie) (Realm, error)

// Prompter shows a plan to whoever runs roster and asks them to confirm it.
type Prompter interface {
	// ShowPlan shows the plan to be confirmed; it is shown even when nobody can answer.
	ShowPlan(p *plan.Plan) error
	// CanPrompt reports whether anyone can answer (a terminal).
	CanPrompt() bool
	// ConfirmApply asks whether to apply the plan shown to realm; it returns the answer as
	// typed, or ctx's error when ctx ends first (Ctrl-C, SIGTERM).
	ConfirmApply(ctx context.Context, realm string) (string, error)
}

// Clock tells the time and waits; tests give one that does not sleep.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or returns ctx's error when ctx ends first.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d or for ctx.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Progress shows what a long operation is doing (package progress draws it on stderr).
type Progress interface {
	// StartRead says roster starts reading realm; EndRead that it read users (or failed).
	StartRead(realm string)
	EndRead(users int, err error)
	// Event takes apply's progress (apply.Options.Progress).
	Event(e apply.Event)
}

// Deps are the dependencies of the operations. Dial and Prompter are needed by the operations
// that use them; the others have defaults.
type Deps struct {
	Dial     Dialer
	Prompter Prompter
	// Clock defaults to SystemClock.
	Clock Clock
	// Progress, when set, shows reads and apply's progress.
	Progress Progress
	// Diagnostics, when set, receives the configuration's diagnostics as soon as they are
	// found (the CLI prints them on stderr at once, and keeps them for its JSON output).
	Diagnostics func(diag.List)
	// Secrets, when set, are the values masked in roster's output: every secret apply resolves
	// joins them, and a saved plan is checked against them.
	Secrets *redact.Secrets
}

func (d Deps) clock() Clock {
	if d.Clock == nil {
		return SystemClock{}
	}
	return d.Clock
}

func (d Deps) report(l diag.List) {
	if d.Diagnostics != nil && len(l) > 0 {
		d.Diagnostics(l)
	}
}

// startRead shows that reading realm starts and returns the function that shows how it ended.
func (d Deps) startRead(realm string) func(*model.Live, error) {
	if d.Progress == nil {
		return func(*model.Live, error) {}
	}
	d.Progress.StartRead(realm)
	return func(live *model.Live, err error) {
		users := 0
		if live != nil {
			users = len(live.Users)
		}
		d.Progress.EndRead(users, err)
	}
}

// HintError is an error with lines that suggest a fix.
type HintError struct {
	Err   error
	Lines []string
}

func (e *HintError) Error() string   { return e.Err.Error() }
func (e *HintError) Unwrap() error   { return e.Err }
func (e *HintError) Hints() []string { return e.Lines }

// WithHint attaches hints to err.
func WithHint(err error, hints ...string) error { return &HintError{Err: err, Lines: hints} }

// Plural is "1 noun" or "n nouns".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
