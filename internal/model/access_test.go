package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewAccessMergesGrantsAndKeepsAdminInProjects(t *testing.T) {
	t.Parallel()
	got := NewAccess(RoleDeveloper, false,
		Grants{Member: []string{"codemie"}, Admin: []string{"pay"}},
		Grants{Member: []string{"pay", "search"}})
	want := Access{Role: RoleDeveloper, Projects: []string{"codemie", "pay", "search"}, Admin: []string{"pay"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewAccess (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{
		AttrApplications:      {"codemie,pay,search"},
		AttrApplicationsAdmin: {"pay"},
		AttrUserType:          nil,
	}, got.Attributes()); diff != "" {
		t.Errorf("Attributes (-want +got):\n%s", diff)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a    Access
		want string
	}{
		{Access{}, "cannot sign in"},
		{Access{Role: RoleAdmin, Projects: []string{"a"}}, "Admin"},
		{Access{Role: RoleDeveloper}, "Regular User (no projects)"},
		{Access{Role: RoleDeveloper, Projects: []string{"a", "b", "c"}, Admin: []string{"b"}},
			"Project Admin (b); Regular User (a, c)"},
		{Access{Role: RoleDeveloper, Projects: []string{"a"}, External: true}, "External User: Regular User (a)"},
		{Access{Role: RoleAdmin, Disabled: true}, "cannot sign in (disabled)"},
		{Access{Role: RoleDeveloper, Refused: `CodeMie refuses user_type "guest"`}, `cannot sign in: CodeMie refuses user_type "guest"`},
		{Access{Role: RoleDeveloper, Projects: []string{"a"}, ServiceAccount: true}, "Service Account: Regular User (a)"},
		{Access{Role: RoleDeveloper, Projects: []string{"a"}, Admin: []string{"b"}},
			"Project Admin (b (not in applications)); Regular User (a)"},
		{Access{Unknown: "why"}, "unknown: why"},
	}
	for _, tt := range tests {
		if got := tt.a.Summary(); got != tt.want {
			t.Errorf("%+v.Summary() = %q, want %q", tt.a, got, tt.want)
		}
	}
}

func TestCodeMieAttributes(t *testing.T) {
	t.Parallel()
	want := []string{"applications", "applications_admin", "user_type"}
	got := CodeMieAttributes()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("CodeMieAttributes (-want +got):\n%s", diff)
	}
	got[0] = "changed"
	if CodeMieAttributes()[0] != AttrApplications {
		t.Error("CodeMieAttributes returned a slice a caller can change for everyone")
	}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"applications", true}, {"Applications_Admin", true}, {"USER_TYPE", true},
		{"uſer_type", true}, // Unicode case folding, as the loader has always compared
		{"application", false}, {"applications ", false}, {"roster_managed", false}, {"", false},
	} {
		if got := IsCodeMieAttribute(tc.name); got != tc.want {
			t.Errorf("IsCodeMieAttribute(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestIsUserField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"username", true}, {"email", true}, {"firstName", true}, {"LASTNAME", true}, {"emailVerified", true},
		{"user_type", false}, {"e-mail", false}, {"names", false}, {"", false},
	} {
		if got := IsUserField(tc.name); got != tc.want {
			t.Errorf("IsUserField(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}
