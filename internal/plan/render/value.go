package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

// none is how the human renderers show an absent value.
const none = "(none)"

// display is a value as the human renderers show it: strings quoted ("a@x", "" included),
// names and booleans bare (ADMIN_EDIT, true), a list as ["a", "b"], an attribute with one value
// as that value quoted and with more as a list, roles joined by commas (admin, developer), a
// link as its account id quoted with the account's name after it, and an absent value as
// (none).
func display(v plan.Value) string {
	switch v.Type {
	case plan.TypeString:
		return strconv.Quote(v.Text)
	case plan.TypeName:
		return v.Text
	case plan.TypeBoolean:
		return strconv.FormatBool(v.Bool)
	case plan.TypeList:
		return quotedList(v.List)
	case plan.TypeValues:
		if len(v.List) == 1 {
			return strconv.Quote(v.List[0])
		}
		return quotedList(v.List)
	case plan.TypeRoles:
		return strings.Join(v.List, ", ")
	case plan.TypeLink:
		if v.Link.UserName == "" {
			return strconv.Quote(v.Link.UserID)
		}
		return fmt.Sprintf("%q (%s)", v.Link.UserID, v.Link.UserName)
	}
	return none
}

func quotedList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// jsonValue is a value as the JSON plan has it: a string or a name as a JSON string, a boolean
// as true or false, a list, an attribute's values or roles as a list of strings, a link as a
// JSONIdentity, and an absent value as null.
func jsonValue(v plan.Value) json.RawMessage {
	var x any
	switch v.Type {
	case plan.TypeString, plan.TypeName:
		x = v.Text
	case plan.TypeBoolean:
		x = v.Bool
	case plan.TypeList, plan.TypeValues, plan.TypeRoles:
		x = nonNil(v.List)
	case plan.TypeLink:
		x = JSONIdentity(v.Link)
	}
	b, err := json.Marshal(x)
	if err != nil {
		panic(fmt.Sprintf("render: a %s value does not marshal: %v", v.Type, err)) // only plain data
	}
	return b
}

// jsonField is a field as the JSON plan has it.
func jsonField(f plan.FieldChange) JSONField {
	return JSONField{Name: f.Name, Type: string(f.Type()), Before: jsonValue(f.Before), After: jsonValue(f.After),
		Sensitive: f.Sensitive, Source: f.Source}
}

// readField is the field a JSONField from an untrusted plan describes: its type must be known,
// each side null or a value of that type, and a secret's sides null.
func readField(jf JSONField) (plan.FieldChange, error) {
	t := plan.ValueType(jf.Type)
	known := false
	for _, k := range plan.ValueTypes {
		known = known || k == t
	}
	if !known {
		return plan.FieldChange{}, fmt.Errorf("field %q has unknown type %q", jf.Name, jf.Type)
	}
	if jf.Sensitive != (t == plan.TypeSecret) {
		return plan.FieldChange{}, fmt.Errorf("field %q has type %s but sensitive %v", jf.Name, t, jf.Sensitive)
	}
	f := plan.FieldChange{Name: jf.Name, Sensitive: jf.Sensitive, Source: jf.Source}
	var err error
	if f.Before, err = readValue(t, jf.Before); err != nil {
		return plan.FieldChange{}, fmt.Errorf("field %q: before %w", jf.Name, err)
	}
	if f.After, err = readValue(t, jf.After); err != nil {
		return plan.FieldChange{}, fmt.Errorf("field %q: after %w", jf.Name, err)
	}
	return f, nil
}

// readValue is the value raw holds as a value of type t; null (or nothing) is absent.
func readValue(t plan.ValueType, raw json.RawMessage) (plan.Value, error) {
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return plan.Value{}, nil
	}
	// Decoding into a typed Go value refuses JSON of another type.
	strict := func(into any) error {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(into); err != nil {
			return fmt.Errorf("is not of type %s: %w", t, err)
		}
		return nil
	}
	var v plan.Value
	switch t {
	case plan.TypeString, plan.TypeName:
		var s string
		if err := strict(&s); err != nil {
			return v, err
		}
		v = plan.Value{Type: t, Text: s}
	case plan.TypeBoolean:
		var b bool
		if err := strict(&b); err != nil {
			return v, err
		}
		v = plan.BoolValue(b)
	case plan.TypeList, plan.TypeValues, plan.TypeRoles:
		var l []string
		if err := strict(&l); err != nil {
			return v, err
		}
		if len(l) == 0 && t != plan.TypeList {
			return v, fmt.Errorf("is an empty list: an absent value of type %s is null", t)
		}
		v = plan.Value{Type: t, List: nonNil(l)}
	case plan.TypeLink:
		var l JSONIdentity
		if err := strict(&l); err != nil {
			return v, err
		}
		v = plan.LinkValue(model.FederatedIdentity(l))
	case plan.TypeSecret:
		return v, errors.New("is set: a secret's value is never in a plan")
	}
	return v, nil
}
