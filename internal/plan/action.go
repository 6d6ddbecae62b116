package plan

// Action is what apply does to one object.
type Action int

const (
	// NoOp is the zero value: nothing to do. Build never puts a NoOp change in a plan; the zero
	// value exists so that an unset Action is never mistaken for a real one.
	NoOp Action = iota
	// Create makes an object that does not exist: a realm role or a user.
	Create
	// Update changes an existing object in place: the realm policy, a role's description, a
	// user's fields, attributes, role mappings or identity links.
	Update
	// Disable sets enabled=false on a user that left the configuration (prune: disable). It is
	// an action of its own, not an Update, because the user has no desired state (After is nil)
	// and because for CodeMie it is a removal: it counts with Delete, and the mass-removal guard
	// applies to it.
	Disable
	// Delete deletes a user that left the configuration (prune: delete).
	Delete
	// Rename changes the username of an existing user in place, with any other update the
	// user needs: the account (id, password, attributes, identity links) stays. Build plans it
	// instead of a Create and a removal when a user that left the configuration and a user the
	// configuration adds share an email or an identity link.
	Rename
)

// String is the action's name as the JSON plan spells it: "no-op", "create", "update",
// "disable", "delete" or "rename".
func (a Action) String() string {
	switch a {
	case Create:
		return "create"
	case Update:
		return "update"
	case Disable:
		return "disable"
	case Delete:
		return "delete"
	case Rename:
		return "rename"
	}
	return "no-op"
}

// Symbol is the one-character mark the human renderers put in front of a change: "+" for
// Create, "~" for Update, ">" for Rename, "-" for Disable and Delete (both remove a user from
// CodeMie), and a space for NoOp.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Rename:
		return ">"
	case Disable, Delete:
		return "-"
	}
	return " "
}

// Description is the action in words for a legend: "create", "update in place", "rename in
// place", "disable" or "delete".
func (a Action) Description() string {
	switch a {
	case Update:
		return "update in place"
	case Rename:
		return "rename in place (same account: id, password and links kept)"
	case NoOp:
		return "no change"
	}
	return a.String()
}

// IsRemoval reports whether the action takes a user away from CodeMie (Disable or Delete).
func (a Action) IsRemoval() bool { return a == Disable || a == Delete }
