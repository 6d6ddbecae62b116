package operation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloakfake"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/views"
)

// TestApplyConverges applies a configuration to an empty realm, under the lock, and plans it
// again: nothing is left to do, and the lock is free.
func TestApplyConverges(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config)
	res := mustApply(t, w, applyOptions("roster.yaml"))
	want := []string{`user "ann": created`, `user "bob": created`}
	if diff := cmp.Diff(want, statuses(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	ann, ok := w.realm.User("ann")
	if !ok || !slices.Equal(ann.Roles, []model.Role{model.RoleDeveloper}) || !slices.Equal(ann.Attributes[model.AttrApplications], []string{"alpha"}) {
		t.Errorf("ann = %+v, %v; want a developer of alpha", ann, ok)
	}
	if got := w.realm.Calls("TryLock"); len(got) != 1 {
		t.Errorf("lock attempts = %q, want one", got)
	}
	if h := w.realm.LockHolder(); h != "" {
		t.Errorf("the lock is still held by %q", h)
	}
	if len(w.prompter.asked) != 0 {
		t.Errorf("asked for confirmation with --auto-approve")
	}

	again, err := operation.Plan(context.Background(), operation.PlanOptions{Paths: []string{"roster.yaml"}, Secrets: w.opts().Secrets}, w.deps())
	if err != nil {
		t.Fatal(err)
	}
	if again.Plan.HasChanges() {
		t.Errorf("the plan after apply has changes: %v", again.Plan.Changes)
	}

	// Applying again writes nothing, not even the lock.
	before := len(w.realm.Calls(""))
	res = mustApply(t, w, applyOptions("roster.yaml"))
	if res.Plan.HasChanges() || len(res.Result.Outcomes) != 0 {
		t.Errorf("second apply = %v", statuses(res))
	}
	for _, c := range w.realm.Calls("")[before:] {
		if !strings.HasPrefix(c, "Read") && c != "Watch" {
			t.Errorf("a converged apply called %s", c)
		}
	}
}

// TestApplyTrustsAQuietRead: apply plans again under the lock unless the lock proves that no
// other apply wrote since its read: the lock was free just before the read, and the mark it
// finds on taking the lock is the one it saw then, settled by a run whose writes all finished.
func TestApplyTrustsAQuietRead(t *testing.T) {
	w := newWorld(t)
	// reads applies the configuration with bob at another email, so that there is a change to
	// make, after hook (if any) is set, and returns how many times the apply read the realm.
	reads := func(bobAt string, hook func(call string)) int {
		t.Helper()
		write(t, "roster.yaml", strings.Replace(config, "bob@example.com", "bob@"+bobAt, 1))
		w.realm.SetHook(func(_ context.Context, call string) error {
			if hook != nil {
				hook(call)
			}
			return nil
		})
		before := len(w.realm.Calls("ReadLive"))
		mustApply(t, w, applyOptions("roster.yaml"))
		return len(w.realm.Calls("ReadLive")) - before
	}

	if n := reads("example.com", nil); n != 2 {
		t.Errorf("the first apply read the realm %d times, want 2 (no mark yet)", n)
	}

	// In a realm without a mark, another apply writes between the read and the lock, and its
	// mark is deleted: no mark cannot prove that no apply wrote, and the plan is made again.
	first := w
	w = newWorld(t)
	if n := reads("example.com", func(call string) {
		if call == "TryLock test pid 1" {
			w.realm.ApplyElsewhere("other pid 2")
			w.realm.DeleteMark()
		}
	}); n != 2 {
		t.Errorf("an apply after another apply whose mark was deleted read the realm %d times, want 2", n)
	}
	w = first
	if n := reads("b.example.com", nil); n != 1 {
		t.Errorf("an apply after a quiet read read the realm %d times, want 1", n)
	}

	// Another apply makes ann an admin between the read and the lock: the plan is made again
	// from what it left, and ann is a developer again.
	ann, _ := w.realm.User("ann")
	n := reads("c.example.com", func(call string) {
		if call == "TryLock test pid 1" {
			w.realm.ApplyElsewhere("other pid 2")
			w.realm.EditUser(ann.ID, func(u *model.LiveUser) { u.Roles = []model.Role{model.RoleAdmin} })
		}
	})
	if n != 2 {
		t.Errorf("an apply after another apply read the realm %d times, want 2", n)
	}
	if got, _ := w.realm.User("ann"); !slices.Equal(got.Roles, []model.Role{model.RoleDeveloper}) {
		t.Errorf("ann's roles = %v, want developer: the other apply's change was planned over", got.Roles)
	}

	// A lock held when the read starts (here expired, so that it is taken over) proves nothing
	// about what its holder wrote during the read.
	n = reads("d.example.com", func(call string) {
		if call == "Watch" {
			w.realm.HoldLock("dead pid 3", time.Now().Add(-time.Minute))
		}
	})
	if n != 2 {
		t.Errorf("an apply that saw the lock held read the realm %d times, want 2", n)
	}

	// A run whose write failed does not settle the mark (the write may still land): the next
	// apply reads again.
	write(t, "roster.yaml", strings.Replace(config, "bob@example.com", "bob@e.example.com", 1))
	w.realm.SetHook(func(_ context.Context, call string) error {
		if strings.HasPrefix(call, "UpdateUser ") {
			return errors.New("connection reset")
		}
		return nil
	})
	if res, err := operation.Apply(context.Background(), applyOptions("roster.yaml"), w.deps()); err != nil || res.Err() == nil {
		t.Fatalf("apply with a failing write: %v; want its change failed", err)
	}
	if n := reads("f.example.com", nil); n != 2 {
		t.Errorf("an apply after a failed one read the realm %d times, want 2", n)
	}
	if n := reads("g.example.com", nil); n != 1 {
		t.Errorf("an apply after a settled one read the realm %d times, want 1", n)
	}
}

func (w *world) opts() operation.ApplyOptions { return applyOptions() }

// TestConfirmation covers the prompt: only "yes" applies; anything else, no terminal (without
// --auto-approve) and an interrupt while asking change nothing and release the lock.
func TestConfirmation(t *testing.T) {
	for _, tc := range []struct {
		name     string
		prompter prompter
		cancel   bool // interrupt while asking
		wantErr  string
	}{
		{name: "yes", prompter: prompter{answer: "yes\n"}},
		{name: "yes with spaces", prompter: prompter{answer: "  yes \n"}},
		{name: "no", prompter: prompter{answer: "no\n"}, wantErr: "apply cancelled: nothing was changed"},
		{name: "YES", prompter: prompter{answer: "YES\n"}, wantErr: "apply cancelled: nothing was changed"},
		{name: "end of input", prompter: prompter{answer: ""}, wantErr: "apply cancelled: nothing was changed"},
		{name: "no terminal", prompter: prompter{noTerminal: true}, wantErr: "cannot ask for confirmation: no terminal"},
		{name: "interrupted", prompter: prompter{block: true}, cancel: true, wantErr: "apply cancelled: nothing was changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			write(t, "roster.yaml", config)
			w.prompter = &tc.prompter
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			lockedWhileAsking := false
			w.prompter.whileAsking = func() {
				lockedWhileAsking = w.realm.LockHolder() != ""
				if tc.cancel {
					cancel()
				}
			}
			opts := applyOptions("roster.yaml")
			opts.AutoApprove = false
			res, err := operation.Apply(ctx, opts, w.deps())
			if tc.wantErr == "" {
				if err != nil || res.Err() != nil {
					t.Fatalf("Apply = %v, %v", err, res.Err())
				}
				if _, ok := w.realm.User("ann"); !ok {
					t.Error("ann was not created")
				}
			} else {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Apply = %v, want %q", err, tc.wantErr)
				}
				if w := w.realm.Writes(); len(w) > 0 {
					t.Errorf("the realm was written: %q", w)
				}
			}
			if tc.prompter.shown != 1 {
				t.Errorf("showed the plan %d times, want once", tc.prompter.shown)
			}
			if !tc.prompter.noTerminal && (len(tc.prompter.asked) != 1 || !lockedWhileAsking) {
				t.Errorf("asked %d times, holding the lock: %v; want once, holding it", len(tc.prompter.asked), lockedWhileAsking)
			}
			if h := w.realm.LockHolder(); h != "" {
				t.Errorf("the lock is still held by %q", h)
			}
		})
	}
}

// TestInvitationsInEveryFormat applies with --send-invites and renders the result in each of
// apply's formats: every user created gets the invitation, whatever the format (with JSON the
// apply used to return before sending any), and its line goes to stdout with text, to stderr
// beside the JSON document.
func TestInvitationsInEveryFormat(t *testing.T) {
	for _, format := range views.ApplyFormats {
		t.Run(format.String(), func(t *testing.T) {
			w := newWorld(t)
			write(t, "roster.yaml", config)
			w.realm.SetSMTP("smtp.example.com")
			opts := applyOptions("roster.yaml")
			opts.SendInvites = true
			res := mustApply(t, w, opts)
			ann, _ := w.realm.User("ann")
			bob, _ := w.realm.User("bob")
			want := []string{ann.ID, bob.ID}
			var got []string
			for _, inv := range w.realm.Invitations() {
				got = append(got, inv.UserID)
				if !slices.Equal(inv.Actions, []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"}) {
					t.Errorf("invitation of %s asks for %q", inv.UserID, inv.Actions)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("invitations (-want +got):\n%s", diff)
			}

			var out, errOut bytes.Buffer
			if err := (views.Apply{Out: &out, ErrOut: &errOut, Format: format}).Result(res, nil); err != nil {
				t.Fatal(err)
			}
			lines := "user \"ann\": invitation sent\nuser \"bob\": invitation sent\n"
			switch format {
			case output.JSON:
				if !json.Valid(out.Bytes()) {
					t.Errorf("stdout is not one JSON document:\n%s", out.String())
				}
				if errOut.String() != lines {
					t.Errorf("stderr = %q, want %q", errOut.String(), lines)
				}
			default:
				if !strings.HasSuffix(out.String(), "Apply complete: 2 added, 0 changed, 0 removed, 0 failed.\n"+lines) || errOut.Len() > 0 {
					t.Errorf("stdout = %q, stderr = %q; want the invitation lines after the summary", out.String(), errOut.String())
				}
			}
		})
	}
}

// TestInvitationFailures: a failed invitation fails the run after its changes landed, and a realm
// without an SMTP server is refused before anything is written.
func TestInvitationFailures(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config)
	w.realm.SetSMTP("smtp.example.com")
	w.realm.Fail("SendActionsEmail id-ann", &keycloak.APIError{Method: "PUT", Path: "/users/id-ann/execute-actions-email", Status: 500, Message: "Failed to send execute actions email"})
	opts := applyOptions("roster.yaml")
	opts.SendInvites = true
	res, err := operation.Apply(context.Background(), opts, w.deps())
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res.Err(), operation.ErrInvitations) || res.Result.Err() != nil {
		t.Errorf("Err = %v, result %v; want the invitations' failure only", res.Err(), res.Result.Err())
	}
	var out bytes.Buffer
	views.Invitations(&out, res.Invitations)
	want := "user \"ann\": invitation failed: PUT /users/id-ann/execute-actions-email: 500 Failed to send execute actions email\n" +
		"user \"bob\": invitation sent\n"
	if out.String() != want {
		t.Errorf("lines =\n%s\nwant\n%s", out.String(), want)
	}

	w = newWorld(t)
	write(t, "roster.yaml", config)
	_, err = operation.Apply(context.Background(), opts, w.deps())
	if err == nil || err.Error() != `realm "codemie-test" has no SMTP server, so Keycloak cannot send invitations` {
		t.Errorf("without SMTP: %v", err)
	}
	noWrites(t, w.realm)
}

// TestMissingSecretStopsBeforeTheFirstWrite: a user whose initial password cannot be read stops
// apply before anything is written (the lock included), naming every missing secret; before,
// the other users were created and the one with the missing secret failed halfway.
func TestMissingSecretStopsBeforeTheFirstWrite(t *testing.T) {
	w := newWorld(t)
	t.Setenv("ROSTER_SECRET_CAROL", "Initial-Pa55word")
	write(t, "roster.yaml", config+`  - {username: carol, role: developer, initialPassword: {env: ROSTER_SECRET_CAROL}}
  - {username: dan, role: developer, initialPassword: {env: ROSTER_SECRET_DAN}}
  - {username: eve, role: developer, initialPassword: {file: eve.txt}}
`)
	_, err := operation.Apply(context.Background(), applyOptions("roster.yaml"), w.deps())
	var se *operation.SecretsError
	if !errors.As(err, &se) {
		t.Fatalf("Apply = %v, want a SecretsError", err)
	}
	if got, want := err.Error(), "cannot apply: 2 secrets the changes need cannot be read; nothing was changed"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	for i, want := range []string{`user "dan" initial password: `, `user "eve" initial password: `} {
		if i >= len(se.Details()) || !strings.HasPrefix(se.Details()[i], want) {
			t.Errorf("details = %q, want line %d to start %q", se.Details(), i, want)
		}
	}
	noWrites(t, w.realm)

	// With the secrets, the same apply goes through, and the passwords are masked from now on.
	t.Setenv("ROSTER_SECRET_DAN", "Dans-Pa55word")
	write(t, "secrets/eve.txt", "Eves-Pa55word\n")
	opts := applyOptions("roster.yaml")
	opts.Secrets.Dir = "secrets"
	mustApply(t, w, opts)
	for user, want := range map[string]string{"carol": "Initial-Pa55word", "dan": "Dans-Pa55word", "eve": "Eves-Pa55word"} {
		if p, _ := w.realm.Password(user); string(p.Value) != want {
			t.Errorf("%s's password = %q, want %q", user, p.Value, want)
		}
		if got := w.secrets.String("x " + want); strings.Contains(got, want) {
			t.Errorf("%s's password is not masked: %q", user, got)
		}
	}
}

// TestLockContention: while another apply holds the lock, apply waits for it up to
// --lock-timeout, sleeping between attempts (never spinning), then names the holder; without a
// timeout it refuses at once; a lock freed while it waits is taken.
func TestLockContention(t *testing.T) {
	t.Run("held past the timeout", func(t *testing.T) {
		w := newWorld(t)
		write(t, "roster.yaml", config)
		w.realm.HoldLock("ci-runner pid 7", time.Now().Add(time.Hour))
		opts := applyOptions("roster.yaml")
		opts.LockTimeout = 10 * time.Second
		_, err := operation.Apply(context.Background(), opts, w.deps())
		var locked *keycloak.LockedError
		if !errors.As(err, &locked) || locked.Holder != "ci-runner pid 7" {
			t.Fatalf("Apply = %v, want a LockedError naming ci-runner pid 7", err)
		}
		if got, want := err.Error(), `realm "codemie-test" is locked by another roster apply (ci-runner pid 7)`; got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
		var total time.Duration
		for _, d := range w.clock.sleeps {
			if d < time.Second || d > 2*time.Second {
				t.Errorf("slept %v between attempts, want 1s to 2s", d)
			}
			total += d
		}
		if total < 10*time.Second || total > 12*time.Second {
			t.Errorf("waited %v in all, want the 10s timeout", total)
		}
		if tries, sleeps := len(w.realm.Calls("TryLock")), len(w.clock.sleeps); tries != sleeps+1 {
			t.Errorf("%d attempts for %d sleeps, want one more attempt than sleeps", tries, sleeps)
		}
		if w := w.realm.Writes(); len(w) > 0 {
			t.Errorf("the realm was written: %q", w)
		}
	})
	t.Run("no timeout", func(t *testing.T) {
		w := newWorld(t)
		write(t, "roster.yaml", config)
		w.realm.HoldLock("ci-runner pid 7", time.Now().Add(time.Hour))
		_, err := operation.Apply(context.Background(), applyOptions("roster.yaml"), w.deps())
		var locked *keycloak.LockedError
		if !errors.As(err, &locked) || len(w.clock.sleeps) != 0 || len(w.realm.Calls("TryLock")) != 1 {
			t.Errorf("Apply = %v after %d sleeps, want a LockedError at once", err, len(w.clock.sleeps))
		}
		if hints := locked.Hints(); len(hints) != 1 || !strings.Contains(hints[0], "--lock-timeout") {
			t.Errorf("hints = %q, want --lock-timeout suggested", hints)
		}
	})
	t.Run("freed while waiting", func(t *testing.T) {
		w := newWorld(t)
		write(t, "roster.yaml", config)
		w.realm.HoldLock("ci-runner pid 7", time.Now().Add(time.Hour))
		w.clock.onSleep = func(n int) {
			if n == 3 { // the other run's lease runs out
				w.realm.HoldLock("ci-runner pid 7", time.Now().Add(-time.Second))
			}
		}
		opts := applyOptions("roster.yaml")
		opts.LockTimeout = time.Minute
		mustApply(t, w, opts)
		if n := len(w.clock.sleeps); n != 3 {
			t.Errorf("slept %d times, want 3", n)
		}
	})
	t.Run("interrupted while waiting", func(t *testing.T) {
		w := newWorld(t)
		write(t, "roster.yaml", config)
		w.realm.HoldLock("ci-runner pid 7", time.Now().Add(time.Hour))
		ctx, cancel := context.WithCancel(context.Background())
		w.clock.onSleep = func(int) { cancel() }
		opts := applyOptions("roster.yaml")
		opts.LockTimeout = time.Hour
		if _, err := operation.Apply(ctx, opts, w.deps()); !errors.Is(err, context.Canceled) || len(w.clock.sleeps) != 1 {
			t.Errorf("Apply = %v after %d sleeps, want it cancelled at the first", err, len(w.clock.sleeps))
		}
	})
}

// TestLockLost: a lock lost during the run stops it; the result says what was applied and the
// error says to plan again.
func TestLockLost(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config)
	w.realm.SetHook(func(_ context.Context, call string) error {
		if call == "CreateUser ann" {
			w.realm.LoseLock("renewing it failed: 503")
		}
		return nil
	})
	opts := applyOptions("roster.yaml")
	opts.Parallelism = 1
	res, err := operation.Apply(context.Background(), opts, w.deps())
	if err != nil {
		t.Fatal(err)
	}
	if res.LockLost == nil {
		t.Fatalf("LockLost = nil; outcomes %q", statuses(res))
	}
	want := `lost the apply lock after 0 changes; run plan again: lost the apply lock of realm "codemie-test": renewing it failed: 503`
	if err := res.Err(); err == nil || err.Error() != want {
		t.Errorf("Err = %v, want %q", err, want)
	}
	if _, ok := w.realm.User("bob"); ok {
		t.Error("bob was created after the lock was lost")
	}
}

// TestApplyWithoutLock: --lock=false writes without taking the lock.
func TestApplyWithoutLock(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config)
	w.realm.HoldLock("ci-runner pid 7", time.Now().Add(time.Hour))
	opts := applyOptions("roster.yaml")
	opts.Lock = false
	mustApply(t, w, opts)
	if got := w.realm.Calls("TryLock"); len(got) != 0 {
		t.Errorf("lock attempts = %q, want none", got)
	}
}

// TestSavedPlan applies a saved plan once: without asking, exactly what it records. Applying it
// again, or after the realm or a file changed, is refused as stale, and so is a plan given other
// removal flags or made for another server or by another roster.
func TestSavedPlan(t *testing.T) {
	save := func(t *testing.T, w *world, removal operation.Removal) {
		t.Helper()
		pl, err := operation.Plan(context.Background(), operation.PlanOptions{Paths: []string{"access"}, Removal: removal, Secrets: w.opts().Secrets}, w.deps())
		if err != nil {
			t.Fatal(err)
		}
		if err := operation.Save(pl, operation.SaveOptions{Out: "roster.plan", Paths: []string{"access"}, Removal: removal,
			Server: "https://keycloak.example", RosterVersion: "test"}, w.deps()); err != nil {
			t.Fatal(err)
		}
	}
	saved := func(paths ...string) operation.ApplyOptions {
		o := applyOptions(append([]string{"roster.plan"}, paths...)...)
		o.AutoApprove = false // a saved plan is never confirmed
		return o
	}

	t.Run("applied once", func(t *testing.T) {
		w := newWorld(t)
		write(t, "access/users.yaml", config)
		save(t, w, operation.Removal{})
		res := mustApply(t, w, saved("access"))
		if res.Saved == nil || len(res.Result.Outcomes) != 2 || len(w.prompter.asked) != 0 {
			t.Errorf("saved = %v, outcomes %q, asked %d", res.Saved != nil, statuses(res), len(w.prompter.asked))
		}
		_, err := operation.Apply(context.Background(), saved(), w.deps())
		if err == nil || err.Error() != `the plan is stale: realm "codemie-test" changed since the plan was made (or the plan was applied already)` {
			t.Errorf("second apply = %v", err)
		}
	})
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, w *world)
		opts   func(o *operation.ApplyOptions)
		want   string
	}{
		{name: "realm changed", change: func(_ *testing.T, w *world) {
			w.realm.AddUser(model.LiveUser{ID: "id-zed", Username: "zed", Enabled: true})
		}, want: `the plan is stale: realm "codemie-test" changed since the plan was made (or the plan was applied already)`},
		{name: "file changed", change: func(t *testing.T, _ *world) {
			write(t, "access/users.yaml", config+"  - {username: carol, role: developer}\n")
		}, want: "the plan is stale: access/users.yaml changed since the plan was made"},
		{name: "file added", change: func(t *testing.T, _ *world) {
			write(t, "access/more.yaml", "version: 1\nrealm: codemie-test\n")
		}, want: "the plan is stale: access/more.yaml was added since the plan was made"},
		{name: "other flags", opts: func(o *operation.ApplyOptions) { o.Removal.Prune = "delete" },
			want: "the plan was made with no --prune, --allow-mass-removal or --rotate-secrets, but apply was given --prune delete"},
		{name: "other server", opts: func(o *operation.ApplyOptions) { o.Server = "https://other.example" },
			want: "the plan was made for https://keycloak.example, not https://other.example"},
		{name: "other roster", opts: func(o *operation.ApplyOptions) { o.RosterVersion = "test2" },
			want: "the plan was made by roster test, and this is roster test2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			write(t, "access/users.yaml", config)
			save(t, w, operation.Removal{})
			if tc.change != nil {
				tc.change(t, w)
			}
			opts := saved()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			_, err := operation.Apply(context.Background(), opts, w.deps())
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Apply = %v, want %q", err, tc.want)
			}
			noWrites(t, w.realm)
		})
	}
	t.Run("changed while waiting for the lock", func(t *testing.T) {
		w := newWorld(t)
		write(t, "access/users.yaml", config)
		save(t, w, operation.Removal{})
		w.realm.HoldLock("ci-runner pid 7", time.Now().Add(time.Hour))
		w.clock.onSleep = func(int) { // the other apply changes the realm, then lets go
			w.realm.AddUser(model.LiveUser{ID: "id-zed", Username: "zed", Enabled: true})
			w.realm.HoldLock("ci-runner pid 7", time.Now().Add(-time.Second))
		}
		opts := saved()
		opts.LockTimeout = time.Minute
		_, err := operation.Apply(context.Background(), opts, w.deps())
		if err == nil || !strings.HasPrefix(err.Error(), "the plan is stale: realm") {
			t.Errorf("Apply = %v, want stale", err)
		}
		if w := w.realm.Writes(); len(w) > 0 {
			t.Errorf("the realm was written: %q", w)
		}
		if h := w.realm.LockHolder(); h != "" {
			t.Errorf("the lock is still held by %q", h)
		}
	})
}

// TestApplyRefusals: an invalid configuration and a file that is neither a plan nor YAML stop
// apply before it contacts Keycloak.
func TestApplyRefusals(t *testing.T) {
	w := newWorld(t)
	write(t, "bad.yaml", "version: 1\nrealm: codemie-test\nusers:\n  - {username: ann, role: superuser}\n", "roster.plan.txt", "not a plan")
	for path, want := range map[string]string{
		"bad.yaml":        "the configuration is not valid: 1 error",
		"roster.plan.txt": "roster.plan.txt is not a saved roster plan",
	} {
		_, err := operation.Apply(context.Background(), applyOptions(path), w.deps())
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if w.dials != 0 || len(w.diags) == 0 {
		t.Errorf("dialled %d times, %d diagnostics; want none, and the configuration's error", w.dials, len(w.diags))
	}
}

// TestFailedChangeIsInTheResult: a change Keycloak refuses fails the run, not the operation.
func TestFailedChangeIsInTheResult(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config)
	w.realm.Fail("CreateUser bob", &keycloak.APIError{Method: "POST", Path: "/users", Status: 400, Message: "error-invalid-email"})
	opts := applyOptions("roster.yaml")
	opts.SendInvites = true
	w.realm.SetSMTP("smtp.example.com")
	res, err := operation.Apply(context.Background(), opts, w.deps())
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Err()); got != "1 change failed" {
		t.Errorf("Err = %s", got)
	}
	if len(res.Invitations) != 1 || res.Invitations[0].Addr.Display() != `user "ann"` {
		t.Errorf("invitations = %+v, want ann's only", res.Invitations)
	}
}

// TestLockNotReleased: a lock that cannot be released after a run that went well fails the run,
// with its result kept for the output.
func TestLockNotReleased(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config)
	refused := errors.New("DELETE /roles-by-id/x: 503 Service Unavailable")
	w.realm.Fail("Release test pid 1", refused)
	res, err := operation.Apply(context.Background(), applyOptions("roster.yaml"), w.deps())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Result.Outcomes) != 2 || !errors.Is(res.Err(), refused) {
		t.Errorf("outcomes %q, Err %v; want both users and the release's failure", statuses(res), res.Err())
	}
}

// TestReadBackChoice pins how apply reads created users back: all together when they are a
// large share of the realm (one listing costs the server less than a read each), batch by batch
// beside the next batches otherwise.
func TestReadBackChoice(t *testing.T) {
	configOf := func(names ...string) string {
		var b strings.Builder
		b.WriteString("version: 1\nrealm: " + realmName + "\nusers:\n")
		for _, n := range names {
			fmt.Fprintf(&b, "  - {username: %s, email: %s@example.com, role: developer}\n", n, n)
		}
		return b.String()
	}
	names := func(prefix string, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%s%02d", prefix, i)
		}
		return out
	}
	ids := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = "id-" + n
		}
		return out
	}
	opts := func() operation.ApplyOptions {
		o := applyOptions("roster.yaml")
		o.Parallelism, o.BatchSize = 1, 10
		return o
	}

	t.Run("most of the realm", func(t *testing.T) {
		w := newWorld(t)
		created := names("new", 20)
		write(t, "roster.yaml", configOf(created...))
		mustApply(t, w, opts())
		if diff := cmp.Diff([][]string{ids(created)}, w.realm.Reads()); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
	})
	t.Run("a few of many", func(t *testing.T) {
		w := newWorld(t)
		var existing []model.LiveUser
		for _, n := range names("old", 90) {
			existing = append(existing, model.LiveUser{ID: "id-" + n, Username: n, Enabled: true})
		}
		w.realm = keycloakfake.New(realmName, existing...)
		created := names("new", 20)
		write(t, "roster.yaml", configOf(created...))
		mustApply(t, w, opts())
		want := [][]string{ids(created[:10]), ids(created[10:])}
		got := w.realm.Reads() // each batch beside the next: in either order
		slices.SortFunc(got, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reads (-want +got):\n%s", diff)
		}
	})
}
