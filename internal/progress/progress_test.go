package progress

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/redact"
)

func user(name string, a plan.Action, status apply.Status, err error) apply.Outcome {
	return apply.Outcome{Addr: plan.Address{Kind: plan.KindUser, Name: name}, Action: a, Status: status, Err: err}
}

// TestLinesWithoutTerminal: without a terminal, a line per change as it happens, a summary when
// a phase ends, and a summary every interval while a phase runs, so CI logs move even when no
// change finishes.
func TestLinesWithoutTerminal(t *testing.T) {
	t.Parallel()
	// The display writes from its ticker too; redact.Writer serialises the writes, and out is
	// read only after Close.
	var out strings.Builder
	d := New(redact.NewWriter(redact.New(), &out), Options{Interval: 30 * time.Millisecond})
	d.StartRead("r")
	d.EndRead(3, nil)
	d.Event(apply.Event{Kind: apply.PhaseStarted, Phase: apply.PhaseUsers, Size: 3})
	d.Event(apply.Event{Kind: apply.UserWritten, Outcome: user("alice", plan.Create, apply.NotStarted, nil)})
	d.Event(apply.Event{Outcome: user("bob", plan.Update, apply.Applied, nil)})
	// Nothing finishes for a while: the periodic summary says where the phase stands.
	time.Sleep(100 * time.Millisecond)
	d.Event(apply.Event{Outcome: user("carol\x1b[31m", plan.Create, apply.Failed, errors.New("failed to create: POST /users: 409 Conflict"))})
	d.Event(apply.Event{Kind: apply.PhaseStarted, Phase: apply.PhaseReadBack, Size: 1})
	d.Event(apply.Event{Outcome: user("alice", plan.Create, apply.Applied, nil)})
	d.Close()
	d.Close()

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// A summary ends in "failed" while its phase runs, in its time once the phase ended. The
	// sleep above leaves the ticker time to say where the users phase stood; on a loaded
	// machine it may also tick once more later, anywhere.
	periodic := regexp.MustCompile(`^apply: \d+ of \d+ users .*\(\d+/s\).* \d+ failed$`)
	stood := regexp.MustCompile(`^apply: 2 of 3 users written \(\d+/s\): 1 created, 1 updated, 0 failed$`)
	var rest []string
	ticks := 0
	for _, l := range lines {
		if periodic.MatchString(l) {
			if stood.MatchString(l) {
				ticks++
			}
			continue
		}
		rest = append(rest, regexp.MustCompile(`\(\d+/s\)`).ReplaceAllString(regexp.MustCompile(` in [0-9.]+m?s$`).ReplaceAllString(l, " in T"), "(R/s)"))
	}
	if ticks < 1 {
		t.Errorf("no periodic summary while the users phase ran:\n%s", out.String())
	}
	want := []string{
		`apply: users: 3 to do`,
		`apply: user "alice": created, awaiting the read-back`,
		`apply: user "bob": updated`,
		`apply: user "carol\x1b[31m": failed to create: POST /users: 409 Conflict`,
		`apply: 3 of 3 users written (R/s): 1 created, 1 updated, 1 failed in T`,
		`apply: read-back: 1 to do`,
		`apply: 1 of 1 users confirmed by the read-back (R/s), 0 failed in T`,
	}
	if strings.Join(rest, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(rest, "\n"), strings.Join(want, "\n"))
	}
}
