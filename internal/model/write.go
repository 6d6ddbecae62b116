package model

// NewUser is a user to create, with everything Keycloak can set in the one create request.
type NewUser struct {
	Username   string
	Email      string // empty: not set
	FirstName  string
	LastName   string
	Enabled    bool
	Attributes map[string][]string
	// RequiredActions are set at creation; nil sets none.
	RequiredActions []string
	// InitialPassword, when non-nil, is set with the user.
	InitialPassword *Password
}

// UserImport is a user to create in a batch: the user, without a password, and the owned realm
// roles it gets.
type UserImport struct {
	User  NewUser
	Roles []Role
}

// Password is an initial password.
type Password struct {
	Value Secret
	// Temporary makes Keycloak ask for a new password at first sign-in.
	Temporary bool
}

// Secret is a string that formats as (sensitive), so that it cannot leak into output, logs or
// error messages through fmt. Only the code that sends it reads it, with string(s).
type Secret string

// String hides the value.
func (Secret) String() string { return "(sensitive)" }

// GoString hides the value from %#v too.
func (Secret) GoString() string { return "(sensitive)" }

// UserPatch lists the fields of an existing user to change; nil fields are left as they are.
type UserPatch struct {
	// Username, when set, renames the user; Keycloak allows it only when the realm's
	// editUsernameAllowed is on.
	Username                   *string
	Email, FirstName, LastName *string
	Enabled                    *bool
	// Attributes to set; a nil or empty value removes the attribute. Others are kept.
	Attributes map[string][]string
	// RequiredActions, when non-nil, replaces the set of required actions.
	RequiredActions *[]string
}

// IsEmpty reports whether the patch changes nothing.
func (p UserPatch) IsEmpty() bool {
	return p.Username == nil && p.Email == nil && p.FirstName == nil && p.LastName == nil && p.Enabled == nil &&
		len(p.Attributes) == 0 && p.RequiredActions == nil
}

// IdentityProviderUpdate lists what to change on an existing identity provider; the rest of the
// provider, its other configuration keys included, is kept.
type IdentityProviderUpdate struct {
	DisplayName *string
	Enabled     *bool
	// Config are the configuration keys to set.
	Config map[string]string
	// ClientSecret, when non-nil, replaces the client secret.
	ClientSecret *Secret
}
