package plan

import (
	"fmt"

	"github.com/rosterhq/roster/internal/model"
)

// MassRemovalError is returned by Build when a plan would disable or delete more users than the
// guard allows and Options.AllowMassRemoval is false.
type MassRemovalError struct {
	// Removals is the number of users the plan would disable or delete.
	Removals int
	// LiveUsers is the number of users in the realm, service accounts excluded.
	LiveUsers int
	// MaxRemovals is the absolute limit in force (settings.maxRemovals).
	MaxRemovals int
	// MaxPercent is the percentage limit in force (Options.MaxRemovalPercent).
	MaxPercent int
	// Users are the usernames that would be removed, sorted.
	Users []string
}

func (e *MassRemovalError) Error() string {
	if e.Removals > e.MaxRemovals {
		return fmt.Sprintf("the plan removes %s, more than settings.maxRemovals (%d)", users(e.Removals), e.MaxRemovals)
	}
	return fmt.Sprintf("the plan removes %d of %d users, more than %d%%", e.Removals, e.LiveUsers, e.MaxPercent)
}

func users(n int) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}

// Hints suggest how to go on.
func (e *MassRemovalError) Hints() []string {
	return []string{"check that the configuration is complete; if these removals are intended, re-run with --allow-mass-removal"}
}

// PolicyError is returned by Build when the plan writes user attributes that the realm's
// unmanaged-attribute policy would make Keycloak drop without an error.
type PolicyError struct {
	// Realm is the realm's name.
	Realm string
	// Policy is the policy in force when the attributes would be written: the live one, or the
	// one the file sets.
	Policy model.Policy
	// Users is how many users the plan writes attributes for.
	Users int
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("realm %q has unmanagedAttributePolicy %s: Keycloak would silently drop the attributes this plan writes for %s",
		e.Realm, e.Policy, plural(e.Users, "user"))
}

// Hints suggest how to go on.
func (e *PolicyError) Hints() []string {
	return []string{"set settings.unmanagedAttributePolicy: ADMIN_EDIT; roster then changes the policy before it writes attributes"}
}

// ClientScopeError is returned by Build when the client scope tokenMappers names does not exist
// in the realm.
type ClientScopeError struct {
	// Realm is the realm's name.
	Realm string
	// Scope is the client scope's name.
	Scope string
}

func (e *ClientScopeError) Error() string {
	return fmt.Sprintf("realm %q has no client scope %q to hold the token mappers", e.Realm, e.Scope)
}

// Hints suggest how to go on.
func (e *ClientScopeError) Hints() []string {
	return []string{"fix tokenMappers.clientScope (default profile, a scope every realm has), or create the scope and make it a default client scope of CodeMie's client"}
}

// Conflict is a user the plan cannot create or rename as the configuration says, because
// Keycloak would refuse it.
type Conflict struct {
	// User is the declared username.
	User string
	// Field is what is taken: "email", "username" (it is another user's email, and users sign
	// in with their email) or "identity.<provider>"; for a rename, what the two accounts share.
	Field string
	// Holder is the live user that holds it, or, for a rename, the account to rename.
	Holder string
	// Rename is true when the conflict is a rename the realm does not allow.
	Rename bool
	// Fix says how to resolve it.
	Fix string
}

func (c Conflict) String() string {
	if c.Rename {
		return fmt.Sprintf("user %q: is %q renamed (same %s), but the realm does not allow usernames to change; %s", c.User, c.Holder, c.Field, c.Fix)
	}
	return fmt.Sprintf("user %q: %s is taken by user %q; %s", c.User, c.Field, c.Holder, c.Fix)
}

// ConflictError is returned by Build when Keycloak would refuse a create or a rename the plan
// needs. The plan is refused as a whole, before anything is written: a create that fails at
// apply would leave its replaced account removed, or fail on every run.
type ConflictError struct {
	// Realm is the realm's name.
	Realm string
	// Conflicts are the refused users, by username.
	Conflicts []Conflict
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("Keycloak would refuse %s in realm %q:", plural(len(e.Conflicts), "user"), e.Realm)
}

// Details are the conflicts, one line each.
func (e *ConflictError) Details() []string {
	lines := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		lines[i] = "- " + c.String()
	}
	return lines
}

// Hints suggest how to go on.
func (e *ConflictError) Hints() []string {
	return []string{"resolve each conflict as it says, then run plan again; nothing was changed"}
}

// AccessLossError is returned by Build when more users would lose access in CodeMie (sign-in, the
// admin role, a project or Project Admin rights) while keeping their account than the guard
// allows and Options.AllowMassRemoval is false.
type AccessLossError struct {
	// Losses are the users and what each loses, by username.
	Losses []AccessLoss
	// MaxLosses is the limit in force (settings.maxAccessLosses).
	MaxLosses int
}

// maxLossLines is how many users AccessLossError lists before it summarises the rest.
const maxLossLines = 50

func (e *AccessLossError) Error() string {
	return fmt.Sprintf("the plan takes access away from %s, more than settings.maxAccessLosses (%d):", users(len(e.Losses)), e.MaxLosses)
}

// Details are the users and what each loses, one line each, the first maxLossLines of them.
func (e *AccessLossError) Details() []string {
	var lines []string
	for i, l := range e.Losses {
		if i == maxLossLines {
			lines = append(lines, fmt.Sprintf("… and %s more", users(len(e.Losses)-i)))
			break
		}
		lines = append(lines, "- "+l.String())
	}
	return lines
}

// Hints suggest how to go on.
func (e *AccessLossError) Hints() []string {
	return []string{"check that the configuration is complete (a missing file of teams takes away every grant it gave); if these changes are intended, re-run with --allow-mass-removal"}
}

// PruneUnsafeError is returned by Build when prune is on while users can delete their own
// ownership marker through Keycloak's account API, and so escape prune: the realm's
// unmanaged-attribute policy (after any policy change in the plan) is ENABLED and the user
// profile does not declare the marker, or the profile declares it with edit permission for users.
type PruneUnsafeError struct {
	Realm string
	Prune model.Prune
	// Owner is the ownership marker's attribute.
	Owner string
	// Declared is true when the user profile declares the marker (users may edit it), false
	// when the policy ENABLED lets users edit it.
	Declared bool
}

func (e *PruneUnsafeError) Error() string {
	why := "under unmanagedAttributePolicy ENABLED"
	if e.Declared {
		why = "the realm's user profile lets users edit the attribute, and so"
	}
	return fmt.Sprintf("refusing to prune realm %q (prune: %s): %s every user can delete their own ownership marker `%s` through Keycloak's account API and so escape prune",
		e.Realm, e.Prune, why, e.Owner)
}

// Hints suggest how to go on.
func (e *PruneUnsafeError) Hints() []string {
	if e.Declared {
		return []string{fmt.Sprintf("remove user from the edit permission of `%s` in the realm's user profile (Realm settings → User profile), or plan with --prune none", e.Owner)}
	}
	return []string{fmt.Sprintf("set settings.unmanagedAttributePolicy: ADMIN_EDIT, under which only administrators can change the marker, "+
		"or declare `%s` in the realm's user profile with edit permission for admin only, or plan with --prune none", e.Owner)}
}
