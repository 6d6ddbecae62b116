package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan"
)

// ReadJSON reads a JSON plan, as JSON writes it, back into a plan that Text and Markdown render
// as they rendered the original: `roster show` displays a saved plan with it. The plan holds
// what people read (addresses, actions, fields, reasons, CodeMie meanings, warnings and notes)
// and none of what apply executes, so it is for display only.
//
// The JSON is untrusted: a kind, action, value type or format version this roster does not
// know (a plan of another major version: 1.x plans hold display text where 2.x holds typed
// values), a field's value that is not of its type, or a CodeMie meaning that does not match
// its own access lists, is an error. Every value still goes
// through the renderers' escaping.
func ReadJSON(data []byte) (*plan.Plan, error) {
	var jp JSONPlan
	if err := json.Unmarshal(data, &jp); err != nil {
		return nil, fmt.Errorf("the plan is not valid JSON: %w", err)
	}
	major := output.PlanDocument.Major()
	if v, _, _ := strings.Cut(jp.FormatVersion, "."); v != major {
		return nil, fmt.Errorf("the plan has JSON format %q, but this roster reads %s.x: make the plan again with this roster "+
			"(roster plan --out FILE), or show it with the roster that made it", jp.FormatVersion, major)
	}
	p := &plan.Plan{Realm: jp.Realm, Prune: model.Prune(jp.Prune), Files: jp.Files, Warnings: jp.Warnings, Notes: jp.Notes}
	for _, pr := range jp.Prerequisites {
		if pr.Severity != "error" && pr.Severity != "warning" {
			return nil, fmt.Errorf("a prerequisite has unknown severity %q", pr.Severity)
		}
		// Text prints prerequisites as roster wrote them; from a file they are made safe here.
		p.Prerequisites = append(p.Prerequisites, plan.Prerequisite{Error: pr.Severity == "error",
			Problem: escape.Text(pr.Problem), Fix: escape.Text(pr.Fix)})
	}
	for i, jc := range jp.Changes {
		c, err := readChange(jc)
		if err != nil {
			return nil, fmt.Errorf("change %d (%s): %w", i+1, jc.Address, err)
		}
		p.Changes = append(p.Changes, c)
	}
	return p, nil
}

var kinds = map[string]plan.Kind{}

func init() {
	for _, k := range []plan.Kind{plan.KindRealm, plan.KindRole, plan.KindUser, plan.KindTokenMapper,
		plan.KindIdentityProvider, plan.KindIdentityProviderMapper} {
		kinds[string(k)] = k
	}
}

func readChange(jc JSONChange) (plan.Change, error) {
	kind, ok := kinds[jc.Kind]
	if !ok {
		return plan.Change{}, fmt.Errorf("unknown kind %q", jc.Kind)
	}
	if len(jc.Actions) != 1 {
		return plan.Change{}, fmt.Errorf("%d actions, want 1", len(jc.Actions))
	}
	var action plan.Action
	for _, a := range []plan.Action{plan.Create, plan.Update, plan.Rename, plan.Disable, plan.Delete} {
		if a.String() == jc.Actions[0] {
			action = a
		}
	}
	if action == plan.NoOp {
		return plan.Change{}, fmt.Errorf("unknown action %q", jc.Actions[0])
	}
	c := plan.Change{Addr: plan.Address{Kind: kind, Name: jc.Name}, Action: action, Reason: jc.Reason}
	for _, jf := range jc.Fields {
		f, err := readField(jf)
		if err != nil {
			return plan.Change{}, err
		}
		c.Fields = append(c.Fields, f)
	}
	if cm := jc.CodeMie; cm != nil {
		a := &plan.AccessChange{Removed: cm.AfterAccess == nil}
		a.Before = readAccess(cm.BeforeAccess, cm.Before)
		a.After = readAccess(cm.AfterAccess, cm.After)
		if a.Before.Summary() != cm.Before || (!a.Removed && a.After.Summary() != cm.After) {
			return plan.Change{}, fmt.Errorf("its CodeMie meaning %q → %q does not match its access lists", cm.Before, cm.After)
		}
		c.Access, c.FormatOnly = a, cm.FormatOnly
	}
	return c, nil
}

// readAccess is the access a JSONAccess describes; nil is no access (a user being created, or
// removed). JSONAccess does not say whether the user is disabled; the summary does.
func readAccess(ja *JSONAccess, summary string) model.Access {
	if ja == nil {
		return model.Access{}
	}
	return model.Access{Role: model.Role(ja.Role), Projects: ja.Projects, Admin: ja.Admin, External: ja.External,
		ServiceAccount: ja.ServiceAccount, Refused: ja.Refused, Unknown: ja.Unknown,
		Disabled: ja.Unknown == "" && summary == model.Access{Disabled: true}.Summary()}
}

// WithDiagnostics returns a JSON plan as JSON writes it, from the plan as NewJSONPlan marshals
// it (a saved plan's copy, which has none) and the configuration's diagnostics: every other
// field as it is and in its order, indented, followed by a newline.
func WithDiagnostics(raw []byte, diags diag.List) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("the plan is not a JSON object")
	}
	d, err := json.Marshal(diags.JSON())
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	seen := false
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			return nil, errors.New("the plan is not a JSON object")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("the plan is not valid JSON: %w", err)
		}
		if key == "diagnostics" {
			v, seen = d, true
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	if !seen {
		b.WriteString(`,"diagnostics":`)
		b.Write(d)
	}
	b.WriteByte('}')
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
