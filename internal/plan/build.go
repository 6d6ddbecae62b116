package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// DefaultMaxRemovalPercent is Options.MaxRemovalPercent when it is zero.
const DefaultMaxRemovalPercent = 10

// ownerValue is the value of the ownership marker on users roster creates.
const ownerValue = "true"

// Options are the choices of a plan that come from flags rather than the file.
type Options struct {
	// Prune overrides Settings.Prune when not empty (the caller validates it; a value other
	// than disable or delete prunes nothing).
	Prune model.Prune
	// AllowMassRemoval turns the mass-removal guards off: the one on removed users and the one
	// on users who lose access.
	AllowMassRemoval bool
	// RotateSecrets sends the client secret of every declared identity provider that has one,
	// not only of the providers the plan creates.
	RotateSecrets bool
	// MaxRemovalPercent is the largest share of the realm's users (service accounts excluded)
	// one plan may remove; zero means DefaultMaxRemovalPercent. Removing a single user never
	// trips it.
	MaxRemovalPercent int
}

// Build computes the plan that brings live to cfg. It is a pure function of its arguments.
//
// Only what cfg declares is managed. For each declared user: optional fields left nil are left
// alone; the CodeMie attributes (applications, applications_admin, user_type) are always
// brought to the one encoding roster writes; of the owned realm roles the user keeps exactly
// User.Role; declared identity links are added, existing ones never changed. Service accounts,
// users from user storage (a federation link) and the identity roster signs in as are never
// changed; a note says so when the file names one. Users the file does not declare are left
// alone, except that prune (disable or delete) removes those carrying the ownership marker.
//
// When cfg declares tokenMappers, the User Attribute mappers of the CodeMie attributes are
// created on the client scope, or corrected (roster's configuration keys only); other mappers
// are left alone. live.ClientScope must then hold the scope as read: Build fails with a
// *ClientScopeError when it is nil.
//
// Declared identity providers (OpenID Connect) are created, or updated in the fields the files
// set; their client secret is sent on create and, with Options.RotateSecrets, on update, and
// never appears in the plan. Their declared mappers are created or corrected; other providers
// and mappers are left alone. live.IdentityProviders must hold the providers as read.
//
// A declared user that does not exist is created, unless a live user that left the
// configuration and carries the ownership marker holds its email or one of its identity links:
// that user is renamed in place instead (Rename), whatever the prune mode, and is not removed.
// Build fails with a *ConflictError when Keycloak would refuse a create or a rename: another
// user holds the email, the identity link, or (with login by email) the username as email, or
// the realm does not allow usernames to change.
//
// Build fails with a *PolicyError when the plan writes attributes that the realm's policy (after
// any policy change in the plan) would make Keycloak drop, with a *PruneUnsafeError when it
// prunes while users can remove their own ownership marker (the policy is ENABLED, or the user
// profile declares the marker with edit permission for users), with a *MassRemovalError when it
// removes more users than the guard allows, and with an *AccessLossError when more users keep
// their account but lose sign-in, the admin role, a project or Project Admin rights than
// settings.maxAccessLosses allows.
func Build(cfg *model.Config, live *model.Live, opts Options) (*Plan, error) {
	b := builder{cfg: cfg, live: live, owner: cmp.Or(cfg.Settings.OwnerAttribute, model.DefaultOwnerAttribute),
		renamed: map[string]bool{}}
	p := &Plan{Realm: cfg.Realm, Prune: cmp.Or(opts.Prune, cfg.Settings.Prune, model.PruneNone),
		Files: slices.Clone(cfg.Files)}

	policy := cmp.Or(live.Policy, model.PolicyDisabled)
	policyChange := b.policy(policy)
	if policyChange != nil {
		p.Changes = append(p.Changes, *policyChange)
	}
	p.Changes = append(p.Changes, b.roles()...)
	if tm := cfg.TokenMappers; tm != nil {
		if live.ClientScope == nil {
			return nil, &ClientScopeError{Realm: cfg.Realm, Scope: tm.ClientScope}
		}
		p.Changes = append(p.Changes, b.tokenMappers()...)
	}
	p.Changes = append(p.Changes, b.identityProviders(opts.RotateSecrets)...)
	b.mapping = mappingAfter(live, p.Changes)

	userChanges := b.users()
	if len(b.conflicts) > 0 {
		return nil, &ConflictError{Realm: cfg.Realm, Conflicts: b.conflicts}
	}
	p.Changes = append(p.Changes, userChanges...)
	removals, leftAlone := b.removals(p.Prune)
	p.Changes = append(p.Changes, removals...)

	effective := policy
	if policyChange != nil {
		effective = policyChange.Policy.After
	}
	if writers := countAttributeWrites(userChanges); writers > 0 {
		if !effective.AdminWrites() {
			return nil, &PolicyError{Realm: cfg.Realm, Policy: effective, Users: writers}
		}
		if !policy.AdminWrites() {
			b.note("the unmanaged-attribute policy changes from %s to %s first: Keycloak would drop the attributes this plan writes under %s",
				policy, effective, policy)
		}
	}
	if (p.Prune == model.PruneDisable || p.Prune == model.PruneDelete) && live.UserEditable(b.owner, effective) {
		_, declared := live.ProfileAttributes[b.owner]
		return nil, &PruneUnsafeError{Realm: cfg.Realm, Prune: p.Prune, Owner: b.owner, Declared: declared}
	}
	if err := b.guard(removals, opts); err != nil {
		return nil, err
	}
	if err := b.accessGuard(userChanges, opts); err != nil {
		return nil, err
	}
	if leftAlone > 0 {
		b.note("%s not managed by this file, left alone", plural(leftAlone, "user"))
	}
	if effective == model.PolicyEnabled {
		p.Warnings = append(p.Warnings, model.EnabledPolicyRisk+": set settings.unmanagedAttributePolicy: ADMIN_EDIT")
	}
	if cfg.Settings.UserManagement {
		for _, c := range userChanges {
			if c.Action == Update && grantsChanged(*c.Access) {
				p.Warnings = append(p.Warnings, fmt.Sprintf(
					"user %q: %s reaches CodeMie only if the user has not signed in yet: CodeMie runs with user management enabled (settings.codemie.userManagement) and reads Keycloak at a user's first sign-in only; make the change in CodeMie too",
					c.Addr.Name, c.Access))
			}
		}
	}
	p.Prerequisites = b.prerequisites()
	p.Warnings = append(b.warnings, p.Warnings...)
	p.CodeMie, p.Mapping = live.CodeMie, b.mapping
	p.Notes = b.notes
	return p, nil
}

// builder carries Build's inputs and what it collects.
type builder struct {
	cfg      *model.Config
	live     *model.Live
	owner    string
	warnings []string
	notes    []string
	// mapping is the token mapping that reaches CodeMie's client once the plan is applied.
	mapping model.TokenMapping
	// renamed holds the ids of the live users a Rename takes over; they are not removed.
	renamed map[string]bool
	// conflicts are the creates and renames Keycloak would refuse.
	conflicts []Conflict
	// idx finds live users by email and identity link, and declared usernames; made by index.
	idx *liveIndex
}

// accessAfter is CodeMie's reading of u once the plan is applied: the owned role and the
// attributes roster writes, through the mapping after apply. enabled is the user's state after
// apply.
func (b *builder) accessAfter(u *model.User, enabled bool) model.Access {
	return b.live.CodeMie.ReadStored(b.mapping, []model.Role{u.Role}, u.Access.Attributes(), enabled)
}

func (b *builder) warn(format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}

func (b *builder) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// policy returns the policy change, or nil when the file leaves the policy alone or it matches.
func (b *builder) policy(live model.Policy) *Change {
	want := b.cfg.Settings.UnmanagedAttributePolicy
	if want == "" || want == live {
		return nil
	}
	return &Change{
		Addr:   AddrPolicy(),
		Action: Update,
		Policy: &PolicyChange{Before: live, After: want},
		Fields: []FieldChange{{Name: AddrPolicy().Name, Before: NameValue(string(live)), After: NameValue(string(want))}},
	}
}

// roles returns creations of missing realm roles and description updates, by name.
func (b *builder) roles() []Change {
	desired := slices.Clone(b.cfg.Roles)
	slices.SortFunc(desired, func(x, y model.RealmRole) int { return strings.Compare(x.Name, y.Name) })
	var out []Change
	for _, r := range desired {
		after := r
		addr := Address{Kind: KindRole, Name: r.Name}
		i := slices.IndexFunc(b.live.Roles, func(l model.RealmRole) bool { return l.Name == r.Name })
		switch {
		case i < 0:
			c := Change{Addr: addr, Action: Create, Role: &RoleChange{After: &after}}
			if r.Description != "" {
				c.Fields = []FieldChange{{Name: "description", After: StringValue(r.Description)}}
			}
			out = append(out, c)
		case r.Description != "" && r.Description != b.live.Roles[i].Description:
			before := b.live.Roles[i]
			out = append(out, Change{
				Addr: addr, Action: Update, Role: &RoleChange{Before: &before, After: &after},
				Fields: []FieldChange{{Name: "description", Before: OptionalString(before.Description), After: StringValue(r.Description)}},
			})
		}
	}
	return out
}

// users returns creations and updates of declared users, by username, and notes the declared
// users it must not change.
func (b *builder) users() []Change {
	byName := make(map[string]*model.LiveUser, len(b.live.Users))
	for i := range b.live.Users {
		byName[strings.ToLower(b.live.Users[i].Username)] = &b.live.Users[i]
	}
	desired := slices.Clone(b.cfg.Users)
	slices.SortFunc(desired, func(x, y model.User) int { return strings.Compare(x.Username, y.Username) })
	var out []Change
	for i := range desired {
		u := &desired[i]
		lu, ok := byName[strings.ToLower(u.Username)]
		if !ok {
			if c, ok := b.createOrRename(u); ok {
				out = append(out, c)
			}
			continue
		}
		if why := b.untouchable(lu); why != "" {
			b.note("user %q %s: roster never changes it", lu.Username, why)
			continue
		}
		if c, ok := b.update(lu, u); ok {
			if c.User.Patch.Email != nil {
				b.checkEmailMove(lu, u)
			}
			out = append(out, c)
		}
	}
	return out
}

// untouchable says why roster must never change the live user, or "".
func (b *builder) untouchable(lu *model.LiveUser) string {
	switch {
	case strings.EqualFold(lu.Username, b.live.Identity):
		return "is the identity roster signs in as"
	case lu.IsServiceAccount():
		return "is a service account"
	case lu.FederationLink != "":
		return fmt.Sprintf("comes from user storage (federation link %q)", lu.FederationLink)
	}
	return ""
}

func (b *builder) create(u *model.User) Change {
	nu := &model.NewUser{Username: u.Username, Enabled: true, Attributes: map[string][]string{}}
	var fields []FieldChange
	add := func(name string, after Value) { fields = append(fields, FieldChange{Name: name, After: after}) }
	if u.Email != nil {
		nu.Email = *u.Email
		add("email", StringValue(*u.Email))
	}
	if u.FirstName != nil {
		nu.FirstName = *u.FirstName
		add("firstName", StringValue(*u.FirstName))
	}
	if u.LastName != nil {
		nu.LastName = *u.LastName
		add("lastName", StringValue(*u.LastName))
	}
	if u.Enabled != nil {
		nu.Enabled = *u.Enabled
		add("enabled", BoolValue(*u.Enabled))
	}
	if u.RequiredActions != nil && len(*u.RequiredActions) > 0 {
		nu.RequiredActions = slices.Clone(*u.RequiredActions)
		add("requiredActions", ListValue(nu.RequiredActions))
	}
	add("role", RolesValue([]string{b.live.CodeMie.RoleName(u.Role)}))
	desired := u.Access.Attributes()
	for _, k := range model.CodeMieAttributes() {
		if v := desired[k]; v != nil {
			nu.Attributes[k] = v
			add(k, AttributeValue(v))
		}
	}
	for _, k := range sortedKeys(u.Attributes) {
		if v := u.Attributes[k]; len(v) > 0 {
			nu.Attributes[k] = slices.Clone(v)
			add("attributes."+k, AttributeValue(v))
		}
	}
	nu.Attributes[b.owner] = []string{ownerValue}
	add("attributes."+b.owner, AttributeValue([]string{ownerValue}))
	links := sortedLinks(u.FederatedIdentities)
	for _, l := range links {
		add("identity."+l.Provider, LinkValue(l))
	}
	if u.InitialPassword != nil {
		fields = append(fields, FieldChange{Name: "initial password", Sensitive: true, Source: u.InitialPassword.SecretRef.String()})
	}
	return Change{
		Addr:   Address{Kind: KindUser, Name: u.Username},
		Action: Create,
		User:   &UserChange{After: u, New: nu, AddRoles: []model.Role{u.Role}, Links: links},
		Fields: fields,
		Access: &AccessChange{After: b.accessAfter(u, nu.Enabled)},
	}
}

// update diffs a declared user against the live one; ok is false when they match.
func (b *builder) update(lu *model.LiveUser, u *model.User) (c Change, ok bool) {
	uc := &UserChange{Before: lu, After: u}
	// Fields are collected in three groups so that they show in a fixed order: the user's own
	// fields, then CodeMie access (role and its attributes), then other attributes and links.
	var own, access, rest []FieldChange
	diff := func(to *[]FieldChange, name string, before, after Value) {
		*to = append(*to, FieldChange{Name: name, Before: before, After: after})
	}
	if u.Email != nil && !strings.EqualFold(*u.Email, lu.Email) {
		uc.Patch.Email = u.Email
		diff(&own, "email", OptionalString(lu.Email), StringValue(*u.Email))
	}
	if u.FirstName != nil && *u.FirstName != lu.FirstName {
		uc.Patch.FirstName = u.FirstName
		diff(&own, "firstName", OptionalString(lu.FirstName), StringValue(*u.FirstName))
	}
	if u.LastName != nil && *u.LastName != lu.LastName {
		uc.Patch.LastName = u.LastName
		diff(&own, "lastName", OptionalString(lu.LastName), StringValue(*u.LastName))
	}
	if u.Enabled != nil && *u.Enabled != lu.Enabled {
		uc.Patch.Enabled = u.Enabled
		diff(&own, "enabled", BoolValue(lu.Enabled), BoolValue(*u.Enabled))
	}
	if u.Enabled == nil && !lu.Enabled {
		b.note("user %q is disabled in Keycloak and the file does not set enabled: it stays disabled; add enabled: true to the user to enable them", lu.Username)
	}
	if u.RequiredActions != nil && !sameSet(*u.RequiredActions, lu.RequiredActions) {
		ra := slices.Clone(*u.RequiredActions)
		uc.Patch.RequiredActions = &ra
		diff(&own, "requiredActions", ListValue(lu.RequiredActions), ListValue(ra))
	}

	for _, r := range model.OwnedRoles() {
		has, want := slices.Contains(lu.Roles, r), r == u.Role
		switch {
		case want && !has:
			uc.AddRoles = append(uc.AddRoles, r)
		case has && !want:
			uc.RemoveRoles = append(uc.RemoveRoles, r)
		}
	}
	if len(uc.AddRoles)+len(uc.RemoveRoles) > 0 {
		diff(&access, "role", RolesValue(b.live.CodeMie.RoleNames(lu.Roles)), RolesValue([]string{b.live.CodeMie.RoleName(u.Role)}))
	}
	desired := u.Access.Attributes()
	for _, k := range model.CodeMieAttributes() {
		if !storedAs(k, lu.Attributes[k], desired[k]) {
			setAttr(&uc.Patch, k, desired[k])
			diff(&access, k, AttributeValue(lu.Attributes[k]), AttributeValue(desired[k]))
		}
	}

	for _, k := range sortedKeys(u.Attributes) {
		if want := u.Attributes[k]; !sameSet(want, lu.Attributes[k]) {
			setAttr(&uc.Patch, k, slices.Clone(want))
			diff(&rest, "attributes."+k, AttributeValue(lu.Attributes[k]), AttributeValue(want))
		}
	}
	for _, l := range sortedLinks(u.FederatedIdentities) {
		i := slices.IndexFunc(lu.FederatedIdentities, func(h model.FederatedIdentity) bool { return h.Provider == l.Provider })
		switch {
		case i < 0:
			uc.Links = append(uc.Links, l)
			diff(&rest, "identity."+l.Provider, Value{}, LinkValue(l))
		case lu.FederatedIdentities[i].UserID != l.UserID:
			b.note("user %q is linked to %q as %q, the file says %q: roster leaves existing links alone",
				lu.Username, l.Provider, lu.FederatedIdentities[i].UserID, l.UserID)
		}
	}

	fields := slices.Concat(own, access, rest)
	if len(fields) == 0 {
		return Change{}, false
	}
	enabled := lu.Enabled // enabled is left alone, and so is what it means
	if u.Enabled != nil {
		enabled = *u.Enabled
	}
	ac := &AccessChange{Before: b.live.Access(*lu), After: b.accessAfter(u, enabled)}
	return Change{
		Addr:       Address{Kind: KindUser, Name: lu.Username},
		Action:     Update,
		User:       uc,
		Fields:     fields,
		Access:     ac,
		FormatOnly: len(own)+len(rest) == 0 && !ac.Changed(),
	}, true
}

// storedAs reports whether a CodeMie attribute stored as have already is what roster would
// write as want. A user_type of exactly "regular" stands for the absent value: it is CodeMie's
// default, written by CodeMie's own tooling, and rewriting it would change nothing.
func storedAs(key string, have, want []string) bool {
	if key == model.AttrUserType && want == nil && slices.Equal(have, []string{model.UserTypeRegular}) {
		return true
	}
	return slices.Equal(have, want)
}

// removals returns the Disable or Delete changes prune asks for, by username, and how many
// other users the file does not declare (service accounts excluded).
func (b *builder) removals(prune model.Prune) (out []Change, leftAlone int) {
	declared := make(map[string]bool, len(b.cfg.Users))
	for _, u := range b.cfg.Users {
		declared[strings.ToLower(u.Username)] = true
	}
	for i := range b.live.Users {
		lu := &b.live.Users[i]
		if declared[strings.ToLower(lu.Username)] || lu.IsServiceAccount() || b.renamed[lu.ID] {
			continue
		}
		owned := b.owned(lu)
		c := Change{
			Addr:   Address{Kind: KindUser, Name: lu.Username},
			User:   &UserChange{Before: lu},
			Access: &AccessChange{Before: b.live.Access(*lu), Removed: true},
			Reason: fmt.Sprintf("not in the configuration and marked %s=%s; prune: %s", b.owner, ownerValue, prune),
		}
		switch {
		case owned && prune == model.PruneDelete:
			c.Action = Delete
			out = append(out, c)
		case owned && prune == model.PruneDisable && lu.Enabled:
			c.Action = Disable
			c.User.Patch.Enabled = new(false)
			c.Fields = []FieldChange{{Name: "enabled", Before: BoolValue(true), After: BoolValue(false)}}
			out = append(out, c)
		case owned && prune == model.PruneDisable:
			// Already disabled: the realm is as prune wants it.
		default:
			leftAlone++
		}
	}
	return out, leftAlone
}

// owned reports whether the live user carries the ownership marker and roster may change it.
func (b *builder) owned(lu *model.LiveUser) bool {
	return b.untouchable(lu) == "" && slices.ContainsFunc(lu.Attributes[b.owner], func(v string) bool {
		return strings.EqualFold(v, ownerValue)
	})
}

// guard enforces the mass-removal limits.
func (b *builder) guard(removals []Change, opts Options) error {
	n := len(removals)
	if opts.AllowMassRemoval || n == 0 {
		return nil
	}
	maxN := b.cfg.Settings.MaxRemovals
	pct := cmp.Or(opts.MaxRemovalPercent, DefaultMaxRemovalPercent)
	var liveUsers int
	for _, lu := range b.live.Users {
		if !lu.IsServiceAccount() {
			liveUsers++
		}
	}
	if n <= maxN && (n == 1 || n*100 <= pct*liveUsers) {
		return nil
	}
	names := make([]string, n)
	for i, c := range removals {
		names[i] = c.Addr.Name
	}
	return &MassRemovalError{Removals: n, LiveUsers: liveUsers, MaxRemovals: maxN, MaxPercent: pct, Users: names}
}

// countAttributeWrites counts the user changes that write attributes.
func countAttributeWrites(changes []Change) int {
	var n int
	for _, c := range changes {
		if c.User.New != nil && len(c.User.New.Attributes) > 0 || len(c.User.Patch.Attributes) > 0 {
			n++
		}
	}
	return n
}

// grantsChanged reports whether a change alters what CodeMie reads at first sign-in: the
// projects, Project Admin rights, admin role or external status. Enabling or disabling a user
// is left out: Keycloak itself lets the user sign in or not.
func grantsChanged(a AccessChange) bool {
	before, after := a.Before, a.After
	before.Disabled, after.Disabled = false, false
	return !before.Equal(after)
}

func setAttr(p *model.UserPatch, key string, values []string) {
	if p.Attributes == nil {
		p.Attributes = map[string][]string{}
	}
	p.Attributes[key] = values
}

// sameSet reports whether two lists hold the same values, ignoring order and repeats.
func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedLinks(links []model.FederatedIdentity) []model.FederatedIdentity {
	out := slices.Clone(links)
	slices.SortFunc(out, func(x, y model.FederatedIdentity) int { return strings.Compare(x.Provider, y.Provider) })
	return out
}

// formatString shows a string in a warning or a note, with an empty one as (none).
func formatString(s string) string {
	if s == "" {
		return "(none)"
	}
	return strconv.Quote(s)
}

// plural is "1 user" or "n users" for noun "user".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
