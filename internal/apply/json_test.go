package apply

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

func TestJSONResult(t *testing.T) {
	f := newFake(live("eve", nil))
	f.Drop(model.AttrApplications)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f.SetHook(func(_ context.Context, call string) error {
		if call == "ReadUsers" {
			cancel()
		}
		return nil
	})
	f.FailAfter("CreateUser alice", errors.New("POST /users: EOF"))
	r := Run(ctx, planOf(
		roleChange(plan.Create, "admin", ""),
		create("alice", model.RoleAdmin, ""),
		create("bob", model.RoleDeveloper, "codemie"),
		removal(plan.Delete, "eve"),
	), f, Options{Parallelism: 1})
	got, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "format_version": "1.3",
  "realm": "codemie",
  "complete": false,
  "interrupted": true,
  "summary": {
    "added": 2,
    "changed": 0,
    "removed": 0,
    "failed": 1,
    "not_started": 1,
    "not_verified": 0
  },
  "changes": [
    {
      "address": "role.admin",
      "kind": "role",
      "name": "admin",
      "action": "create",
      "status": "applied",
      "adopted": false,
      "not_verified": "",
      "error": "",
      "hints": []
    },
    {
      "address": "user.alice",
      "kind": "user",
      "name": "alice",
      "action": "create",
      "status": "applied",
      "adopted": true,
      "not_verified": "",
      "error": "",
      "hints": []
    },
    {
      "address": "user.bob",
      "kind": "user",
      "name": "bob",
      "action": "create",
      "status": "failed",
      "adopted": false,
      "not_verified": "",
      "error": "Keycloak did not store ` + "`applications`" + ` for bob: the realm's unmanaged-attribute policy does not allow it",
      "hints": [
        "set settings.unmanagedAttributePolicy: ADMIN_EDIT, or declare the attribute in the realm's user profile with admin edit permission"
      ]
    },
    {
      "address": "user.eve",
      "kind": "user",
      "name": "eve",
      "action": "delete",
      "status": "not-started",
      "adopted": false,
      "not_verified": "",
      "error": "apply was interrupted",
      "hints": []
    }
  ],
  "error": null
}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("JSON (-want +got):\n%s", diff)
	}
}
