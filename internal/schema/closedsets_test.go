package schema

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
)

// TestSchemaEnumsAreModelClosedSets pins the JSON Schema's enums to model's closed sets, so that
// a value the schema accepts is one the code knows and the other way round.
func TestSchemaEnumsAreModelClosedSets(t *testing.T) {
	t.Parallel()
	var doc struct {
		Defs map[string]struct {
			Enum       []string `json:"enum"`
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(schemaJSON, &doc); err != nil {
		t.Fatal(err)
	}
	var policies, prunes, syncs, kinds []string
	for _, p := range []model.Policy{model.PolicyEnabled, model.PolicyAdminEdit, model.PolicyAdminView, model.PolicyDisabled} {
		if !p.Known() {
			t.Errorf("policy %s is not Known", p)
		}
		policies = append(policies, string(p))
	}
	for _, p := range []model.Prune{model.PruneNone, model.PruneDisable, model.PruneDelete} {
		prunes = append(prunes, string(p))
	}
	for _, s := range model.SyncModes() {
		syncs = append(syncs, string(s))
	}
	for _, k := range model.IdPMapperKinds() {
		kinds = append(kinds, string(k))
	}
	for _, tc := range []struct {
		name      string
		schema    []string
		model     []string
		modelName string
	}{
		{"settings.unmanagedAttributePolicy", doc.Defs["settings"].Properties["unmanagedAttributePolicy"].Enum, policies, "model.Policy"},
		{"settings.prune", doc.Defs["settings"].Properties["prune"].Enum, prunes, "model.Prune"},
		{"syncMode", doc.Defs["syncMode"].Enum, syncs, "model.SyncModes"},
		{"identityProviderMapper.type", doc.Defs["identityProviderMapper"].Properties["type"].Enum, kinds, "model.IdPMapperKinds"},
	} {
		if diff := cmp.Diff(tc.schema, tc.model); diff != "" {
			t.Errorf("%s: the schema's enum and %s differ (-schema +model):\n%s", tc.name, tc.modelName, diff)
		}
	}
}
