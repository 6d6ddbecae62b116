package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

// Apply reads only Action and the "what" of each change; these tests pin that part.

func TestCreateCarriesTheUserToCreate(t *testing.T) {
	t.Parallel()
	u := user("carol", model.RoleDeveloper, model.Grants{Member: []string{"codemie"}, Admin: []string{"payments"}})
	u.Email = ptr("carol@corp.com")
	u.Attributes = map[string][]string{"dept": {"finance"}, "empty": {}}
	u.FederatedIdentities = []model.FederatedIdentity{{Provider: "saml", UserID: "s"}, {Provider: "entra-id", UserID: "e"}}
	u.InitialPassword = &model.InitialPassword{SecretRef: model.SecretRef{Env: "CAROL_PASSWORD"}, Temporary: true}
	cfg := config(u)
	cfg.Settings.OwnerAttribute = "managed_by"
	p, err := Build(cfg, realm(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := &UserChange{
		After: &cfg.Users[0],
		New: &model.NewUser{
			Username: "carol", Email: "carol@corp.com", Enabled: true,
			Attributes: map[string][]string{
				"applications": {"codemie,payments"}, "applications_admin": {"payments"},
				"dept": {"finance"}, "managed_by": {"true"},
			},
		},
		AddRoles: []model.Role{model.RoleDeveloper},
		Links:    []model.FederatedIdentity{{Provider: "entra-id", UserID: "e"}, {Provider: "saml", UserID: "s"}},
	}
	if diff := cmp.Diff(want, p.Changes[0].User); diff != "" {
		t.Errorf("UserChange (-want +got):\n%s", diff)
	}
}

func TestUpdateCarriesPatchRolesAndLinks(t *testing.T) {
	t.Parallel()
	u := user("bob", model.RoleAdmin, model.Grants{Admin: []string{"payments"}})
	u.LastName = ptr("Ray")
	u.Attributes = map[string][]string{"dept": nil}
	u.FederatedIdentities = []model.FederatedIdentity{{Provider: "entra-id", UserID: "e"}}
	lu := liveUser("bob", map[string][]string{"applications": {"payments", "search"}, "user_type": {"external"}, "dept": {"x"}}, model.RoleDeveloper)
	p, err := Build(config(u), realm(lu), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Changes[0]
	want := &UserChange{
		Before: &realm(lu).Users[0],
		After:  &u,
		Patch: model.UserPatch{
			LastName: ptr("Ray"),
			Attributes: map[string][]string{
				"applications": {"payments"}, "applications_admin": {"payments"}, "user_type": nil, "dept": nil,
			},
		},
		AddRoles:    []model.Role{model.RoleAdmin},
		RemoveRoles: []model.Role{model.RoleDeveloper},
		Links:       []model.FederatedIdentity{{Provider: "entra-id", UserID: "e"}},
	}
	if diff := cmp.Diff(want, c.User); diff != "" {
		t.Errorf("UserChange (-want +got):\n%s", diff)
	}
	if c.User.Before.ID != "id-bob" {
		t.Errorf("Before.ID = %q, want id-bob", c.User.Before.ID)
	}
}

func TestDisableCarriesEnabledFalseOnly(t *testing.T) {
	t.Parallel()
	cfg := config()
	cfg.Settings.Prune = model.PruneDisable
	p, err := Build(cfg, realm(owned(member("ann")), member("b"), member("c"), member("d"), member("e"),
		member("f"), member("g"), member("h"), member("i"), member("j")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Changes[0]
	if c.Action != Disable || c.User.After != nil || c.User.New != nil {
		t.Fatalf("change = %+v, want a Disable with no After", c)
	}
	if diff := cmp.Diff(model.UserPatch{Enabled: ptr(false)}, c.User.Patch); diff != "" {
		t.Errorf("Patch (-want +got):\n%s", diff)
	}
}

func TestPolicyAndRoleChangesCarryTheirAfter(t *testing.T) {
	t.Parallel()
	cfg := config()
	cfg.Settings.UnmanagedAttributePolicy = model.PolicyEnabled
	cfg.Roles = []model.RealmRole{{Name: "admin", Description: "CodeMie Admin"}, {Name: "developer"}}
	live := realm()
	live.Roles = []model.RealmRole{{Name: "admin"}}
	p, err := Build(cfg, live, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{
		{
			Addr: AddrPolicy(), Action: Update,
			Policy: &PolicyChange{Before: model.PolicyAdminEdit, After: model.PolicyEnabled},
			Fields: []FieldChange{{Name: "unmanagedAttributePolicy", Before: NameValue("ADMIN_EDIT"), After: NameValue("ENABLED")}},
		},
		{
			Addr: Address{KindRole, "admin"}, Action: Update,
			Role:   &RoleChange{Before: &model.RealmRole{Name: "admin"}, After: &model.RealmRole{Name: "admin", Description: "CodeMie Admin"}},
			Fields: []FieldChange{{Name: "description", Before: Value{}, After: StringValue("CodeMie Admin")}},
		},
		{
			Addr: Address{KindRole, "developer"}, Action: Create,
			Role: &RoleChange{After: &model.RealmRole{Name: "developer"}},
		},
	}
	if diff := cmp.Diff(want, p.Changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestSummaryAndActions(t *testing.T) {
	t.Parallel()
	p := &Plan{Changes: []Change{{Action: Create}, {Action: Update}, {Action: Update}, {Action: Disable}, {Action: Delete}}}
	if got, want := p.Summary(), (Summary{Add: 1, Change: 2, Remove: 2}); got != want {
		t.Errorf("Summary() = %+v, want %+v", got, want)
	}
	if got, want := p.Summary().String(), "Plan: 1 to add, 2 to change, 2 to remove."; got != want {
		t.Errorf("Summary().String() = %q, want %q", got, want)
	}
	if !p.HasChanges() || (&Plan{}).HasChanges() {
		t.Error("HasChanges wrong")
	}
	for _, tt := range []struct {
		a                    Action
		name, symbol, legend string
	}{
		{NoOp, "no-op", " ", "no change"},
		{Create, "create", "+", "create"},
		{Update, "update", "~", "update in place"},
		{Disable, "disable", "-", "disable"},
		{Delete, "delete", "-", "delete"},
	} {
		if tt.a.String() != tt.name || tt.a.Symbol() != tt.symbol || tt.a.Description() != tt.legend {
			t.Errorf("%d: got %q %q %q, want %q %q %q", tt.a, tt.a.String(), tt.a.Symbol(), tt.a.Description(), tt.name, tt.symbol, tt.legend)
		}
	}
	for _, tt := range []struct {
		a            Address
		str, display string
	}{
		{AddrPolicy(), "realm.unmanagedAttributePolicy", "realm.unmanagedAttributePolicy"},
		{Address{KindRole, "developer"}, "role.developer", `role "developer"`},
		{Address{KindUser, "john.doe@corp.com"}, "user.john.doe@corp.com", `user "john.doe@corp.com"`},
	} {
		if tt.a.String() != tt.str || tt.a.Display() != tt.display {
			t.Errorf("%#v: got %q %q, want %q %q", tt.a, tt.a.String(), tt.a.Display(), tt.str, tt.display)
		}
	}
}
