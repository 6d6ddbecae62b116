package model

import "testing"

// TestIdPMapperKinds pins each kind of identity-provider mapper to Keycloak's mapper type and
// back.
func TestIdPMapperKinds(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// TestNoSharedSlices checks that the fixed lists model hands out are new slices each time: a
// caller that sorts or appends to one cannot change them for everyone.
func TestNoSharedSlices(t *testing.T) {
	t.Parallel()
	OwnedRoles()[0] = "changed"
	TokenTypes()[0] = "changed"
	IdPMapperKinds()[0] = "changed"
	SyncModes()[0] = "changed"
	if OwnedRoles()[0] != RoleAdmin || TokenTypes()[0] != TokenAccess || IdPMapperKinds()[0] != HardcodedRole || SyncModes()[0] != SyncInherit {
		t.Error("a fixed list changed for every caller")
	}
}

func TestMicrosoftEndpoint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		key, url string
		want     bool
	}{
		{"issuer", "https://login.microsoftonline.com/t/v2.0", true},
		{"tokenUrl", "https://LOGIN.partner.microsoftonline.cn:443/t/oauth2/v2.0/token", true},
		{"jwksUrl", "https://login.chinacloudapi.cn/t/discovery/v2.0/keys", true},
		{"userInfoUrl", "https://dod-graph.microsoft.us/oidc/userinfo", true},
		{"tokenUrl", "https://graph.microsoft.com/oidc/userinfo", false}, // Graph serves userinfo only
		{"issuer", "http://login.microsoftonline.com/t/v2.0", false},
		{"issuer", "https://login.microsoftonline.com:8443/t/v2.0", false},
		{"issuer", "https://user@login.microsoftonline.com/t/v2.0", false},
		{"issuer", "https://login.microsoftonline.com.evil.example/t", false},
	} {
		if got := MicrosoftEndpoint(tc.key, tc.url); got != tc.want {
			t.Errorf("MicrosoftEndpoint(%s, %s) = %v, want %v", tc.key, tc.url, got, tc.want)
		}
	}
}
