package operation_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/keycloak/keycloakfake"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/redact"
	"github.com/rosterhq/roster/internal/secret"
)

const realmName = "codemie-test"

// config is a configuration of users ann and bob for realmName.
const config = `version: 1
realm: codemie-test
users:
  - {username: ann, email: ann@example.com, role: developer, projects: {member: [alpha]}}
  - {username: bob, email: bob@example.com, role: admin}
`

// world is what an operation runs against in these tests: a fake realm, a prompter, a clock
// that does not sleep, and what the operation reported.
type world struct {
	realm    *keycloakfake.Realm
	prompter *prompter
	clock    *clock
	diags    diag.List
	secrets  *redact.Secrets
	dials    int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	t.Chdir(t.TempDir())
	return &world{realm: keycloakfake.New(realmName), prompter: &prompter{}, clock: &clock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)},
		secrets: redact.New()}
}

func (w *world) deps() operation.Deps {
	return operation.Deps{
		Dial: func(_ context.Context, realm string, _ model.CodeMie) (operation.Realm, error) {
			w.dials++
			return w.realm, nil
		},
		Prompter:    w.prompter,
		Clock:       w.clock,
		Diagnostics: func(l diag.List) { w.diags = append(w.diags, l...) },
		Secrets:     w.secrets,
	}
}

// write writes files (name, content, name, content, …) into the current directory.
func write(t *testing.T, files ...string) {
	t.Helper()
	for i := 0; i < len(files); i += 2 {
		if dir := filepath.Dir(files[i]); dir != "." {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(files[i], []byte(files[i+1]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func applyOptions(paths ...string) operation.ApplyOptions {
	return operation.ApplyOptions{Paths: paths, AutoApprove: true, Parallelism: 2, BatchSize: 1, Lock: true,
		LockHolder: "test pid 1", Secrets: secret.FromEnv(""), Server: "https://keycloak.example", RosterVersion: "test"}
}

// prompter answers the confirmation with answer; without canPrompt it has no terminal. With
// block, it waits for its context to end instead, as a terminal nobody types on.
type prompter struct {
	noTerminal bool
	answer     string
	block      bool
	shown      int      // how many plans it showed
	asked      []string // the realms it was asked about
	// whileAsking runs while it asks.
	whileAsking func()
}

func (p *prompter) CanPrompt() bool { return !p.noTerminal }

func (p *prompter) ShowPlan(*plan.Plan) error {
	p.shown++
	return nil
}

func (p *prompter) ConfirmApply(ctx context.Context, realm string) (string, error) {
	p.asked = append(p.asked, realm)
	if p.whileAsking != nil {
		p.whileAsking()
	}
	if p.block {
		<-ctx.Done()
		return "", ctx.Err()
	}
	return p.answer, nil
}

// clock is a clock whose Sleep returns at once, moving the time on.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// onSleep runs at each sleep with its number, from 1.
	onSleep func(n int)
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	n, on := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if on != nil {
		on(n)
	}
	return ctx.Err()
}

// mustApply applies paths with the options and fails the test on error.
func mustApply(t *testing.T, w *world, opts operation.ApplyOptions) *operation.ApplyResult {
	t.Helper()
	res, err := operation.Apply(context.Background(), opts, w.deps())
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("Apply's run: %v", err)
	}
	return res
}

// statuses are "address status" for every change apply made.
func statuses(res *operation.ApplyResult) []string {
	var out []string
	for _, o := range res.Result.Outcomes {
		out = append(out, o.String())
	}
	return out
}

func noWrites(t *testing.T, r *keycloakfake.Realm) {
	t.Helper()
	if w := r.Writes(); len(w) > 0 {
		t.Errorf("the realm was written: %q", w)
	}
	if l := r.Calls("TryLock"); len(l) > 0 {
		t.Errorf("the lock was taken: %q", l)
	}
}
