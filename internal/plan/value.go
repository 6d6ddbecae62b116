package plan

import (
	"slices"

	"github.com/rosterhq/roster/internal/model"
)

// ValueType is the type of a field's value. The set is closed: Build gives every value one of
// these types, and the renderers decide, per type, how people and programs see it.
type ValueType string

const (
	// TypeString is free text: an email, a name people chose, a description, a URL.
	TypeString ValueType = "string"
	// TypeName is a name from a fixed set: a realm policy, a Keycloak mapper type, a sync mode,
	// or a value of a mapper's configuration (Keycloak stores "true", "String" there as text).
	TypeName ValueType = "name"
	// TypeBoolean is true or false.
	TypeBoolean ValueType = "boolean"
	// TypeList is a list of strings where the empty list is a value of its own: a user's
	// required actions.
	TypeList ValueType = "list"
	// TypeValues is an attribute's values, at least one: an attribute without values is absent.
	TypeValues ValueType = "values"
	// TypeRoles is the owned realm roles a user holds, at least one, as CodeMie names them.
	TypeRoles ValueType = "roles"
	// TypeLink is a link to an identity-provider account.
	TypeLink ValueType = "link"
	// TypeSecret is the type of a Sensitive field, whose sides are always absent.
	TypeSecret ValueType = "secret"
)

// ValueTypes are the types, in the order documentation lists them.
var ValueTypes = []ValueType{TypeString, TypeName, TypeBoolean, TypeList, TypeValues, TypeRoles, TypeLink, TypeSecret}

// Value is one side of a field: a typed value, or absent (the zero Value). Which of Text, Bool,
// List and Link holds it depends on Type.
type Value struct {
	// Type is the value's type; "" when the value is absent.
	Type ValueType
	// Text is a string's or a name's value.
	Text string
	// Bool is a boolean's value.
	Bool bool
	// List is a list's, an attribute's values or a user's roles.
	List []string
	// Link is a link's value.
	Link model.FederatedIdentity
}

// Absent reports whether there is no value: an empty email, an attribute without values.
func (v Value) Absent() bool { return v.Type == "" }

// StringValue is the string s, "" included.
func StringValue(s string) Value { return Value{Type: TypeString, Text: s} }

// OptionalString is the string s, absent when it is "" (Keycloak does not tell an empty field
// from an unset one).
func OptionalString(s string) Value {
	if s == "" {
		return Value{}
	}
	return StringValue(s)
}

// NameValue is the name s.
func NameValue(s string) Value { return Value{Type: TypeName, Text: s} }

// OptionalName is the name s, absent when it is "".
func OptionalName(s string) Value {
	if s == "" {
		return Value{}
	}
	return NameValue(s)
}

// BoolValue is the boolean b.
func BoolValue(b bool) Value { return Value{Type: TypeBoolean, Bool: b} }

// ListValue is the list l; an empty list is a value, not absent.
func ListValue(l []string) Value {
	if l == nil {
		l = []string{}
	}
	return Value{Type: TypeList, List: slices.Clone(l)}
}

// AttributeValue is an attribute's values, absent when there are none.
func AttributeValue(v []string) Value {
	if len(v) == 0 {
		return Value{}
	}
	return Value{Type: TypeValues, List: slices.Clone(v)}
}

// RolesValue is the roles a user holds, absent when there are none.
func RolesValue(roles []string) Value {
	if len(roles) == 0 {
		return Value{}
	}
	return Value{Type: TypeRoles, List: slices.Clone(roles)}
}

// LinkValue is the identity-provider link l.
func LinkValue(l model.FederatedIdentity) Value { return Value{Type: TypeLink, Link: l} }
