package model

import "testing"

// TestPolicyWriters pins who may write an attribute: a declared attribute's edit permission,
// else the unmanaged-attribute policy.
func TestPolicyWriters(t *testing.T) {
	t.Parallel()
	adminOnly := ProfileAttribute{View: []string{"admin", "user"}, Edit: []string{"admin"}}
	both := ProfileAttribute{Edit: []string{"admin", "user"}}
	for _, tc := range []struct {
		policy      Policy
		declared    map[string]ProfileAttribute
		admin, user bool
	}{
		{PolicyEnabled, nil, true, true},
		{PolicyAdminEdit, nil, true, false},
		{PolicyAdminView, nil, false, false},
		{PolicyDisabled, nil, false, false},
		{PolicyEnabled, map[string]ProfileAttribute{"applications": adminOnly}, true, false},
		{PolicyDisabled, map[string]ProfileAttribute{"applications": both}, true, true},
		{PolicyAdminEdit, map[string]ProfileAttribute{"applications": {}}, false, false},
		{PolicyAdminEdit, map[string]ProfileAttribute{"other": both}, true, false},
	} {
		up := UserProfile{Policy: tc.policy, Attributes: tc.declared}
		admin, user := up.Writers("applications")
		if admin != tc.admin || user != tc.user {
			t.Errorf("%s, declared %v: Writers = admin %v, user %v; want %v, %v", tc.policy, tc.declared, admin, user, tc.admin, tc.user)
		}
		if tc.declared == nil && (tc.policy.AdminWrites() != tc.admin || tc.policy.UserWrites() != tc.user) {
			t.Errorf("%s: AdminWrites %v, UserWrites %v; want %v, %v", tc.policy, tc.policy.AdminWrites(), tc.policy.UserWrites(), tc.admin, tc.user)
		}
		live := Live{ProfileAttributes: map[string]bool{}}
		for name, a := range tc.declared {
			live.ProfileAttributes[name] = a.UserEdits()
		}
		if got := live.UserEditable("applications", tc.policy); got != tc.user {
			t.Errorf("%s, declared %v: UserEditable = %v, want %v", tc.policy, tc.declared, got, tc.user)
		}
	}
	for _, p := range []Policy{"", "enabled", "ADMIN"} {
		if p.Known() || p.AdminWrites() || p.UserWrites() {
			t.Errorf("policy %q: Known %v, AdminWrites %v, UserWrites %v; want all false", p, p.Known(), p.AdminWrites(), p.UserWrites())
		}
	}
}
