package planfile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/plan"
)

// Change is one change of a canonical change set: the object, the action, and every value apply
// sends or addresses, by path. It leaves out what only explains the change to people (fields
// as displayed, the CodeMie meaning, reasons), the live objects as they were (Fingerprint
// covers those; of a user's only the id apply addresses is kept), and where in the files an
// object is declared.
type Change struct {
	// Address is the plan address, "kind.name".
	Address string `json:"address"`
	// Action is "create", "update", "disable" or "delete".
	Action string `json:"action"`
	// Values are the change's data as JSON, by dotted path: "User.Patch.Attributes.applications"
	// → ["alpha"]. A null value is part of the change (a nil attribute in a patch removes it).
	Values map[string]json.RawMessage `json:"values"`
}

// ChangeSet is the canonical change set of p, in apply order.
func ChangeSet(p *plan.Plan) []Change {
	out := make([]Change, 0, len(p.Changes))
	for _, c := range p.Changes {
		values := map[string]json.RawMessage{}
		flatten(values, "", toJSONValue(executed(c)))
		out = append(out, Change{Address: c.Addr.String(), Action: c.Action.String(), Values: values})
	}
	return out
}

// executed is what apply reads of c, by kind: c's kind-specific part without the live object
// it replaces (a user's id excepted).
func executed(c plan.Change) map[string]any {
	switch {
	case c.Policy != nil:
		return map[string]any{"Policy": map[string]any{"After": c.Policy.After}}
	case c.Role != nil:
		return map[string]any{"Role": map[string]any{"After": c.Role.After}}
	case c.TokenMapper != nil:
		tm := *c.TokenMapper
		tm.Before = nil
		return map[string]any{"TokenMapper": tm}
	case c.IdentityProvider != nil:
		ip := *c.IdentityProvider
		ip.Before = nil
		return map[string]any{"IdentityProvider": ip}
	case c.IdPMapper != nil:
		m := *c.IdPMapper
		m.Before = nil
		return map[string]any{"IdPMapper": m}
	case c.User != nil:
		u := toJSONValue(c.User).(map[string]any)
		if c.User.Before != nil {
			u["Before"] = map[string]any{"ID": c.User.Before.ID}
		}
		return map[string]any{"User": u}
	}
	return map[string]any{}
}

// toJSONValue turns v into the generic JSON value it encodes to.
func toJSONValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("planfile: change does not marshal: %v", err)) // only plain data
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("planfile: change does not unmarshal: %v", err))
	}
	return out
}

// flatten records v under path: objects key by key, everything else (lists included) as one
// JSON value. A "Pos" object, where the files declare something, is left out. Keys of the maps
// in a change (attribute and configuration names) never hold objects, so no user-chosen key is
// mistaken for it.
func flatten(out map[string]json.RawMessage, path string, v any) {
	obj, ok := v.(map[string]any)
	if !ok {
		b, _ := json.Marshal(v) // a value that came from JSON marshals again
		out[path] = b
		return
	}
	for k, sub := range obj {
		if _, isObj := sub.(map[string]any); isObj && k == "Pos" {
			continue
		}
		p := k
		if path != "" {
			p = path + "." + k
		}
		flatten(out, p, sub)
	}
}

// Digest is the digest of a change set.
func Digest(changes []Change) string { return digestOf(changes) }

// MismatchError means the change set apply computes is not the one a saved plan records.
type MismatchError struct {
	// Differences describe what differs, as Diff does.
	Differences []string
}

func (e *MismatchError) Error() string {
	what := "1 difference"
	if n := len(e.Differences); n != 1 {
		what = fmt.Sprintf("%d differences", n)
	}
	return "the saved plan is not what apply would do now: " + what + " from the reviewed plan"
}

// Details are the differences, one a line: the first maxDifferences, and how many more.
func (e *MismatchError) Details() []string {
	if len(e.Differences) <= maxDifferences {
		return e.Differences
	}
	return append(slices.Clone(e.Differences[:maxDifferences]), fmt.Sprintf("and %d more", len(e.Differences)-maxDifferences))
}

// Hints say how to go on.
func (e *MismatchError) Hints() []string {
	return []string{"nothing was changed; the file was edited, or made with other credentials that see the realm differently: " +
		"make a new plan with roster plan --out, review it, and apply that file as it is"}
}

// Check returns a *MismatchError when the change set now is not the reviewed one (by digest),
// nil when it is.
func Check(reviewedDigest string, reviewed, now []Change) error {
	if Digest(now) == reviewedDigest {
		return nil
	}
	return &MismatchError{Differences: Diff(reviewed, now)}
}

// maxDifferences is how many differences a MismatchError details before it counts the rest.
const maxDifferences = 10

// Diff describes how the change set now differs from the reviewed one, one line per
// difference. Call it only for change sets whose digests differ.
func Diff(reviewed, now []Change) []string {
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	byAddr := func(cs []Change) map[string]Change {
		m := make(map[string]Change, len(cs))
		for _, c := range cs {
			m[c.Address] = c
		}
		return m
	}
	was, is := byAddr(reviewed), byAddr(now)
	for _, c := range now {
		r, ok := was[c.Address]
		switch {
		case !ok:
			add("%s: apply would now %s it; the reviewed plan does not change it", display(c.Address), c.Action)
		case r.Action != c.Action:
			add("%s: apply would now %s it; the reviewed plan would %s it", display(c.Address), c.Action, r.Action)
		default:
			for _, p := range valuePaths(r, c) {
				before, inReviewed := r.Values[p]
				after, inNow := c.Values[p]
				switch {
				case !inReviewed:
					add("%s: %s is %s now; the reviewed plan does not set it", display(c.Address), p, after)
				case !inNow:
					add("%s: %s is %s in the reviewed plan; apply would not set it now", display(c.Address), p, before)
				case string(compact(before)) != string(compact(after)):
					add("%s: %s is %s in the reviewed plan, %s now", display(c.Address), p, compact(before), compact(after))
				}
			}
		}
	}
	for _, r := range reviewed {
		if _, ok := is[r.Address]; !ok {
			add("%s: the reviewed plan would %s it; apply would not change it now", display(r.Address), r.Action)
		}
	}
	if len(lines) == 0 {
		add("the same changes, but listed in another order or more than once")
	}
	return lines
}

// valuePaths are the paths either change sets, sorted.
func valuePaths(a, b Change) []string {
	var paths []string
	for p := range a.Values {
		paths = append(paths, p)
	}
	for p := range b.Values {
		if _, ok := a.Values[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	return paths
}

// display is an address as the plan shows it: `user "bob"`, realm.unmanagedAttributePolicy.
func display(addr string) string {
	kind, name, _ := strings.Cut(addr, ".")
	return plan.Address{Kind: plan.Kind(kind), Name: name}.Display()
}
