package scenario

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// TestNeverRemovesItsOwnLogin logs roster in as "ops", an administrator of the realm that carries
// the ownership marker, and prunes with a file that declares neither ops nor anyone else: the
// plan deletes the other marked user only, leaving ops and the unmarked user alone; a file that
// declares ops changes nothing about it and says why.
func TestNeverRemovesItsOwnLogin(t *testing.T) {
	realm := scenarioRealm(t, 0, 0)
	password := randomSecret(t, "ops-")
	owned := map[string][]string{"roster_managed": {"true"}}
	if err := realm.SeedUsers(context.Background(), []keycloaktest.User{
		{Username: "ops", Email: "ops@example.com", FirstName: "Op", LastName: "Erator", Enabled: true, Attributes: owned,
			ClientRoles: map[string][]string{"realm-management": {"manage-users", "view-users", "view-realm", "manage-realm"}},
			Credentials: []keycloaktest.Credential{{Type: "password", Value: password}}},
		{Username: "ann", Enabled: true, Attributes: owned},
		{Username: "keep", Enabled: true},
	}); err != nil {
		t.Fatal(err)
	}
	r := newRoster(t, realm, realm.Server.URL)
	r.env = append(r.env, "KEYCLOAK_CLIENT_ID=", "KEYCLOAK_CLIENT_SECRET=", "KEYCLOAK_USER=ops",
		"KEYCLOAK_PASSWORD="+password, "KEYCLOAK_AUTH_REALM="+realm.Name)
	r.write("empty.yaml", "version: 1\nrealm: "+realm.Name+"\nusers: []\n")
	r.write("ops.yaml", "version: 1\nrealm: "+realm.Name+"\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n  - {username: ops, role: admin}\n")

	stdout, stderr, code := r.run("apply", "--auto-approve", "--prune", "delete", "empty.yaml")
	if want := "user \"ann\": deleted\nApply complete: 0 added, 0 changed, 1 removed, 0 failed.\n"; code != 0 || stdout != want {
		t.Errorf("apply --prune delete: exit %d\n%s%s\nwant:\n%s", code, stdout, stderr, want)
	}
	stdout, stderr, code = r.run("plan", "--prune", "disable", "ops.yaml")
	// ops may not read clients, and plan says what it therefore cannot check.
	want := "Read ops.yaml\n\n" +
		"Warning: cannot check which token mappers reach client \"codemie\": roster may not read clients (it needs the realm-management role view-clients)\n" +
		"  To fix: grant roster's service account view-clients (roster doctor --for plan lists the roles)\n" +
		"Note: user \"ops\" is the identity roster signs in as: roster never changes it\n" +
		"Note: 1 user not managed by this file, left alone\n\n" +
		"No changes. The realm matches the configuration.\n"
	if code != 0 || stdout != want {
		t.Errorf("plan declaring ops: exit %d\n%s%s\nwant:\n%s", code, stdout, stderr, want)
	}
	var left []string
	for _, u := range listUsers(t, realm) {
		if !u.Enabled {
			t.Errorf("%s was disabled", u.Username)
		}
		left = append(left, u.Username)
	}
	if len(left) != 2 || left[0] != "keep" || left[1] != "ops" {
		t.Errorf("users left: %v, want [keep ops]", left)
	}
}
