package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

// Fixtures: a realm "codemie" whose policy lets admins write attributes, with both owned roles.

func config(users ...model.User) *model.Config {
	return &model.Config{
		Version: model.FormatVersion,
		Realm:   "codemie",
		Settings: model.Settings{
			Prune: model.PruneNone, MaxRemovals: model.DefaultMaxRemovals, MaxAccessLosses: model.DefaultMaxAccessLosses,
			OwnerAttribute: model.DefaultOwnerAttribute,
		},
		Roles: []model.RealmRole{{Name: "admin"}, {Name: "developer"}},
		Users: users,
	}
}

func realm(users ...model.LiveUser) *model.Live {
	return &model.Live{
		Realm:    "codemie",
		Policy:   model.PolicyAdminEdit,
		Roles:    []model.RealmRole{{Name: "admin"}, {Name: "developer"}},
		Users:    users,
		Identity: "roster-admin",
	}
}

// user is a declared user with the given role and own grants.
func user(name string, role model.Role, g model.Grants) model.User {
	return model.User{Username: name, Role: role, Projects: g, Access: model.NewAccess(role, false, g)}
}

// liveUser is an enabled live user holding roles with the attributes as given.
func liveUser(name string, attrs map[string][]string, roles ...model.Role) model.LiveUser {
	return model.LiveUser{ID: "id-" + name, Username: name, Enabled: true, Attributes: attrs, Roles: roles}
}

// member is a live developer stored exactly as roster writes member grants.
func member(name string, projects ...string) model.LiveUser {
	return liveUser(name, model.NewAccess(model.RoleDeveloper, false, model.Grants{Member: projects}).Attributes(), model.RoleDeveloper)
}

func owned(u model.LiveUser) model.LiveUser {
	u.Attributes = mergeAttrs(u.Attributes, map[string][]string{model.DefaultOwnerAttribute: {"true"}})
	return u
}

func mergeAttrs(a, b map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range a {
		if v != nil {
			out[k] = v
		}
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func grants(member ...string) model.Grants { return model.Grants{Member: member} }

// change is the part of a Change a table test states.
type change struct {
	Addr       string
	Action     string
	Fields     []FieldChange
	CodeMie    string
	FormatOnly bool
	Reason     string
}

func digest(p *Plan) []change {
	var out []change
	for _, c := range p.Changes {
		d := change{Addr: c.Addr.String(), Action: c.Action.String(), Fields: c.Fields, FormatOnly: c.FormatOnly, Reason: c.Reason}
		if c.Access != nil {
			d.CodeMie = c.Access.String()
		}
		out = append(out, d)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

const enabledWarning = "with unmanagedAttributePolicy ENABLED every user can edit their own attributes through Keycloak's account console and account API, " +
	"and so give themselves projects (applications) and Project Admin rights (applications_admin): set settings.unmanagedAttributePolicy: ADMIN_EDIT"

func TestBuild(t *testing.T) {
	t.Parallel()
	payments := grants("payments")
	tests := []struct {
		name     string
		cfg      *model.Config
		live     *model.Live
		opts     Options
		want     []change
		notes    []string
		warnings []string
	}{
		{
			name: "realm matches",
			cfg:  config(user("bob", model.RoleDeveloper, payments)),
			live: realm(member("bob", "payments")),
		},
		{
			name: "create with every field",
			cfg: config(func() model.User {
				u := user("carol", model.RoleDeveloper, model.Grants{Member: []string{"codemie"}, Admin: []string{"payments"}})
				u.Email, u.FirstName, u.LastName, u.Enabled = ptr("carol@corp.com"), ptr("Carol"), ptr("Ng"), ptr(true)
				u.RequiredActions = &[]string{"UPDATE_PASSWORD"}
				u.Attributes = map[string][]string{"dept": {"finance"}}
				u.FederatedIdentities = []model.FederatedIdentity{{Provider: "entra-id", UserID: "sub-1", UserName: "carol@corp.com"}}
				u.InitialPassword = &model.InitialPassword{SecretRef: model.SecretRef{Env: "CAROL_PASSWORD"}, Temporary: true}
				return u
			}()),
			live: realm(),
			want: []change{{
				Addr: "user.carol", Action: "create",
				Fields: []FieldChange{
					{Name: "email", After: StringValue("carol@corp.com")},
					{Name: "firstName", After: StringValue("Carol")},
					{Name: "lastName", After: StringValue("Ng")},
					{Name: "enabled", After: BoolValue(true)},
					{Name: "requiredActions", After: ListValue([]string{"UPDATE_PASSWORD"})},
					{Name: "role", After: RolesValue([]string{"developer"})},
					{Name: "applications", After: AttributeValue([]string{"codemie,payments"})},
					{Name: "applications_admin", After: AttributeValue([]string{"payments"})},
					{Name: "attributes.dept", After: AttributeValue([]string{"finance"})},
					{Name: "attributes.roster_managed", After: AttributeValue([]string{"true"})},
					{Name: "identity.entra-id", After: LinkValue(model.FederatedIdentity{Provider: "entra-id", UserID: "sub-1", UserName: "carol@corp.com"})},
					{Name: "initial password", Sensitive: true, Source: "env CAROL_PASSWORD"},
				},
				CodeMie: "cannot sign in → Project Admin (payments); Regular User (codemie)",
			}},
		},
		{
			name: "update the user's own fields, comparing email without case and actions as a set",
			cfg: config(func() model.User {
				u := user("bob", model.RoleDeveloper, payments)
				u.Email, u.FirstName, u.LastName, u.Enabled = ptr("bob@corp.com"), ptr("Robert"), ptr("Ray"), ptr(false)
				u.RequiredActions = &[]string{"CONFIGURE_TOTP", "UPDATE_PASSWORD"}
				u.Attributes = map[string][]string{"dept": {"a", "b"}, "site": {"kyiv"}, "gone": nil}
				return u
			}()),
			live: realm(func() model.LiveUser {
				u := member("bob", "payments")
				u.Email, u.FirstName, u.LastName = "BOB@corp.com", "Bob", "Ray"
				u.RequiredActions = []string{"UPDATE_PASSWORD", "CONFIGURE_TOTP"}
				u.Attributes = mergeAttrs(u.Attributes, map[string][]string{"dept": {"b", "a"}, "site": {"lviv"}, "gone": {"x"}, "other": {"kept"}})
				return u
			}()),
			want: []change{{
				Addr: "user.bob", Action: "update",
				Fields: []FieldChange{
					{Name: "firstName", Before: StringValue("Bob"), After: StringValue("Robert")},
					{Name: "enabled", Before: BoolValue(true), After: BoolValue(false)},
					{Name: "attributes.gone", Before: AttributeValue([]string{"x"}), After: Value{}},
					{Name: "attributes.site", Before: AttributeValue([]string{"lviv"}), After: AttributeValue([]string{"kyiv"})},
				},
				CodeMie: "Regular User (payments) → cannot sign in (disabled)",
			}},
		},
		{
			name: "required actions cleared and email set",
			cfg: config(func() model.User {
				u := user("bob", model.RoleDeveloper, payments)
				u.Email, u.RequiredActions = ptr("bob@corp.com"), &[]string{}
				return u
			}()),
			live: realm(func() model.LiveUser {
				u := member("bob", "payments")
				u.RequiredActions = []string{"VERIFY_EMAIL"}
				return u
			}()),
			want: []change{{
				Addr: "user.bob", Action: "update",
				Fields: []FieldChange{
					{Name: "email", Before: Value{}, After: StringValue("bob@corp.com")},
					{Name: "requiredActions", Before: ListValue([]string{"VERIFY_EMAIL"}), After: ListValue([]string{})},
				},
				CodeMie: "no access change",
			}},
		},
		{
			name: "role change",
			cfg:  config(user("bob", model.RoleAdmin, payments)),
			live: realm(member("bob", "payments")),
			want: []change{{
				Addr: "user.bob", Action: "update",
				Fields:  []FieldChange{{Name: "role", Before: RolesValue([]string{"developer"}), After: RolesValue([]string{"admin"})}},
				CodeMie: "Regular User (payments) → Admin",
			}},
		},
		{
			name: "a user without a role gets one",
			cfg:  config(user("bob", model.RoleDeveloper, grants("codemie"))),
			live: realm(liveUser("bob", map[string][]string{"applications": {"codemie"}})),
			want: []change{{
				Addr: "user.bob", Action: "update",
				Fields:  []FieldChange{{Name: "role", Before: Value{}, After: RolesValue([]string{"developer"})}},
				CodeMie: "cannot sign in → Regular User (codemie)",
			}},
		},
		{
			name: "projects change",
			cfg:  config(user("bob", model.RoleDeveloper, model.Grants{Admin: []string{"payments"}, Member: []string{"search"}})),
			live: realm(member("bob", "payments")),
			want: []change{{
				Addr: "user.bob", Action: "update",
				Fields: []FieldChange{
					{Name: "applications", Before: AttributeValue([]string{"payments"}), After: AttributeValue([]string{"payments,search"})},
					{Name: "applications_admin", Before: Value{}, After: AttributeValue([]string{"payments"})},
				},
				CodeMie: "Regular User (payments) → Project Admin (payments); Regular User (search)",
			}},
		},
		{
			name: "all projects removed",
			cfg:  config(user("bob", model.RoleDeveloper, model.Grants{})),
			live: realm(member("bob", "payments")),
			want: []change{{
				Addr: "user.bob", Action: "update",
				Fields:  []FieldChange{{Name: "applications", Before: AttributeValue([]string{"payments"}), After: Value{}}},
				CodeMie: "Regular User (payments) → Regular User (no projects)",
			}},
		},
		{
			name: "external on and off",
			cfg: config(
				func() model.User {
					u := user("guest", model.RoleDeveloper, payments)
					u.External, u.Access.External = true, true
					return u
				}(),
				user("staff", model.RoleDeveloper, payments),
			),
			live: realm(
				member("guest", "payments"),
				liveUser("staff", map[string][]string{"applications": {"payments"}, "user_type": {"external"}}, model.RoleDeveloper),
			),
			want: []change{
				{
					Addr: "user.guest", Action: "update",
					Fields:  []FieldChange{{Name: "user_type", Before: Value{}, After: AttributeValue([]string{"external"})}},
					CodeMie: "Regular User (payments) → External User: Regular User (payments)",
				},
				{
					Addr: "user.staff", Action: "update",
					Fields:  []FieldChange{{Name: "user_type", Before: AttributeValue([]string{"external"}), After: Value{}}},
					CodeMie: "External User: Regular User (payments) → Regular User (payments)",
				},
			},
		},
		{
			name: "format-only only where CodeMie reads the tokens alike",
			cfg: config(
				user("multi", model.RoleDeveloper, grants("codemie", "payments")),
				user("admin-missing", model.RoleDeveloper, model.Grants{Admin: []string{"payments"}}),
				user("both-roles", model.RoleAdmin, payments),
				user("odd-type", model.RoleDeveloper, payments),
			),
			live: realm(
				liveUser("admin-missing", map[string][]string{"applications_admin": {"payments"}}, model.RoleDeveloper),
				liveUser("both-roles", map[string][]string{"applications": {"payments"}}, model.RoleAdmin, model.RoleDeveloper),
				liveUser("multi", map[string][]string{"applications": {" Payments", "codemie"}}, model.RoleDeveloper),
				liveUser("odd-type", map[string][]string{"applications": {"payments"}, "user_type": {"Regular"}}, model.RoleDeveloper),
			),
			want: []change{
				{
					Addr: "user.admin-missing", Action: "update",
					CodeMie: "Project Admin (payments (not in applications)) → Project Admin (payments)",
					Fields:  []FieldChange{{Name: "applications", Before: Value{}, After: AttributeValue([]string{"payments"})}},
				},
				{
					Addr: "user.both-roles", Action: "update", FormatOnly: true, CodeMie: "no access change",
					Fields: []FieldChange{{Name: "role", Before: RolesValue([]string{"admin", "developer"}), After: RolesValue([]string{"admin"})}},
				},
				{
					// Single-valued mappers carry the first value only, and CodeMie keeps case.
					Addr: "user.multi", Action: "update", CodeMie: "Regular User (Payments) → Regular User (codemie, payments)",
					Fields: []FieldChange{{Name: "applications", Before: AttributeValue([]string{" Payments", "codemie"}), After: AttributeValue([]string{"codemie,payments"})}},
				},
				{
					Addr: "user.odd-type", Action: "update", FormatOnly: true, CodeMie: "no access change",
					Fields: []FieldChange{{Name: "user_type", Before: AttributeValue([]string{"Regular"}), After: Value{}}},
				},
			},
		},
		{
			name: "user_type regular is left as it is",
			cfg:  config(user("bob", model.RoleDeveloper, payments)),
			live: realm(liveUser("bob", map[string][]string{"applications": {"payments"}, "user_type": {"regular"}}, model.RoleDeveloper)),
		},
		{
			name: "policy change comes first, then roles, then users",
			cfg: func() *model.Config {
				c := config(user("zed", model.RoleDeveloper, payments), user("amy", model.RoleAdmin, model.Grants{}))
				c.Settings.UnmanagedAttributePolicy = model.PolicyAdminEdit
				c.Roles = append(c.Roles, model.RealmRole{Name: "auditor", Description: "reads logs"})
				return c
			}(),
			live: func() *model.Live {
				l := realm(member("zed", "search"))
				l.Policy, l.Roles = "", nil
				return l
			}(),
			want: []change{
				{Addr: "realm.unmanagedAttributePolicy", Action: "update", Fields: []FieldChange{{Name: "unmanagedAttributePolicy", Before: NameValue("DISABLED"), After: NameValue("ADMIN_EDIT")}}},
				{Addr: "role.admin", Action: "create"},
				{Addr: "role.auditor", Action: "create", Fields: []FieldChange{{Name: "description", After: StringValue("reads logs")}}},
				{Addr: "role.developer", Action: "create"},
				{
					Addr: "user.amy", Action: "create", CodeMie: "cannot sign in → Admin",
					Fields: []FieldChange{{Name: "role", After: RolesValue([]string{"admin"})}, {Name: "attributes.roster_managed", After: AttributeValue([]string{"true"})}},
				},
				{
					Addr: "user.zed", Action: "update", CodeMie: "Regular User (search) → Regular User (payments)",
					Fields: []FieldChange{{Name: "applications", Before: AttributeValue([]string{"search"}), After: AttributeValue([]string{"payments"})}},
				},
			},
			notes: []string{"the unmanaged-attribute policy changes from DISABLED to ADMIN_EDIT first: Keycloak would drop the attributes this plan writes under DISABLED"},
		},
		{
			name: "policy change without attribute writes needs no note; ENABLED warns of self-service",
			cfg: func() *model.Config {
				c := config()
				c.Settings.UnmanagedAttributePolicy = model.PolicyEnabled
				return c
			}(),
			live:     realm(),
			want:     []change{{Addr: "realm.unmanagedAttributePolicy", Action: "update", Fields: []FieldChange{{Name: "unmanagedAttributePolicy", Before: NameValue("ADMIN_EDIT"), After: NameValue("ENABLED")}}}},
			warnings: []string{enabledWarning},
		},
		{
			name:     "a realm left at ENABLED warns of self-service",
			cfg:      config(),
			live:     func() *model.Live { l := realm(); l.Policy = model.PolicyEnabled; return l }(),
			warnings: []string{enabledWarning},
		},
		{
			name: "a realm moved off ENABLED does not warn",
			cfg: func() *model.Config {
				c := config()
				c.Settings.UnmanagedAttributePolicy = model.PolicyAdminEdit
				return c
			}(),
			live: func() *model.Live { l := realm(); l.Policy = model.PolicyEnabled; return l }(),
			want: []change{{Addr: "realm.unmanagedAttributePolicy", Action: "update", Fields: []FieldChange{{Name: "unmanagedAttributePolicy", Before: NameValue("ENABLED"), After: NameValue("ADMIN_EDIT")}}}},
		},
		{
			name: "role description updated when declared, left alone when not",
			cfg: func() *model.Config {
				c := config()
				c.Roles = []model.RealmRole{{Name: "admin"}, {Name: "developer", Description: "CodeMie user"}}
				return c
			}(),
			live: func() *model.Live {
				l := realm()
				l.Roles = []model.RealmRole{{Name: "admin", Description: "old"}, {Name: "developer", Description: "old"}}
				return l
			}(),
			want: []change{{Addr: "role.developer", Action: "update", Fields: []FieldChange{{Name: "description", Before: StringValue("old"), After: StringValue("CodeMie user")}}}},
		},
		{
			name: "service account, storage user and login identity are never changed",
			cfg: config(
				user("service-account-api", model.RoleDeveloper, payments),
				user("ldap-bob", model.RoleDeveloper, payments),
				user("roster-admin", model.RoleAdmin, model.Grants{}),
			),
			live: realm(
				func() model.LiveUser { u := liveUser("ldap-bob", nil); u.FederationLink = "ldap-1"; return u }(),
				liveUser("roster-admin", nil),
				liveUser("service-account-api", nil),
			),
			notes: []string{
				`user "ldap-bob" comes from user storage (federation link "ldap-1"): roster never changes it`,
				`user "roster-admin" is the identity roster signs in as: roster never changes it`,
				`user "service-account-api" is a service account: roster never changes it`,
			},
		},
		{
			name:  "users the file does not declare are counted and left alone",
			cfg:   config(user("bob", model.RoleDeveloper, payments)),
			live:  realm(member("ann"), member("bob", "payments"), owned(member("cid")), liveUser("roster-admin", nil), liveUser("service-account-x", nil)),
			notes: []string{"3 users not managed by this file, left alone"},
		},
		{
			name: "prune disable: marked enabled users are disabled, unmarked ones and the login identity left alone",
			cfg: func() *model.Config {
				c := config()
				c.Settings.Prune = model.PruneDisable
				return c
			}(),
			live: realm(
				owned(member("ann", "payments")),
				member("bob"),
				func() model.LiveUser { u := owned(member("cid")); u.Enabled = false; return u }(),
				func() model.LiveUser { u := owned(member("dan")); u.FederationLink = "ldap-1"; return u }(),
				owned(liveUser("service-account-x", nil)),
				owned(liveUser("roster-admin", nil)),
				liveUser("e1", nil), liveUser("e2", nil), liveUser("e3", nil), liveUser("e4", nil), liveUser("e5", nil),
			),
			want: []change{{
				Addr: "user.ann", Action: "disable", CodeMie: "Regular User (payments) → removed",
				Fields: []FieldChange{{Name: "enabled", Before: BoolValue(true), After: BoolValue(false)}},
				Reason: "not in the configuration and marked roster_managed=true; prune: disable",
			}},
			notes: []string{"8 users not managed by this file, left alone"},
		},
		{
			name: "prune never removes the login identity, a service account or an unmarked user, even marked",
			cfg:  config(),
			live: realm(
				func() model.LiveUser { u := owned(member("ann")); u.Enabled = false; return u }(),
				owned(liveUser("roster-admin", nil)),
				owned(liveUser("service-account-x", nil)),
				member("bob"),
			),
			opts: Options{Prune: model.PruneDelete},
			want: []change{{
				Addr: "user.ann", Action: "delete", CodeMie: "cannot sign in (disabled) → removed",
				Reason: "not in the configuration and marked roster_managed=true; prune: delete",
			}},
			notes: []string{"2 users not managed by this file, left alone"},
		},
		{
			name: "prune delete from the options overrides the file",
			cfg:  config(),
			live: realm(
				func() model.LiveUser { u := owned(member("ann")); u.Enabled = false; return u }(),
				member("bob"), liveUser("c", nil), liveUser("d", nil), liveUser("e", nil),
				liveUser("f", nil), liveUser("g", nil), liveUser("h", nil), liveUser("i", nil), liveUser("j", nil),
			),
			opts: Options{Prune: model.PruneDelete},
			want: []change{{
				Addr: "user.ann", Action: "delete", CodeMie: "cannot sign in (disabled) → removed",
				Reason: "not in the configuration and marked roster_managed=true; prune: delete",
			}},
			notes: []string{"9 users not managed by this file, left alone"},
		},
		{
			name: "federated identities: missing links added, others left alone",
			cfg: config(func() model.User {
				u := user("bob", model.RoleDeveloper, payments)
				u.FederatedIdentities = []model.FederatedIdentity{{Provider: "saml", UserID: "s-1"}, {Provider: "entra-id", UserID: "new"}}
				return u
			}()),
			live: realm(func() model.LiveUser {
				u := member("bob", "payments")
				u.FederatedIdentities = []model.FederatedIdentity{{Provider: "entra-id", UserID: "old"}, {Provider: "google", UserID: "g"}}
				return u
			}()),
			want: []change{{
				Addr: "user.bob", Action: "update", CodeMie: "no access change",
				Fields: []FieldChange{{Name: "identity.saml", Before: Value{}, After: LinkValue(model.FederatedIdentity{Provider: "saml", UserID: "s-1"})}},
			}},
			notes: []string{`user "bob" is linked to "entra-id" as "old", the file says "new": roster leaves existing links alone`},
		},
		{
			name:  "a disabled user the file does not enable stays disabled",
			cfg:   config(user("bob", model.RoleDeveloper, payments)),
			live:  realm(func() model.LiveUser { u := member("bob", "payments"); u.Enabled = false; return u }()),
			notes: []string{`user "bob" is disabled in Keycloak and the file does not set enabled: it stays disabled; add enabled: true to the user to enable them`},
		},
		{
			name: "user management mode warns about each change of an existing user's projects or admin status",
			cfg: func() *model.Config {
				off := user("off", model.RoleDeveloper, payments)
				off.Enabled, off.Access.Disabled = ptr(false), true
				c := config(user("bob", model.RoleAdmin, payments), user("cy", model.RoleDeveloper, grants("payments", "search")),
					user("new", model.RoleDeveloper, payments), off)
				c.Settings.UserManagement = true
				return c
			}(),
			live: realm(member("bob", "payments"), member("cy", "payments"), member("off", "payments")),
			want: []change{
				{Addr: "user.bob", Action: "update", CodeMie: "Regular User (payments) → Admin", Fields: []FieldChange{{Name: "role", Before: RolesValue([]string{"developer"}), After: RolesValue([]string{"admin"})}}},
				{Addr: "user.cy", Action: "update", CodeMie: "Regular User (payments) → Regular User (payments, search)",
					Fields: []FieldChange{{Name: "applications", Before: AttributeValue([]string{"payments"}), After: AttributeValue([]string{"payments,search"})}}},
				{
					Addr: "user.new", Action: "create", CodeMie: "cannot sign in → Regular User (payments)",
					Fields: []FieldChange{{Name: "role", After: RolesValue([]string{"developer"})}, {Name: "applications", After: AttributeValue([]string{"payments"})}, {Name: "attributes.roster_managed", After: AttributeValue([]string{"true"})}},
				},
				{Addr: "user.off", Action: "update", CodeMie: "Regular User (payments) → cannot sign in (disabled)",
					Fields: []FieldChange{{Name: "enabled", Before: BoolValue(true), After: BoolValue(false)}}},
			},
			warnings: []string{
				`user "bob": Regular User (payments) → Admin reaches CodeMie only if the user has not signed in yet: CodeMie runs with user management enabled (settings.codemie.userManagement) and reads Keycloak at a user's first sign-in only; make the change in CodeMie too`,
				`user "cy": Regular User (payments) → Regular User (payments, search) reaches CodeMie only if the user has not signed in yet: CodeMie runs with user management enabled (settings.codemie.userManagement) and reads Keycloak at a user's first sign-in only; make the change in CodeMie too`,
			},
		},
		{
			name: "user management mode without access changes says nothing",
			cfg: func() *model.Config {
				c := config(user("bob", model.RoleDeveloper, payments))
				c.Settings.UserManagement = true
				return c
			}(),
			live: realm(member("bob", "payments")),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Build(tt.cfg, tt.live, tt.opts)
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if diff := cmp.Diff(tt.want, digest(p)); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.notes, p.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warnings, p.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if got, want := p.HasChanges(), len(tt.want) > 0; got != want {
				t.Errorf("HasChanges() = %v, want %v", got, want)
			}
		})
	}
}

// TestPruneRefusedWhileUsersCanEditTheMarker: prune relies on the ownership marker, so it is
// refused when users can delete their own: under ENABLED unless the user profile declares the
// marker for administrators only, and whenever the profile lets users edit it.
func TestPruneRefusedWhileUsersCanEditTheMarker(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		policy   model.Policy
		declared map[string]bool
		want     string // the error, or "" for a plan
	}{
		{name: "ENABLED", policy: model.PolicyEnabled,
			want: "refusing to prune realm \"codemie\" (prune: disable): under unmanagedAttributePolicy ENABLED every user can delete their own ownership marker `roster_managed` through Keycloak's account API and so escape prune"},
		{name: "ENABLED, marker declared for administrators", policy: model.PolicyEnabled,
			declared: map[string]bool{model.DefaultOwnerAttribute: false}},
		{name: "ADMIN_EDIT", policy: model.PolicyAdminEdit},
		{name: "ADMIN_EDIT, marker declared for users", policy: model.PolicyAdminEdit,
			declared: map[string]bool{model.DefaultOwnerAttribute: true},
			want:     "refusing to prune realm \"codemie\" (prune: disable): the realm's user profile lets users edit the attribute, and so every user can delete their own ownership marker `roster_managed` through Keycloak's account API and so escape prune"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(user("amy", model.RoleDeveloper, grants()))
			cfg.Settings.Prune = model.PruneDisable
			live := realm(owned(member("amy")), owned(member("bob")))
			live.Policy, live.ProfileAttributes = tc.policy, tc.declared
			p, err := Build(cfg, live, Options{})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Build: %v, want a plan", err)
			case tc.want == "" && (len(p.Changes) != 1 || p.Changes[0].Action != Disable):
				t.Errorf("changes %v, want bob disabled", digest(p))
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Errorf("Build: %v\nwant %s", err, tc.want)
			}
		})
	}
}
