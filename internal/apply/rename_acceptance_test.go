package apply_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/plan"
)

// TestRenameKeepsTheAccount renames bob to robert in the file, keeping his email: the person
// signs in as robert with the password bob had, into the same account (token subject), with the
// same password credential; nothing is removed. While the realm does not allow usernames to
// change, the plan is refused and bob is untouched.
func TestRenameKeepsTheAccount(t *testing.T) {
	realm, c := prepared(t)
	ctx := context.Background()
	if err := realm.CreateLoginClient(ctx, "codemie"); err != nil {
		t.Fatal(err)
	}
	const password = "Bob-Pa55-word"
	before := load(t, fmt.Sprintf(`version: 1
realm: %s
settings: {prune: delete}
users:
  - username: bob
    email: bob@example.com
    firstName: Bob
    lastName: Stone
    role: developer
    projects: {member: [codemie]}
    initialPassword: {env: ROSTER_SECRET_UNUSED, temporary: false}
`, realm.Name))
	if res := apply.Run(ctx, planFor(t, c, before), c, withPassword(password)); res.Failed > 0 {
		t.Fatalf("first apply: %v", res.Err())
	}
	subject := func(username string) string {
		t.Helper()
		tok, err := realm.SignIn(ctx, "codemie", username, password)
		if err != nil {
			t.Fatal(err)
		}
		claims, err := keycloaktest.Claims(tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(claims["sub"])
	}
	credentials := func(id string) []string {
		t.Helper()
		var creds []struct{ ID, Type string }
		if err := realm.Admin(ctx, http.MethodGet, "/users/"+id+"/credentials", nil, &creds); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range creds {
			ids = append(ids, c.Type+":"+c.ID)
		}
		return ids
	}
	bobID := subject("bob")
	bobCreds := credentials(bobID)

	after := load(t, fmt.Sprintf(`version: 1
realm: %s
settings: {prune: delete}
users:
  - {username: robert, email: bob@example.com, role: developer, projects: {member: [codemie]}}
`, realm.Name))
	live, err := c.ReadLive(ctx, keycloak.ReadOptionsFor(after))
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Build(after, live, plan.Options{})
	var ce *plan.ConflictError
	if !errors.As(err, &ce) || len(ce.Conflicts) != 1 || !ce.Conflicts[0].Rename {
		t.Fatalf("plan without editUsernameAllowed: err = %v, want one refused rename", err)
	}
	if got := subject("bob"); got != bobID {
		t.Fatalf("bob's account changed after a refused plan: %s, was %s", got, bobID)
	}

	if err := realm.Admin(ctx, http.MethodPut, "", map[string]any{"editUsernameAllowed": true}, nil); err != nil {
		t.Fatal(err)
	}
	p := planFor(t, c, after)
	if s := p.Summary(); s != (plan.Summary{Change: 1}) || p.Changes[0].Action != plan.Rename {
		t.Fatalf("plan = %+v, %s; want one rename", p.Changes, s)
	}
	res := apply.Run(ctx, p, c, apply.Options{})
	if res.Failed > 0 || res.Changed != 1 || res.Removed != 0 {
		t.Fatalf("apply: %+v: %v", res, res.Err())
	}
	if got := subject("robert"); got != bobID {
		t.Errorf("robert signs in to account %s, bob's was %s", got, bobID)
	}
	if got := fmt.Sprint(credentials(bobID)); got != fmt.Sprint(bobCreds) {
		t.Errorf("credentials = %s, before the rename %s", got, bobCreds)
	}
	if _, err := realm.SignIn(ctx, "codemie", "bob", password); err == nil {
		t.Error("bob still signs in after the rename")
	}
	if p := planFor(t, c, after); p.HasChanges() {
		t.Errorf("second plan has changes: %+v", p.Changes)
	}
}
