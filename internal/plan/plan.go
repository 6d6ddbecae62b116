package plan

import (
	"fmt"

	"github.com/rosterhq/roster/internal/model"
)

// Kind is the kind of object a change is about.
type Kind string

const (
	// KindRealm is a realm-wide setting; the only one is AddrPolicy.
	KindRealm Kind = "realm"
	// KindRole is a realm role, named by its (case-sensitive) name.
	KindRole Kind = "role"
	// KindUser is a user, named by its lowercase username.
	KindUser Kind = "user"
	// KindTokenMapper is a token mapper of the client scope tokenMappers names, named by the
	// attribute it maps (which is also the mapper's name when roster creates it).
	KindTokenMapper Kind = "token_mapper"
	// KindIdentityProvider is an identity provider, named by its alias.
	KindIdentityProvider Kind = "identity_provider"
	// KindIdentityProviderMapper is a mapper of an identity provider, named "alias/mapper".
	KindIdentityProviderMapper Kind = "identity_provider_mapper"
)

// Address names the object a change is about. It is stable across runs: the same object always
// has the same address, so tools may key on Address.String().
type Address struct {
	// Kind is the kind of object.
	Kind Kind
	// Name is the object's name within its kind: a setting name, a role name, a username.
	Name string
}

// AddrPolicy is the address of the realm's unmanaged-attribute policy.
func AddrPolicy() Address { return Address{Kind: KindRealm, Name: "unmanagedAttributePolicy"} }

// String is the address as "kind.name": "realm.unmanagedAttributePolicy", "role.developer",
// "user.bob". Names may contain dots; the kind ends at the first one.
func (a Address) String() string { return string(a.Kind) + "." + a.Name }

// Display is the address as the human renderers show it: `user "bob"`, `role "developer"`,
// `token_mapper "applications"`, and String() for realm settings.
func (a Address) Display() string {
	if a.Kind == KindRealm {
		return a.String()
	}
	return fmt.Sprintf("%s %q", a.Kind, a.Name)
}

// Change is one thing apply does, and why.
//
// Exactly one of Policy, Role, TokenMapper, IdentityProvider, IdPMapper and User is non-nil,
// chosen by Addr.Kind. Which sides of it are set depends on Action:
//
//	Kind                      Action   Before          After
//	realm                     Update   live policy     desired policy
//	token_mapper              Create   nil             mapper to create
//	token_mapper              Update   live mapper     live mapper with roster's fields corrected
//	identity_provider         Create   nil             New (Secret: where the secret comes from)
//	identity_provider         Update   live provider   Update (Secret set with --rotate-secrets)
//	identity_provider_mapper  Create   nil             mapper to create
//	identity_provider_mapper  Update   live mapper     live mapper with roster's fields corrected
//	role   Create   nil                    desired role
//	role   Update   live role              desired role (Description differs)
//	user   Create   nil                    desired user; New set
//	user   Update   live user              desired user; Patch/AddRoles/RemoveRoles/Links
//	user   Rename   live user (old name)   desired user; as Update, Patch.Username set
//	user   Disable  live user              nil; Patch sets Enabled=false
//	user   Delete   live user              nil
//
// Action and the kind-specific "what" (PolicyChange.After, RoleChange.After,
// TokenMapperChange's ScopeID and After, IdentityProviderChange's New, Update and Secret,
// IdPMapperChange's Alias and After, UserChange's New,
// Patch, AddRoles, RemoveRoles, Links, and Before.ID) are all apply needs. Fields, Access,
// FormatOnly and Reason explain the change to people; apply must not read them.
type Change struct {
	// Addr names the object.
	Addr Address
	// Action is what apply does; never NoOp in a built plan.
	Action Action

	// Policy is set when Addr.Kind is KindRealm.
	Policy *PolicyChange
	// Role is set when Addr.Kind is KindRole.
	Role *RoleChange
	// TokenMapper is set when Addr.Kind is KindTokenMapper.
	TokenMapper *TokenMapperChange
	// IdentityProvider is set when Addr.Kind is KindIdentityProvider.
	IdentityProvider *IdentityProviderChange
	// IdPMapper is set when Addr.Kind is KindIdentityProviderMapper.
	IdPMapper *IdPMapperChange
	// User is set when Addr.Kind is KindUser.
	User *UserChange

	// Fields are the differences to show, in a fixed order per kind. For Create they hold the
	// values written (Before empty); for Delete there are none.
	Fields []FieldChange
	// Access is what the change means in CodeMie; set for users only, nil otherwise.
	Access *AccessChange
	// FormatOnly is true for a user Update whose every difference is in how unchanged CodeMie
	// access is stored: the encoding of applications, applications_admin or user_type, or a
	// redundant owned-role mapping. Such a change never alters what CodeMie grants.
	FormatOnly bool
	// Reason, when set, says why the change is in the plan ("not in the configuration …"); it is
	// set for Disable and Delete.
	Reason string
}

// PolicyChange is a change of the realm's user-profile unmanaged-attribute policy.
type PolicyChange struct {
	// Before is the live policy (PolicyDisabled when Keycloak has none).
	Before model.Policy
	// After is the policy to set: Settings.UnmanagedAttributePolicy, never empty.
	After model.Policy
}

// RoleChange is the creation of a realm role, or an update of its description.
type RoleChange struct {
	// Before is the live role; nil for Create.
	Before *model.RealmRole
	// After is the desired role; never nil.
	After *model.RealmRole
}

// TokenMapperChange is the creation or correction of a "User Attribute" token mapper.
type TokenMapperChange struct {
	// Scope is the client scope's name and ScopeID its id, which apply addresses.
	Scope   string
	ScopeID string
	// Before is the live mapper; nil for Create.
	Before *model.LiveTokenMapper
	// After is the whole mapper apply sends: for Update, Before with roster's fields corrected
	// and every other configuration key kept; its ID is Before's.
	After model.LiveTokenMapper
}

// IdentityProviderChange is the creation of an identity provider or an update of the fields
// roster manages on it. The client secret never appears in a plan: Secret says where apply
// reads it.
type IdentityProviderChange struct {
	// Before is the live provider; nil for Create.
	Before *model.LiveIdentityProvider
	// New is the provider to create, for Create; its Config lacks the client secret.
	New *model.LiveIdentityProvider
	// Update lists the changes, for Update; its ClientSecret is always nil (apply fills it).
	Update model.IdentityProviderUpdate
	// Secret, when set, is where apply reads the client secret to send: on Create, and on
	// Update with --rotate-secrets.
	Secret *model.SecretRef
}

// IdPMapperChange is the creation or correction of an identity provider's mapper.
type IdPMapperChange struct {
	// Alias is the provider's alias.
	Alias string
	// Before is the live mapper; nil for Create.
	Before *model.LiveIdentityProviderMapper
	// After is the whole mapper apply sends: for Update, Before with roster's keys corrected
	// and every other configuration key kept; its ID is Before's.
	After model.LiveIdentityProviderMapper
}

// UserChange is a change to one user. See Change for which fields each Action sets.
type UserChange struct {
	// Before is the user as read (it points into the Live that Build was given); nil for
	// Create. Before.ID is the user apply addresses.
	Before *model.LiveUser
	// After is the user as the configuration declares it; nil for Disable and Delete. Apply
	// reads After.InitialPassword on Create to resolve the password; the plan never holds it.
	After *model.User

	// New is the user to create, set for Create only. Its attributes hold the CodeMie attributes
	// as roster encodes them, the declared attributes and the ownership marker. It never carries
	// a password (InitialPassword is nil).
	New *model.NewUser
	// Patch lists the fields to change, for Update (possibly empty when only roles or links
	// change) and Disable (Enabled=false, nothing else). A nil attribute value removes the
	// attribute.
	Patch model.UserPatch
	// AddRoles and RemoveRoles are owned realm roles to map and unmap, in model.OwnedRoles
	// order. After apply the user holds exactly After.Role of the owned roles.
	AddRoles, RemoveRoles []model.Role
	// Links are identity-provider links to add, sorted by provider. Links the user already has
	// for a provider are never changed or removed.
	Links []model.FederatedIdentity
}

// FieldChange is one difference, with typed values: the renderers decide how each shows.
type FieldChange struct {
	// Name is the field. Users show, in this order: email, firstName, lastName, enabled,
	// requiredActions, role, applications, applications_admin, user_type, attributes.<key>
	// (the ownership marker among them on Create), identity.<provider>, and "initial password".
	// Roles show description; the realm shows unmanagedAttributePolicy.
	Name string
	// Before is the live value; absent for Create, where only After is shown.
	Before Value
	// After is the value after apply; absent when apply removes it.
	After Value
	// Sensitive marks a secret: Before and After are then absent and renderers show (sensitive).
	Sensitive bool
	// Source says where a Sensitive value comes from, as model.SecretRef.String has it ("env
	// ROSTER_SECRET_ENTRA", "file entra.secret"), so that reviewers see which exposed secret a
	// change sends; never the value.
	Source string
}

// Type is the field's type: TypeSecret when Sensitive, else the type of its present sides
// (Build never gives a field's sides different types), "" when both are absent.
func (f FieldChange) Type() ValueType {
	switch {
	case f.Sensitive:
		return TypeSecret
	case !f.After.Absent():
		return f.After.Type
	}
	return f.Before.Type
}

// AccessChange is what a user change means in CodeMie.
type AccessChange struct {
	// Before is what CodeMie grants today; the zero Access ("cannot sign in") for Create.
	Before model.Access
	// After is what CodeMie grants after apply; the zero Access when Removed.
	After model.Access
	// Removed is true for Disable and Delete: the user loses CodeMie altogether.
	Removed bool
}

// Changed reports whether CodeMie grants something different after the change. When roster
// cannot predict what CodeMie reads on either side (Access.Unknown), nothing proves the access
// unchanged, so it counts as changed.
func (a AccessChange) Changed() bool {
	return a.Removed || a.Before.Unknown != "" || a.After.Unknown != "" || !a.Before.Equal(a.After)
}

// String is the change in CodeMie's words: "Regular User (payments) → Project Admin (payments)",
// "cannot sign in → Regular User (codemie)", "Admin → removed", or "no access change".
func (a AccessChange) String() string {
	switch {
	case a.Removed:
		return a.Before.Summary() + " → removed"
	case !a.Changed():
		return "no access change"
	}
	return a.Before.Summary() + " → " + a.After.Summary()
}

// Plan is everything roster would change in one realm, in apply order, with the facts people
// need to judge it.
//
// Changes are ordered: the policy change first, then realm roles by name, then token mappers by
// attribute, then identity providers by alias, each followed by its mappers by name, then user
// creations, renames and updates by (new) username, then removals (Disable, Delete) by username. Every change
// has an action other than NoOp and every address appears at most once.
type Plan struct {
	// Realm is the realm the plan is for.
	Realm string
	// Prune is the effective prune mode (Options.Prune, else the file's, else PruneNone).
	Prune model.Prune
	// Files are the configuration files the plan was made from, in load order, named as given.
	Files []string
	// Changes are the changes, in apply order.
	Changes []Change
	// Warnings are things that may make the result differ from what the file intends (CodeMie's
	// user-management mode). They do not stop apply.
	Warnings []string
	// Notes are informational lines: what the plan leaves alone and why, ordering it enforces.
	Notes []string
	// Prerequisites are the conditions CodeMie's reading needs that the realm will not meet once
	// the plan is applied, errors first.
	Prerequisites []Prerequisite
	// CodeMie and Mapping are how CodeMie reads users once the plan is applied: apply's
	// read-back reads the stored users through them.
	CodeMie model.CodeMie
	Mapping model.TokenMapping
}

// HasChanges reports whether applying the plan would change anything.
func (p *Plan) HasChanges() bool { return len(p.Changes) > 0 }

// Failing counts the prerequisites that are errors: with them CodeMie will not read the access
// the configuration declares, even once the plan is applied.
func (p *Plan) Failing() int {
	n := 0
	for _, pr := range p.Prerequisites {
		if pr.Error {
			n++
		}
	}
	return n
}

// Prerequisite is something outside the users that CodeMie's reading of them needs: CodeMie's
// client, the token mappers that reach it.
type Prerequisite struct {
	// Error is true when CodeMie will not read the declared access; false for a risk.
	Error bool
	// Problem says what fails and what it means in CodeMie; Fix what to do about it.
	Problem, Fix string
}

// Summary counts the changes by effect.
func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch {
		case c.Action == Create:
			s.Add++
		case c.Action == Update, c.Action == Rename:
			s.Change++
		case c.Action.IsRemoval():
			s.Remove++
		}
	}
	return s
}

// Summary counts a plan's changes.
type Summary struct {
	// Add counts Create changes.
	Add int
	// Change counts Update and Rename changes.
	Change int
	// Remove counts Disable and Delete changes.
	Remove int
}

// String is the summary line: "Plan: 1 to add, 2 to change, 0 to remove."
func (s Summary) String() string {
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to remove.", s.Add, s.Change, s.Remove)
}
