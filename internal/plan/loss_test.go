package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/model"
)

func TestAccessGuard(t *testing.T) {
	t.Parallel()
	// Twelve developers lose the projects a lost team file gave them; two lose admin rights.
	var users []model.User
	var live []model.LiveUser
	for _, name := range []string{"a01", "a02", "a03", "a04", "a05", "a06", "a07", "a08", "a09", "a10", "a11", "a12"} {
		users = append(users, user(name, model.RoleDeveloper, grants("codemie")))
		live = append(live, member(name, "codemie", "payments"))
	}
	users = append(users, user("boss", model.RoleDeveloper, grants("codemie")))
	live = append(live, liveUser("boss", model.NewAccess(model.RoleAdmin, false).Attributes(), model.RoleAdmin))

	_, err := Build(config(users...), realm(live...), Options{})
	var ae *AccessLossError
	if !errors.As(err, &ae) {
		t.Fatalf("Build: err = %v, want an *AccessLossError", err)
	}
	if len(ae.Losses) != 13 || ae.MaxLosses != model.DefaultMaxAccessLosses {
		t.Fatalf("losses = %d, max %d", len(ae.Losses), ae.MaxLosses)
	}
	if want := "the plan takes access away from 13 users, more than settings.maxAccessLosses (10):"; ae.Error() != want {
		t.Errorf("error = %q, want %q", ae.Error(), want)
	}
	lines := ae.Details()
	if want := `- user "a01" loses projects payments`; lines[0] != want {
		t.Errorf("first detail = %q, want %q", lines[0], want)
	}
	if want := `- user "boss" loses the admin role`; !slices.Contains(lines, want) {
		t.Errorf("details do not list %q:\n%s", want, strings.Join(lines, "\n"))
	}
	if _, err := Build(config(users...), realm(live...), Options{AllowMassRemoval: true}); err != nil {
		t.Errorf("with AllowMassRemoval: %v", err)
	}
	cfg := config(users...)
	cfg.Settings.MaxAccessLosses = 13
	if _, err := Build(cfg, realm(live...), Options{}); err != nil {
		t.Errorf("with maxAccessLosses 13: %v", err)
	}
}

func TestBecomingAdminLosesNothing(t *testing.T) {
	t.Parallel()
	got := accessLost(AccessChange{
		Before: model.NewAccess(model.RoleDeveloper, false, model.Grants{Member: []string{"a"}, Admin: []string{"b"}}),
		After:  model.NewAccess(model.RoleAdmin, false),
	})
	if got != nil {
		t.Errorf("developer → admin loses %q, want nothing: an Admin opens every project", got)
	}
}

// TestAccessGuardCountsWhatItCannotPredict: when the realm's mappers make the claims CodeMie
// reads unpredictable, a change proves no access unchanged, so the guard counts it: a mapper
// added in the realm cannot switch the guard off.
func TestAccessGuardCountsWhatItCannotPredict(t *testing.T) {
	t.Parallel()
	var users []model.User
	var live []model.LiveUser
	for i := range 11 {
		name := fmt.Sprintf("u%02d", i)
		users = append(users, user(name, model.RoleDeveloper, model.Grants{}))
		live = append(live, member(name, "payments"))
	}
	l := realm(live...)
	l.Client = &model.LiveCodeMieClient{ClientID: "codemie", DefaultScopes: []string{"profile", "roles", "legacy"}, Mapping: duplicateApplicationsMapping()}
	_, err := Build(config(users...), l, Options{})
	var ae *AccessLossError
	if !errors.As(err, &ae) {
		t.Fatalf("Build: err = %v, want an *AccessLossError", err)
	}
	if want := `- user "u00" loses what CodeMie reads, which roster cannot predict (mappers "applications", "legacy applications" all fill claim applications)`; ae.Details()[0] != want {
		t.Errorf("first detail = %q, want %q", ae.Details()[0], want)
	}
}
