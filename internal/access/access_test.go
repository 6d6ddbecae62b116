package access

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

func live() *model.Live {
	return &model.Live{Realm: "r", Users: []model.LiveUser{
		{Username: "alice", Enabled: true, Roles: []model.Role{model.RoleAdmin}},
		// Resolution rules: a project only in applications_admin, or in both, is administered;
		// under the single-valued mappers only the first stored value counts, and "Pay" is not
		// "pay".
		{Username: "bob", Enabled: true, Roles: []model.Role{model.RoleDeveloper},
			Attributes: map[string][]string{"applications": {"codemie,pay, search", "other"}, "applications_admin": {"pay,search", "x"}}},
		{Username: "erin", Enabled: true, Roles: []model.Role{model.RoleDeveloper},
			Attributes: map[string][]string{"applications": {"Pay"}, "user_type": {"guest"}}},
		{Username: "carol", Enabled: true, Roles: []model.Role{model.RoleDeveloper},
			Attributes: map[string][]string{"applications": {"pay"}, "user_type": {"external"}}},
		{Username: "dave", Enabled: false, Roles: []model.Role{model.RoleDeveloper}, Attributes: map[string][]string{"applications": {"pay"}}},
		{Username: "gina", Enabled: true, Attributes: map[string][]string{"applications": {"pay"}}},
		{Username: "service-account-roster", Enabled: true},
	}}
}

func TestProjectResolution(t *testing.T) {
	got := ForProject(FromLive(live()), "pay")
	want := Project{Name: "pay", PlatformAdmins: []string{"alice"}, Admins: []string{"bob"}, Members: []string{"carol"},
		External: []string{"carol"}, CannotSignIn: []string{"dave", "gina"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ForProject (-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	if err := WriteProject(&buf, got); err != nil {
		t.Fatal(err)
	}
	wantText := `project:                 pay
Admins (every project):  alice
Project Admins:          bob
Regular Users:           carol (External User)
named, cannot sign in:   dave, gina
`
	if buf.String() != wantText {
		t.Errorf("WriteProject:\n%s\nwant:\n%s", buf.String(), wantText)
	}
}

func TestDiff(t *testing.T) {
	cfg := &model.Config{Users: []model.User{
		{Username: "alice", Access: model.NewAccess(model.RoleAdmin, false)},
		{Username: "bob", Access: model.NewAccess(model.RoleDeveloper, false, model.Grants{Member: []string{"codemie"}, Admin: []string{"pay", "search"}})},
		{Username: "carol", Access: model.NewAccess(model.RoleDeveloper, false, model.Grants{Member: []string{"pay"}})},
		{Username: "dave", Enabled: new(true), Access: model.NewAccess(model.RoleDeveloper, false, model.Grants{Member: []string{"pay"}})},
		{Username: "zed", Access: model.NewAccess(model.RoleDeveloper, false)},
	}}
	got := Diff(FromConfig(cfg), FromLive(live()))
	var names []string
	for _, d := range got {
		names = append(names, d.Username)
	}
	// bob matches (admin-only search is opened too); carol is external live; dave is disabled
	// live; zed is not in the realm; gina cannot sign in, so she is no difference.
	if diff := cmp.Diff([]string{"carol", "dave", "zed"}, names); diff != "" {
		t.Fatalf("Diff users (-want +got):\n%s", diff)
	}
	var buf bytes.Buffer
	if err := WriteDiff(&buf, got); err != nil {
		t.Fatal(err)
	}
	want := `USER   FILES                       REALM
carol  Regular User (pay)          External User: Regular User (pay)
dave   Regular User (pay)          cannot sign in (disabled)
zed    Regular User (no projects)  (not in the realm)

3 users differ in access between the files and the realm.
`
	if buf.String() != want {
		t.Errorf("WriteDiff:\n%s", buf.String())
	}
}
