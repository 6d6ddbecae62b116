package operation_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/secret"
	"github.com/rosterhq/roster/internal/views"
)

// progress records what an operation showed.
type progress struct{ lines []string }

func (p *progress) StartRead(realm string) { p.lines = append(p.lines, "read "+realm) }
func (p *progress) EndRead(users int, err error) {
	p.lines = append(p.lines, fmt.Sprintf("read %d users, %v", users, err))
}
func (p *progress) Event(e apply.Event) {
	if e.Kind == apply.ChangeFinished {
		p.lines = append(p.lines, e.Outcome.String())
	}
}

// TestPlan plans a configuration against the fake realm: it writes nothing, shows the read, and
// reports the configuration's warnings.
func TestPlan(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config)
	w.realm.AddUser(model.LiveUser{ID: "id-ann", Username: "ann", Email: "ann@example.com", Enabled: true,
		Roles: []model.Role{model.RoleDeveloper}, Attributes: map[string][]string{model.AttrApplications: {"beta"}}})
	shown := &progress{}
	deps := w.deps()
	deps.Progress = shown
	pl, err := operation.Plan(context.Background(), operation.PlanOptions{Paths: []string{"roster.yaml"}, Secrets: secret.FromEnv("")}, deps)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range pl.Plan.Changes {
		got = append(got, c.Action.String()+" "+c.Addr.Display())
	}
	if diff := cmp.Diff([]string{`update user "ann"`, `create user "bob"`}, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"read " + realmName, "read 1 users, <nil>"}, shown.lines); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if w := w.realm.Writes(); len(w) > 0 {
		t.Errorf("plan wrote %q", w)
	}
	if pl.Info.Name != realmName || pl.Config.Realm != realmName || pl.Live.Realm != realmName {
		t.Errorf("planned = %q, %q, %q", pl.Info.Name, pl.Config.Realm, pl.Live.Realm)
	}
}

// TestPlanReadFailures: a failure to log in, to find the realm or to read it ends the plan with
// the error, shown as the read's end.
func TestPlanReadFailures(t *testing.T) {
	refused := errors.New("login refused")
	for _, tc := range []struct {
		name string
		fail string // the fake's call to fail; "" fails the dial
		want string
	}{
		{name: "dial", want: "login refused"},
		{name: "realm", fail: "ReadRealm", want: "login refused"},
		{name: "live", fail: "ReadLive", want: `failed to read realm "codemie-test": login refused`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			write(t, "roster.yaml", config)
			deps := w.deps()
			shown := &progress{}
			deps.Progress = shown
			if tc.fail == "" {
				deps.Dial = func(context.Context, string, model.CodeMie) (operation.Realm, error) { return nil, refused }
			} else {
				w.realm.Fail(tc.fail, refused)
			}
			_, err := operation.Plan(context.Background(), operation.PlanOptions{Paths: []string{"roster.yaml"}}, deps)
			if err == nil || err.Error() != tc.want || !errors.Is(err, refused) {
				t.Errorf("Plan = %v, want %q", err, tc.want)
			}
			if last := shown.lines[len(shown.lines)-1]; !strings.HasSuffix(last, tc.want) {
				t.Errorf("progress ends %q", last)
			}
		})
	}
}

// TestApplyShowsProgress: apply shows both reads (before the lock and under it) and each change.
func TestApplyShowsProgress(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config)
	shown := &progress{}
	deps := w.deps()
	deps.Progress = shown
	opts := applyOptions("roster.yaml")
	opts.Parallelism = 1
	if _, err := operation.Apply(context.Background(), opts, deps); err != nil {
		t.Fatal(err)
	}
	want := []string{"read " + realmName, "read 0 users, <nil>", "read " + realmName, "read 0 users, <nil>",
		`user "ann": created`, `user "bob": created`}
	if diff := cmp.Diff(want, shown.lines); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestRemovalString(t *testing.T) {
	for r, want := range map[operation.Removal]string{
		{}:                 "no --prune, --allow-mass-removal or --rotate-secrets",
		{Prune: "disable"}: "--prune disable",
		{AllowMassRemoval: true, RotateSecrets: true}: "--allow-mass-removal --rotate-secrets",
	} {
		if got := r.String(); got != want {
			t.Errorf("%+v: %q, want %q", r, got, want)
		}
	}
	if got := (operation.Removal{Prune: "delete"}).Options(); got != (plan.Options{Prune: model.PruneDelete}) {
		t.Errorf("Options = %+v", got)
	}
}

// TestValidate counts a valid configuration's files, users, teams and projects, and fails on
// errors, or on warnings with Strict.
func TestValidate(t *testing.T) {
	t.Chdir(t.TempDir())
	write(t, "a.yaml", config, "bad.yaml", "version: 1\nrealm: r\nusers:\n  - {username: ann, role: superuser}\n")
	v := operation.Validate(operation.ValidateOptions{Paths: []string{"a.yaml"}, Secrets: secret.FromEnv("")})
	if v.Failed || v.Counts != (operation.Counts{Files: 1, Users: 2, Projects: 1}) {
		t.Errorf("valid: failed %v, counts %+v", v.Failed, v.Counts)
	}
	var out bytes.Buffer
	if err := views.Validate(&out, output.Text, v); err != nil {
		t.Fatal(err)
	}
	if want := "Read a.yaml\nSuccess! 1 file, 2 users, 0 teams, 1 project.\n"; out.String() != want {
		t.Errorf("text = %q, want %q", out.String(), want)
	}
	v = operation.Validate(operation.ValidateOptions{Paths: []string{"bad.yaml"}, Secrets: secret.FromEnv("")})
	if !v.Failed || v.Config != nil {
		t.Errorf("invalid: failed %v", v.Failed)
	}
}

// TestShow reads a saved plan back offline, and refuses what is not one.
func TestShow(t *testing.T) {
	w := newWorld(t)
	write(t, "roster.yaml", config, "notes.txt", "not a plan")
	pl, err := operation.Plan(context.Background(), operation.PlanOptions{Paths: []string{"roster.yaml"}}, w.deps())
	if err != nil {
		t.Fatal(err)
	}
	if err := operation.Save(pl, operation.SaveOptions{Out: "roster.plan", Paths: []string{"roster.yaml"}, Server: "https://keycloak.example", RosterVersion: "test"}, w.deps()); err != nil {
		t.Fatal(err)
	}
	s, err := operation.Show(operation.ShowOptions{Path: "roster.plan", RosterVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Saved.Realm != realmName || len(s.Plan.Changes) != 2 {
		t.Errorf("shown realm %q with %d changes", s.Saved.Realm, len(s.Plan.Changes))
	}
	var out bytes.Buffer
	if err := views.Show(&out, output.Text, s, false); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), `Saved plan for realm "codemie-test" on https://keycloak.example, made by roster test.`) {
		t.Errorf("text = %q", out.String())
	}
	for path, want := range map[string]string{
		"notes.txt":    "notes.txt is not a saved roster plan",
		"missing.plan": "cannot read the plan: open missing.plan: no such file or directory",
	} {
		if _, err := operation.Show(operation.ShowOptions{Path: path, RosterVersion: "test"}); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := operation.Show(operation.ShowOptions{Path: "roster.plan", RosterVersion: "other"}); err == nil {
		t.Error("a plan of another roster was shown")
	}
}

// TestSystemClock sleeps, and stops sleeping when its context ends.
func TestSystemClock(t *testing.T) {
	var c operation.SystemClock
	start := c.Now()
	if err := c.Sleep(context.Background(), time.Millisecond); err != nil || c.Now().Sub(start) < time.Millisecond {
		t.Errorf("Sleep = %v after %v", err, c.Now().Sub(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a done context = %v", err)
	}
}

// TestHints: the refusals carry hints that say what to do.
func TestHints(t *testing.T) {
	err := operation.WithHint(errExample, "do this")
	var h interface{ Hints() []string }
	if !errors.As(err, &h) || h.Hints()[0] != "do this" || !errors.Is(err, errExample) {
		t.Errorf("WithHint = %v", err)
	}
	se := &operation.SecretsError{Problems: []string{"x"}}
	if len(se.Hints()) != 1 || !strings.Contains(se.Hints()[0], "--check-secrets") {
		t.Errorf("SecretsError hints = %q", se.Hints())
	}
}

var errExample = errors.New("example")
