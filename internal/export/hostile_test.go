package export

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/internal/escape/escapetest"
	"github.com/rosterhq/roster/internal/model"
)

// TestCommentsCannotInjectYAML exports a realm whose project names, usernames and attribute
// values are hostile. The comments export writes quote them (the CodeMie access after each
// username, the users left out, the attributes not exported); a line feed in a comment would
// end it and make the rest YAML that the next apply reads. The file must hold exactly the users
// and keys export wrote, and no control character.
func TestCommentsCannotInjectYAML(t *testing.T) {
	live := &model.Live{Realm: "r", Policy: model.PolicyAdminEdit}
	var want []string
	projects := map[string]string{}
	for i, h := range escapetest.Hostile {
		name := fmt.Sprintf("u%02d", i)
		want = append(want, name)
		u := model.LiveUser{Username: name, Enabled: true, Roles: []model.Role{model.RoleDeveloper},
			Attributes: map[string][]string{model.AttrApplications: {h + "\nrole: admin"}, "note": {" "}}}
		projects[name] = fmt.Sprint(model.NormalizeProjects(strings.Split(h+"\nrole: admin", ","))) // as export declares them
		live.Users = append(live.Users, u, model.LiveUser{Username: h + "\nrole: admin", Enabled: true})
	}
	got, err := Build(live, Options{Server: "http://kc", Time: time.Unix(0, 0)}).Single()
	if err != nil {
		t.Fatal(err)
	}
	if c := escapetest.Controls(string(got), false); c != nil {
		t.Errorf("control characters %v in\n%s", c, got)
	}
	var doc struct {
		Version int
		Realm   string
		Users   []map[string]any
	}
	if err := yaml.Unmarshal(got, &doc); err != nil {
		t.Fatalf("the export is not YAML: %v\n%s", err, got)
	}
	var names []string
	for _, u := range doc.Users {
		names = append(names, fmt.Sprint(u["username"]))
		for k := range u {
			if !slices.Contains([]string{"username", "role", "projects"}, k) {
				t.Errorf("user %v has key %q export did not write", u["username"], k)
			}
		}
		if p, _ := u["projects"].(map[string]any); fmt.Sprint(p["member"]) != projects[fmt.Sprint(u["username"])] {
			t.Errorf("user %v has projects %v, want member %s", u["username"], u["projects"], projects[fmt.Sprint(u["username"])])
		}
		if u["role"] != "developer" {
			t.Errorf("user %v has role %v, want developer", u["username"], u["role"])
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("users %q, want %q\n%s", names, want, got)
	}
}

// TestPlainWordsReadBackAsThemselves checks the shortcut str takes for plain words against the
// parser it saves: every word plainWord lets through unquoted reads back as the same string.
func TestPlainWordsReadBackAsThemselves(t *testing.T) {
	words := []string{"alice", "user00001", "bob@example.com", "first.last", "a-b_c", "Team7", "e10", "x1e3",
		"true", "True", "FALSE", "null", "NULL", "yes", "No", "on", "OFF", "y", "N", "nan", "inf", "infinity", "Null1"}
	for _, w := range words {
		if !plainWord(w) {
			continue
		}
		var v any
		if err := yaml.Unmarshal([]byte(w), &v); err != nil || v != w {
			t.Errorf("plainWord(%q) is true, but it reads back as %#v (%v)", w, v, err)
		}
	}
	for _, w := range []string{"true", "yes", "null", "Off", "1abc", "-x", ".inf", "a b", "a:b", "a#b", "~", ""} {
		if plainWord(w) {
			t.Errorf("plainWord(%q) is true, want false", w)
		}
	}
}
