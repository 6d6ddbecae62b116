package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vbauerster/cupwriter"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/escape"
)

// bars is the display on a terminal: one mpb bar per phase, in a container that lives while
// the phase runs. The read and the apply get containers of their own, since between them
// apply may print the plan and ask for confirmation.
type bars struct {
	w     io.Writer
	fd    int // the terminal's, for its width
	color bool

	mu    sync.Mutex    // guards p, bar, cur and reads
	p     *mpb.Progress // the container drawing, nil between containers
	bar   *mpb.Bar      // the current phase's bar
	cur   *phase        // the current phase's counts
	reads int
}

// phase is what one bar counts. The bar's decorators read it while a method holding bars.mu
// waits for the bars to draw, so it has a lock of its own.
type phase struct {
	mu     sync.Mutex
	c      counts
	users  int           // read: the users read
	took   time.Duration // read: how long it took, once finished
	failed bool          // read: it failed
}

func (p *phase) get() counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c
}

func newBars(w io.Writer, fd int, color bool) *bars { return &bars{w: w, fd: fd, color: color} }

// SGR colours, used only when colour is allowed.
const (
	green = "\x1b[32m"
	red   = "\x1b[31m"
	reset = "\x1b[0m"
)

func (b *bars) paint(code string) func(string) string {
	return func(s string) string {
		if !b.color {
			return s
		}
		return code + s + reset
	}
}

// name is a phase's name, green once the phase completed.
func (b *bars) name(s string) decor.Decorator {
	return decor.OnCompleteMeta(decor.Name(s, decor.WC{C: decor.DindentRight | decor.DextraSpace, W: 14}), b.paint(green))
}

func (b *bars) container() *mpb.Progress {
	if b.p == nil {
		// w masks secrets (package redact), so mpb cannot see the terminal behind it: the
		// console writer is told to move the cursor anyway and measures the terminal by fd.
		cw := cupwriter.New(b.w, true)
		cw.SetTermFd(b.fd)
		b.p = mpb.New(mpb.WithConsoleWriter(cw), mpb.WithWidth(100), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithAutoRefresh())
	}
	return b.p
}

func (b *bars) StartRead(realm string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finishBar()
	what := fmt.Sprintf("realm %q", escape.Text(realm))
	if b.reads++; b.reads > 1 {
		what += " again, under the apply lock"
	}
	ph := &phase{c: counts{phase: "read", started: time.Now()}}
	b.cur = ph
	b.bar = b.container().AddSpinner(1, mpb.BarWidth(2),
		mpb.PrependDecorators(b.name("read"), decor.Name(what+" ")),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			ph.mu.Lock()
			defer ph.mu.Unlock()
			if ph.took == 0 {
				return since(ph.c.started).String()
			}
			if ph.failed {
				return fmt.Sprintf("failed after %s", ph.took)
			}
			return fmt.Sprintf("%d users in %s", ph.users, ph.took)
		})),
		mpb.BarFillerClearOnComplete())
}

func (b *bars) EndRead(users int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil {
		return
	}
	ph := b.cur
	ph.mu.Lock()
	ph.users, ph.took, ph.failed = users, max(since(ph.c.started), time.Millisecond), err != nil
	ph.mu.Unlock()
	if err != nil {
		b.bar.Abort(false)
	} else {
		b.bar.SetTotal(1, true)
	}
	b.bar.Wait()
	b.bar, b.cur = nil, nil
	b.p.Wait()
	b.p = nil
}

func (b *bars) Event(e apply.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e.Kind == apply.PhaseStarted {
		b.finishBar()
		ph := &phase{c: counts{phase: e.Phase, size: e.Size, started: time.Now()}}
		b.cur = ph
		b.bar = b.container().AddBar(int64(e.Size),
			mpb.BarWidth(30),
			mpb.PrependDecorators(b.name(string(e.Phase)), decor.CountersNoUnit("%d of %d", decor.WC{W: 12})),
			mpb.AppendDecorators(
				decor.Meta(decor.Any(func(decor.Statistics) string { return phaseCounts(ph.get()) }), func(s string) string {
					if ph.get().failed > 0 {
						return b.paint(red)(s)
					}
					return s
				}),
				decor.Name(" "),
				decor.Any(func(decor.Statistics) string { c := ph.get(); return fmt.Sprintf("%.0f/s", c.rate(time.Now())) }, decor.WC{W: 6}),
				decor.Name(" "),
				decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO), "done")))
		return
	}
	if b.cur == nil {
		return
	}
	b.cur.mu.Lock()
	moved := b.cur.c.add(e)
	b.cur.mu.Unlock()
	if moved {
		b.bar.Increment()
	}
}

// phaseCounts are a phase's own counts, as its bar shows them.
func phaseCounts(c counts) string {
	switch c.phase {
	case apply.PhaseUsers:
		return fmt.Sprintf("created %d, updated %d, failed %d", c.created, c.updated, c.failed)
	case apply.PhaseRemovals:
		return fmt.Sprintf("removed %d, failed %d", c.removed, c.failed)
	}
	if c.unverified > 0 {
		return fmt.Sprintf("failed %d, not verified %d", c.failed, c.unverified)
	}
	return fmt.Sprintf("failed %d", c.failed)
}

// finishBar completes the current phase's bar: a phase ends when the next one starts, even
// when changes in it were not started (an interrupt).
func (b *bars) finishBar() {
	if b.bar == nil {
		return
	}
	if c := b.cur.get(); c.done < c.size {
		b.bar.Abort(false)
	} else {
		b.bar.SetTotal(-1, true)
	}
	b.bar.Wait()
	b.bar, b.cur = nil, nil
}

// Writer writes above the bars while they are drawn.
func (b *bars) Writer() io.Writer { return barsWriter{b} }

type barsWriter struct{ b *bars }

func (w barsWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	c := w.b.p
	w.b.mu.Unlock()
	if c != nil {
		if n, err := c.Write(p); err == nil {
			return n, nil
		}
	}
	return w.b.w.Write(p)
}

func (b *bars) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finishBar()
	if b.p != nil {
		b.p.Wait()
		b.p = nil
	}
}
