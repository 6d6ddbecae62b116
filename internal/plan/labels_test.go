package plan

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from current output")

// labelStates are live states of one user as stored: the owned roles and the attributes.
var labelStates = []struct {
	name  string
	roles []model.Role
	attrs map[string][]string
}{
	{"joined", dev, map[string][]string{"applications": {"proj-a,proj-b,proj-c"}}},
	{"two-values", dev, map[string][]string{"applications": {"proj-a", "proj-b,proj-c"}}},
	{"upper-case", dev, map[string][]string{"applications": {"PROJ-A"}}},
	{"admin-only", dev, map[string][]string{"applications_admin": {"proj-a"}}},
	{"admin-both", dev, map[string][]string{"applications": {"proj-a"}, "applications_admin": {"proj-a"}}},
	{"duplicates-spaces", dev, map[string][]string{"applications": {" proj-a , proj-a ,"}}},
	{"member-a", dev, map[string][]string{"applications": {"proj-a"}}},
	{"type-external", dev, map[string][]string{"applications": {"proj-a"}, "user_type": {"external"}}},
	{"type-External-spaced", dev, map[string][]string{"applications": {"proj-a"}, "user_type": {" External "}}},
	{"type-regular", dev, map[string][]string{"applications": {"proj-a"}, "user_type": {"regular"}}},
	{"type-service-account", dev, map[string][]string{"applications": {"proj-a"}, "user_type": {"service_account"}}},
	{"type-guest", dev, map[string][]string{"applications": {"proj-a"}, "user_type": {"guest"}}},
	{"type-empty", dev, map[string][]string{"applications": {"proj-a"}, "user_type": {""}}},
	{"type-two", dev, map[string][]string{"applications": {"proj-a"}, "user_type": {"external", "regular"}}},
	{"no-projects", dev, nil},
	{"admin", []model.Role{model.RoleAdmin}, nil},
	{"no-role", nil, map[string][]string{"applications": {"proj-a"}}},
}

var dev = []model.Role{model.RoleDeveloper}

// labelDeclarations are what a file can declare for the user.
var labelDeclarations = []struct {
	name string
	user model.User
}{
	{"member proj-a", user("u", model.RoleDeveloper, grants("proj-a"))},
	{"member proj-a,b,c", user("u", model.RoleDeveloper, grants("proj-a", "proj-b", "proj-c"))},
	{"admin of proj-a", user("u", model.RoleDeveloper, model.Grants{Admin: []string{"proj-a"}})},
	{"external member proj-a", func() model.User {
		u := user("u", model.RoleDeveloper, grants("proj-a"))
		u.External, u.Access.External = true, true
		return u
	}()},
	{"no projects", user("u", model.RoleDeveloper, model.Grants{})},
	{"platform admin", user("u", model.RoleAdmin, model.Grants{})},
}

// duplicateApplicationsMapping is the recommended mapping with a second mapper filling claim
// applications, from another scope: what Keycloak then issues roster does not predict.
func duplicateApplicationsMapping() model.TokenMapping {
	m := model.RecommendedMapping()
	m.Mappers = append(m.Mappers, model.LiveTokenMapper{
		Name: "legacy applications", Scope: "legacy", ProtocolMapper: model.ProtocolMapperUserAttribute,
		Attribute: model.AttrApplications, Claim: model.AttrApplications, JSONType: "String",
		IDToken: true, AccessToken: true, UserInfo: true,
	})
	return m
}

// TestAccessLabels plans every declaration against every live state, under CodeMie's
// recommended single-valued mappers and under multivalued ones, and compares the label of each
// user change with testdata/labels.golden: "no access change" only where the claims CodeMie
// reads are the same.
func TestAccessLabels(t *testing.T) {
	t.Parallel()
	multi := model.RecommendedMapping()
	for i := range multi.Mappers {
		if multi.Mappers[i].ProtocolMapper == model.ProtocolMapperUserAttribute {
			multi.Mappers[i].Multivalued = true
		}
	}
	var out strings.Builder
	for _, m := range []struct {
		name    string
		mapping model.TokenMapping
	}{
		{"single-valued mappers", model.RecommendedMapping()},
		{"multivalued mappers", multi},
		// Two mappers fill applications: roster cannot predict the claim, so no change is
		// labelled "no access change".
		{"two applications mappers", duplicateApplicationsMapping()},
	} {
		fmt.Fprintf(&out, "# %s\n", m.name)
		for _, s := range labelStates {
			for _, d := range labelDeclarations {
				live := realm(liveUser("u", s.attrs, s.roles...))
				live.Client = &model.LiveCodeMieClient{ClientID: "codemie", DefaultScopes: []string{"profile", "roles"}, Mapping: m.mapping}
				p, err := Build(config(d.user), live, Options{})
				if err != nil {
					t.Fatal(err)
				}
				label := "no change"
				for _, c := range p.Changes {
					if c.Addr.Kind == KindUser {
						label = c.Access.String()
						if c.FormatOnly {
							label += " (format only)"
						}
					}
				}
				fmt.Fprintf(&out, "%-20s → %-22s  %s\n", s.name, d.name, label)
			}
		}
	}
	const golden = "testdata/labels.golden"
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", golden, diff)
	}
}
