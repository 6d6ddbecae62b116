package keycloak_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
)

// TestImportUsersMatchesCreateUser creates one user through POST /users and two through a
// batch, in a realm with a default group, and checks that both ways give the same roles,
// groups and attributes; then that a batch skips existing usernames and that a batch with a
// conflicting email creates nobody.
func TestImportUsersMatchesCreateUser(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	for _, err := range []error{
		realm.SetPolicy(ctx, "ADMIN_EDIT"),
		realm.CreateRoles(ctx, "admin", "developer"),
		realm.Admin(ctx, http.MethodPost, "/groups", map[string]string{"name": "staff"}, nil),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var groups []struct{ ID string }
	if err := realm.Admin(ctx, http.MethodGet, "/groups", nil, &groups); err != nil {
		t.Fatal(err)
	}
	if err := realm.Admin(ctx, http.MethodPut, "/default-groups/"+groups[0].ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	c := dial(t, realm)
	attrs := map[string][]string{"applications": {"codemie,payments"}, "roster_managed": {"true"}}

	single, err := c.CreateUser(ctx, model.NewUser{Username: "single", Email: "single@example.com", Enabled: true, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MapRoles(ctx, single, []model.Role{model.RoleDeveloper}, nil); err != nil {
		t.Fatal(err)
	}
	ids, err := c.ImportUsers(ctx, []model.UserImport{
		{User: model.NewUser{Username: "batch1", Email: "batch1@example.com", FirstName: "Batch", Enabled: true, Attributes: attrs,
			RequiredActions: []string{"UPDATE_PASSWORD"}}, Roles: []model.Role{model.RoleDeveloper}},
		{User: model.NewUser{Username: "batch2", Enabled: false, Attributes: attrs}, Roles: []model.Role{model.RoleAdmin}},
	})
	if err != nil {
		t.Fatalf("ImportUsers: %v", err)
	}
	if len(ids) != 2 || ids["batch1"] == "" || ids["batch2"] == "" {
		t.Fatalf("ImportUsers returned %v, want ids for batch1 and batch2", ids)
	}

	// What POST /users gives a user beyond its attributes — the default role and groups — a
	// batch create gives too.
	type grants struct {
		Roles, Groups []string
	}
	grantsOf := func(id string) grants {
		var roles []struct{ Name string }
		var groups []struct{ Path string }
		if err := realm.Admin(ctx, http.MethodGet, "/users/"+id+"/role-mappings/realm", nil, &roles); err != nil {
			t.Fatal(err)
		}
		if err := realm.Admin(ctx, http.MethodGet, "/users/"+id+"/groups", nil, &groups); err != nil {
			t.Fatal(err)
		}
		var g grants
		for _, r := range roles {
			g.Roles = append(g.Roles, r.Name)
		}
		for _, x := range groups {
			g.Groups = append(g.Groups, x.Path)
		}
		slices.Sort(g.Roles)
		return g
	}
	want := grants{Roles: []string{"default-roles-" + realm.Name, "developer"}, Groups: []string{"/staff"}}
	if diff := cmp.Diff(want, grantsOf(single)); diff != "" {
		t.Fatalf("a user made by POST /users (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, grantsOf(ids["batch1"])); diff != "" {
		t.Errorf("a batch-created user (-want +got):\n%s", diff)
	}
	live, err := c.ReadUsers(ctx, []string{ids["batch1"], ids["batch2"]})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(live, func(a, b model.LiveUser) int { return strings.Compare(a.Username, b.Username) })
	for i := range live {
		if live[i].Created.IsZero() {
			t.Errorf("%s has no creation time", live[i].Username)
		}
		live[i].Created = time.Time{}
	}
	wantUsers := []model.LiveUser{
		{ID: ids["batch1"], Username: "batch1", Email: "batch1@example.com", FirstName: "Batch", Enabled: true, Attributes: attrs,
			RequiredActions: []string{"UPDATE_PASSWORD"}},
		{ID: ids["batch2"], Username: "batch2", Attributes: attrs, RequiredActions: []string{}},
	}
	if diff := cmp.Diff(wantUsers, live); diff != "" {
		t.Errorf("batch-created users (-want +got):\n%s", diff)
	}

	// An existing username is skipped, the rest created.
	ids, err = c.ImportUsers(ctx, []model.UserImport{
		{User: model.NewUser{Username: "single", Enabled: true}, Roles: []model.Role{model.RoleAdmin}},
		{User: model.NewUser{Username: "batch3", Enabled: true}, Roles: []model.Role{model.RoleDeveloper}},
	})
	if err != nil || len(ids) != 1 || ids["batch3"] == "" {
		t.Errorf("ImportUsers with an existing username = %v, %v; want only batch3 created", ids, err)
	}
	if g := grantsOf(single); !slices.Equal(g.Roles, want.Roles) {
		t.Errorf("the skipped user's roles changed to %v", g.Roles)
	}

	// A conflicting email refuses the whole batch.
	ids, err = c.ImportUsers(ctx, []model.UserImport{
		{User: model.NewUser{Username: "batch4", Enabled: true}, Roles: []model.Role{model.RoleDeveloper}},
		{User: model.NewUser{Username: "batch5", Email: "single@example.com", Enabled: true}, Roles: []model.Role{model.RoleDeveloper}},
	})
	if err == nil {
		t.Errorf("ImportUsers with a taken email = %v, want an error", ids)
	}
	if _, found, err := c.FindUser(ctx, "batch4"); found || err != nil {
		t.Errorf("after the refused batch, batch4 exists (%v, %v): the batch must be all or nothing", found, err)
	}

	// Passwords never go through a batch.
	if _, err := c.ImportUsers(ctx, []model.UserImport{{User: model.NewUser{Username: "pw", InitialPassword: &model.Password{Value: "x"}}}}); err == nil {
		t.Error("ImportUsers with an initial password succeeded, want an error")
	}
}
