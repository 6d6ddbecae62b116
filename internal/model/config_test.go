package model

import "testing"

// TestIdPMapperKinds pins each kind of identity-provider mapper to Keycloak's mapper type and
// back.
func TestIdPMapperKinds(t *testing.T) {
	for _, tc := range []struct {
		kind       IdPMapperKind
		providerID string
	}{
		{HardcodedRole, "oidc-hardcoded-role-idp-mapper"},
		{AttributeImporter, "oidc-user-attribute-idp-mapper"},
	} {
		if got := tc.kind.ProviderID(); got != tc.providerID {
			t.Errorf("%s.ProviderID() = %q, want %q", tc.kind, got, tc.providerID)
		}
		if got, ok := IdPMapperKindOf(tc.providerID); !ok || got != tc.kind {
			t.Errorf("IdPMapperKindOf(%q) = %q, %v; want %q, true", tc.providerID, got, ok, tc.kind)
		}
	}
	if got := IdPMapperKind("claim-to-role").ProviderID(); got != "" {
		t.Errorf("an unknown kind has provider id %q", got)
	}
	for _, id := range []string{"", "hardcoded-role", "oidc-advanced-claim-to-role-idp-mapper"} {
		if k, ok := IdPMapperKindOf(id); ok {
			t.Errorf("IdPMapperKindOf(%q) = %q, true; want false", id, k)
		}
	}
	if n := len(IdPMapperKinds()); n != 2 {
		t.Errorf("%d kinds, want 2", n)
	}
}

// TestSyncModeEffective pins how a mapper inherits its provider's sync mode.
func TestSyncModeEffective(t *testing.T) {
	for _, tc := range []struct {
		mapper, provider, want SyncMode
	}{
		{"", SyncForce, SyncForce},
		{SyncInherit, SyncForce, SyncForce},
		{SyncInherit, "", ""},
		{"", SyncInherit, SyncInherit},
		{SyncImport, SyncForce, SyncImport},
		{SyncForce, SyncImport, SyncForce},
		{SyncLegacy, "", SyncLegacy},
	} {
		if got := tc.mapper.Effective(tc.provider); got != tc.want {
			t.Errorf("%q.Effective(%q) = %q, want %q", tc.mapper, tc.provider, got, tc.want)
		}
	}
}
