// Package progress shows an apply as it happens, on stderr: what phase it is in (reading the
// realm, prerequisites, users, read-back, removals), how many changes of each are done, how
// fast and how long the rest will take.
//
// On a terminal the display is a set of live bars, one per phase, drawn by
// github.com/vbauerster/mpb (colour only when the streams allow it, never under NO_COLOR).
// Elsewhere — a CI log, a file — it writes plain lines: one per change as it happens, one when
// a phase starts and ends, and every Interval a summary such as
// "apply: 120 of 506 users written (24/s), 0 failed", so that a log shows movement even when
// nothing finishes for a while.
//
// A user counts as written when its writes land, before the read-back that confirms its
// attributes; the read-back then counts the users it confirmed.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/plan"
)

// Interval is how often the line display writes a summary while a phase runs.
const Interval = 10 * time.Second

// Display receives an apply's progress. Its methods may be called from several goroutines,
// though apply serialises its own events.
type Display interface {
	// StartRead says roster starts logging in and reading realm; EndRead that it read users
	// users (err is the failure, if any).
	StartRead(realm string)
	EndRead(users int, err error)
	// Event takes apply's progress (apply.Options.Progress).
	Event(e apply.Event)
	// Writer is where other diagnostics (the -v request log) go while the display runs, so
	// that they do not tear it.
	Writer() io.Writer
	// Close ends the display; whatever it drew stays on the screen. Closing again does
	// nothing.
	Close()
}

// Options say how to display.
type Options struct {
	// Terminal is true when w is a terminal: live bars instead of lines. TermFd is the
	// terminal's file descriptor, which gives its width (w may be a wrapper).
	Terminal bool
	TermFd   int
	// Color allows colour on the terminal.
	Color bool
	// Interval is how often the lines display writes a summary; zero means Interval.
	Interval time.Duration
}

// New returns the display for w.
func New(w io.Writer, o Options) Display {
	if o.Terminal {
		return newBars(w, o.TermFd, o.Color)
	}
	if o.Interval <= 0 {
		o.Interval = Interval
	}
	return newLines(w, o.Interval)
}

// counts are what a display counts in the current phase; the zero value is a new phase.
type counts struct {
	phase            apply.Phase
	size, done       int
	created, updated int
	removed, failed  int
	unverified       int // read-back: applied, but the read-back could not check them
	started          time.Time
}

// add counts e in c and reports whether e moved the phase on.
func (c *counts) add(e apply.Event) bool {
	switch {
	case e.Kind == apply.UserWritten:
	case e.Kind != apply.ChangeFinished:
		return false
	case e.Status == apply.Failed:
		c.failed++
		c.done++
		return true
	case c.phase == apply.PhaseReadBack:
		c.done++
		if e.Unverified != nil {
			c.unverified++
		}
		return true
	}
	c.done++
	switch {
	case e.Action.IsRemoval():
		c.removed++
	case e.Action == plan.Create:
		c.created++
	default:
		c.updated++
	}
	return true
}

// rate is the changes done per second since the phase started.
func (c *counts) rate(now time.Time) float64 {
	s := now.Sub(c.started).Seconds()
	if s <= 0 {
		return 0
	}
	return float64(c.done) / s
}

// verb says what a phase does to its changes.
func verb(p apply.Phase) string {
	switch p {
	case apply.PhaseUsers:
		return "users written"
	case apply.PhaseReadBack:
		return "users confirmed by the read-back"
	case apply.PhaseRemovals:
		return "users removed"
	}
	return "prerequisites applied"
}

// summary is the line that says where phase c stands.
func (c *counts) summary(now time.Time) string {
	s := fmt.Sprintf("%d of %d %s (%.0f/s)", c.done, c.size, verb(c.phase), c.rate(now))
	if c.phase == apply.PhaseUsers {
		s += fmt.Sprintf(": %d created, %d updated", c.created, c.updated)
	}
	if c.unverified > 0 {
		s += fmt.Sprintf(", %d not verified", c.unverified)
	}
	return s + fmt.Sprintf(", %d failed", c.failed)
}

// lines is the display without a terminal.
type lines struct {
	w        io.Writer
	interval time.Duration

	mu      sync.Mutex
	cur     counts
	stop    chan struct{}
	stopped sync.WaitGroup
	closed  sync.Once
}

func newLines(w io.Writer, interval time.Duration) *lines {
	l := &lines{w: w, interval: interval, stop: make(chan struct{})}
	l.stopped.Go(l.tick)
	return l
}

// tick writes the summary of the phase under way every interval.
func (l *lines) tick() {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case now := <-t.C:
			l.mu.Lock()
			if l.cur.phase != "" {
				l.printf("%s", l.cur.summary(now))
			}
			l.mu.Unlock()
		}
	}
}

func (l *lines) printf(format string, args ...any) {
	fmt.Fprintf(l.w, "apply: "+format+"\n", args...)
}

// StartRead and EndRead write nothing: the lines are about changes, and a read that fails
// says so in its error.
func (l *lines) StartRead(string)   {}
func (l *lines) EndRead(int, error) {}

func (l *lines) Event(e apply.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if e.Kind == apply.PhaseStarted {
		l.endPhase(now)
		l.cur = counts{phase: e.Phase, size: e.Size, started: now}
		l.printf("%s: %d to do", e.Phase, e.Size)
		return
	}
	l.cur.add(e)
	switch {
	case e.Kind == apply.UserWritten:
		done := "updated"
		if e.Action == plan.Create {
			done = "created"
		}
		l.printf("%s: %s, awaiting the read-back", escape.Text(e.Outcome.Addr.Display()), done)
	case l.cur.phase == apply.PhaseReadBack && e.Status != apply.Failed && e.Unverified == nil:
		// The read-back confirms many users at once; its summary line says how many.
	default:
		l.printf("%s", e.Outcome)
	}
}

// endPhase writes the summary of the phase that ends.
func (l *lines) endPhase(now time.Time) {
	if l.cur.phase != "" {
		l.printf("%s in %s", l.cur.summary(now), since(l.cur.started))
		l.cur = counts{}
	}
}

func (l *lines) Writer() io.Writer { return l.w }

func (l *lines) Close() {
	l.closed.Do(func() {
		close(l.stop)
		l.stopped.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		l.endPhase(time.Now())
	})
}

// since is the time since t, rounded for people.
func since(t time.Time) time.Duration {
	return time.Since(t).Round(10 * time.Millisecond)
}
