package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

func TestBuildRefusesAttributeWritesThePolicyDrops(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		set    model.Policy // settings.unmanagedAttributePolicy
		live   model.Policy
		want   *PolicyError
		policy bool // whether the plan changes the policy
	}{
		{name: "live DISABLED, file silent", live: model.PolicyDisabled, want: &PolicyError{Realm: "codemie", Policy: model.PolicyDisabled, Users: 1}},
		{name: "live policy absent, file silent", live: "", want: &PolicyError{Realm: "codemie", Policy: model.PolicyDisabled, Users: 1}},
		{name: "live ADMIN_VIEW, file silent", live: model.PolicyAdminView, want: &PolicyError{Realm: "codemie", Policy: model.PolicyAdminView, Users: 1}},
		{name: "file sets ADMIN_VIEW", set: model.PolicyAdminView, live: model.PolicyAdminEdit, want: &PolicyError{Realm: "codemie", Policy: model.PolicyAdminView, Users: 1}},
		{name: "file sets ENABLED", set: model.PolicyEnabled, live: model.PolicyDisabled, policy: true},
		{name: "live ENABLED, file silent", live: model.PolicyEnabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(user("bob", model.RoleDeveloper, grants("payments")))
			cfg.Settings.UnmanagedAttributePolicy = tt.set
			live := realm()
			live.Policy = tt.live
			p, err := Build(cfg, live, Options{})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				if got := p.Changes[0].Addr == AddrPolicy(); got != tt.policy {
					t.Errorf("first change is the policy: %v, want %v", got, tt.policy)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Build error = %v, want a *PolicyError", err)
			}
			if diff := cmp.Diff(tt.want, pe); diff != "" {
				t.Errorf("PolicyError (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPolicyErrorMessage(t *testing.T) {
	t.Parallel()
	err := &PolicyError{Realm: "codemie", Policy: model.PolicyDisabled, Users: 1}
	if got, want := err.Error(), `realm "codemie" has unmanagedAttributePolicy DISABLED: Keycloak would silently drop the attributes this plan writes for 1 user`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if len(err.Hints()) == 0 {
		t.Error("no hint")
	}
}

// markedUsers returns n enabled live users carrying the ownership marker, u00 … u(n-1).
func markedUsers(n int) []model.LiveUser {
	var out []model.LiveUser
	for i := range n {
		out = append(out, owned(member(fmt.Sprintf("u%02d", i))))
	}
	return out
}

func TestMassRemovalGuard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		marked      int // users removed by prune
		others      int // unmarked users left alone
		maxRemovals int
		opts        Options
		want        *MassRemovalError
		wantMsg     string
	}{
		{name: "within both limits", marked: 2, others: 18, maxRemovals: 10},
		{name: "a single removal never trips the percentage", marked: 1, others: 1, maxRemovals: 10},
		{
			name: "over the percentage", marked: 2, others: 8, maxRemovals: 10,
			want:    &MassRemovalError{Removals: 2, LiveUsers: 10, MaxRemovals: 10, MaxPercent: 10, Users: []string{"u00", "u01"}},
			wantMsg: "the plan removes 2 of 10 users, more than 10%",
		},
		{name: "percentage raised by option", marked: 2, others: 8, maxRemovals: 10, opts: Options{MaxRemovalPercent: 20}},
		{
			name: "over settings.maxRemovals", marked: 4, others: 100, maxRemovals: 3,
			want:    &MassRemovalError{Removals: 4, LiveUsers: 104, MaxRemovals: 3, MaxPercent: 10, Users: []string{"u00", "u01", "u02", "u03"}},
			wantMsg: "the plan removes 4 users, more than settings.maxRemovals (3)",
		},
		{
			name: "over the default maxRemovals", marked: 11, others: 200, maxRemovals: model.DefaultMaxRemovals,
			want:    &MassRemovalError{Removals: 11, LiveUsers: 211, MaxRemovals: 10, MaxPercent: 10, Users: []string{"u00", "u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09", "u10"}},
			wantMsg: "the plan removes 11 users, more than settings.maxRemovals (10)",
		},
		{
			name: "maxRemovals zero allows no removal without the flag", marked: 1, others: 200,
			want:    &MassRemovalError{Removals: 1, LiveUsers: 201, MaxRemovals: 0, MaxPercent: 10, Users: []string{"u00"}},
			wantMsg: "the plan removes 1 user, more than settings.maxRemovals (0)",
		},
		{name: "allowed by option", marked: 11, others: 0, opts: Options{AllowMassRemoval: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config()
			cfg.Settings.Prune, cfg.Settings.MaxRemovals = model.PruneDelete, tt.maxRemovals
			live := realm(markedUsers(tt.marked)...)
			for i := range tt.others {
				live.Users = append(live.Users, member(fmt.Sprintf("v%03d", i)))
			}
			live.Users = append(live.Users, liveUser("service-account-a", nil), liveUser("service-account-b", nil))
			p, err := Build(cfg, live, tt.opts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				if got := p.Summary().Remove; got != tt.marked {
					t.Errorf("removals = %d, want %d", got, tt.marked)
				}
				return
			}
			var me *MassRemovalError
			if !errors.As(err, &me) {
				t.Fatalf("Build error = %v, want a *MassRemovalError", err)
			}
			if diff := cmp.Diff(tt.want, me); diff != "" {
				t.Errorf("MassRemovalError (-want +got):\n%s", diff)
			}
			if me.Error() != tt.wantMsg {
				t.Errorf("Error() = %q, want %q", me.Error(), tt.wantMsg)
			}
			if h := me.Hints(); len(h) != 1 || !strings.Contains(h[0], "--allow-mass-removal") {
				t.Errorf("Hints() = %q, want one naming --allow-mass-removal", h)
			}
		})
	}
}
