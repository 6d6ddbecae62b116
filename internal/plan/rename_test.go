package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

// withEmail returns the live user with an email.
func withEmail(u model.LiveUser, email string) model.LiveUser {
	u.Email = email
	return u
}

// declaredWithEmail is a declared developer of codemie with an email.
func declaredWithEmail(name, email string) model.User {
	u := user(name, model.RoleDeveloper, grants("codemie"))
	u.Email = &email
	return u
}

func TestRenameWhenALeftUserSharesTheEmail(t *testing.T) {
	t.Parallel()
	for _, prune := range []model.Prune{model.PruneNone, model.PruneDisable, model.PruneDelete} {
		t.Run(string(prune), func(t *testing.T) {
			cfg := config(declaredWithEmail("robert", "bob@corp.com"))
			cfg.Settings.Prune = prune
			bob := withEmail(owned(member("bob", "codemie")), "bob@corp.com")
			bob.Enabled = false // disabled by an earlier prune: the new name brings it back
			live := realm(bob)
			live.Login.EditUsernameAllowed = true
			p, err := Build(cfg, live, Options{})
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if len(p.Changes) != 1 {
				t.Fatalf("changes = %+v, want one rename", p.Changes)
			}
			c := p.Changes[0]
			if c.Action != Rename || c.Addr.String() != "user.robert" || c.User.Before.ID != "id-bob" {
				t.Fatalf("change = %s %s of %s, want rename user.robert of id-bob", c.Action, c.Addr, c.User.Before.ID)
			}
			if got := *c.User.Patch.Username; got != "robert" {
				t.Errorf("Patch.Username = %q", got)
			}
			if c.User.Patch.Enabled == nil || !*c.User.Patch.Enabled {
				t.Error("the renamed account is not enabled, as a create would have made it")
			}
			want := []FieldChange{
				{Name: "username", Before: StringValue("bob"), After: StringValue("robert")},
				{Name: "enabled", Before: BoolValue(false), After: BoolValue(true)},
			}
			if diff := cmp.Diff(want, c.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if s := p.Summary(); s != (Summary{Change: 1}) {
				t.Errorf("summary = %+v", s)
			}
		})
	}
}

func TestRenameWhenALeftUserHoldsTheIdentityLink(t *testing.T) {
	t.Parallel()
	link := model.FederatedIdentity{Provider: "entra-id", UserID: "7f0c"}
	robert := user("robert", model.RoleDeveloper, grants("codemie"))
	robert.FederatedIdentities = []model.FederatedIdentity{link}
	bob := owned(member("bob", "codemie"))
	bob.FederatedIdentities = []model.FederatedIdentity{link}
	live := realm(bob)
	live.Login.EditUsernameAllowed = true
	p, err := Build(config(robert), live, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != Rename || len(p.Changes[0].User.Links) != 0 {
		t.Fatalf("changes = %+v, want one rename adding no link", p.Changes)
	}
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		users  []model.User
		live   []model.LiveUser
		login  model.LoginSettings
		want   []Conflict
		fixHas string
	}{
		{
			name:   "rename the realm does not allow",
			users:  []model.User{declaredWithEmail("robert", "bob@corp.com")},
			live:   []model.LiveUser{withEmail(owned(member("bob", "codemie")), "bob@corp.com")},
			want:   []Conflict{{User: "robert", Field: "email", Holder: "bob", Rename: true}},
			fixHas: "Realm settings → Login → Edit username",
		},
		{
			name:   "email of a hand-made user",
			users:  []model.User{declaredWithEmail("robert", "bob@corp.com")},
			live:   []model.LiveUser{withEmail(member("bob", "codemie"), "BOB@corp.com")},
			login:  model.LoginSettings{EditUsernameAllowed: true},
			want:   []Conflict{{User: "robert", Field: "email", Holder: "bob"}},
			fixHas: "roster export --adopt",
		},
		{
			name:   "email of a declared user",
			users:  []model.User{declaredWithEmail("robert", "bob@corp.com"), user("bob", model.RoleDeveloper, grants("codemie"))},
			live:   []model.LiveUser{withEmail(owned(member("bob", "codemie")), "bob@corp.com")},
			login:  model.LoginSettings{EditUsernameAllowed: true},
			want:   []Conflict{{User: "robert", Field: "email", Holder: "bob"}},
			fixHas: "is declared too",
		},
		{
			name:   "an update to an email another user holds",
			users:  []model.User{declaredWithEmail("ann", "bob@corp.com")},
			live:   []model.LiveUser{withEmail(member("ann", "codemie"), "ann@corp.com"), withEmail(member("bob", "codemie"), "bob@corp.com")},
			want:   []Conflict{{User: "ann", Field: "email", Holder: "bob"}},
			fixHas: "first",
		},
		{
			name:   "username that is another user's email, with login by email",
			users:  []model.User{user("bob@corp.com", model.RoleDeveloper, grants("codemie"))},
			live:   []model.LiveUser{withEmail(member("bob", "codemie"), "bob@corp.com")},
			login:  model.LoginSettings{LoginWithEmailAllowed: true},
			want:   []Conflict{{User: "bob@corp.com", Field: "username", Holder: "bob"}},
			fixHas: "another username",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config(tt.users...)
			cfg.Settings.Prune = model.PruneDelete
			live := realm(tt.live...)
			live.Login = tt.login
			_, err := Build(cfg, live, Options{})
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("Build: err = %v, want a *ConflictError", err)
			}
			for i := range ce.Conflicts {
				if !strings.Contains(ce.Conflicts[i].Fix, tt.fixHas) {
					t.Errorf("fix %q does not say %q", ce.Conflicts[i].Fix, tt.fixHas)
				}
				ce.Conflicts[i].Fix = ""
			}
			if diff := cmp.Diff(tt.want, ce.Conflicts); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSharedEmailWithDuplicatesAllowedIsACreate(t *testing.T) {
	t.Parallel()
	live := realm(withEmail(member("bob", "codemie"), "bob@corp.com"))
	live.Login.DuplicateEmailsAllowed = true
	p, err := Build(config(declaredWithEmail("robert", "bob@corp.com")), live, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != Create {
		t.Fatalf("changes = %+v, want one create", p.Changes)
	}
}

func TestRenameLeavesUnreadLinksToTheNextPlan(t *testing.T) {
	t.Parallel()
	robert := declaredWithEmail("robert", "bob@corp.com")
	robert.FederatedIdentities = []model.FederatedIdentity{{Provider: "entra-id", UserID: "7f0c"}}
	live := realm(withEmail(owned(member("bob", "codemie")), "bob@corp.com")) // links not read
	live.Login.EditUsernameAllowed = true
	p, err := Build(config(robert), live, Options{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if c := p.Changes[0]; c.Action != Rename || len(c.User.Links) != 0 || len(c.Fields) != 1 {
		t.Errorf("rename = %+v, fields %v; want no link added", c.User, c.Fields)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "the next plan adds") {
		t.Errorf("notes = %q", p.Notes)
	}
}
