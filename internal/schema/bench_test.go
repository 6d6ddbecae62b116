package schema

import (
	"fmt"
	"strings"
	"testing"
)

// generateConfig writes a realistic configuration of n users: a 200-project registry, 50 teams
// of 20 members, and users with one or two own grants, names, an email and an attribute.
func generateConfig(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nrealm: bench\nsettings:\n  unmanagedAttributePolicy: ADMIN_EDIT\nprojects:\n")
	for p := range 200 {
		fmt.Fprintf(&b, "  - project-%03d\n", p)
	}
	b.WriteString("teams:\n")
	for t := range 50 {
		fmt.Fprintf(&b, "  team-%02d:\n    projects: {admin: [project-%03d], member: [project-%03d]}\n    members:\n", t, t, t+100)
		for m := range 20 {
			fmt.Fprintf(&b, "      - user%05d\n", (t*20+m)%n)
		}
	}
	b.WriteString("users:\n")
	for u := range n {
		role := "developer"
		if u%100 == 0 {
			role = "admin"
		}
		fmt.Fprintf(&b, "  - username: user%05d\n    email: user%05d@example.com\n    firstName: User\n    lastName: Number%d\n    role: %s\n    projects:\n      member: [project-%03d, project-%03d]\n    attributes:\n      department: [dept-%d]\n",
			u, u, u, role, u%200, (u*7)%200, u%17)
	}
	return []byte(b.String())
}

// BenchmarkLoad10kUsers validates a generated 10,000-user file end to end.
//
//	go test -run='^$' -bench=Load10k -benchmem ./internal/schema
func BenchmarkLoad10kUsers(b *testing.B) {
	data := generateConfig(10_000)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		cfg, diags := LoadFiles([]File{{Name: "users.yaml", Data: data}}, Options{})
		if cfg == nil || len(cfg.Users) != 10_000 {
			b.Fatalf("load failed: %v", diags[:min(len(diags), 5)])
		}
	}
}

// TestGenerateConfigIsValid keeps the benchmark input free of diagnostics.
func TestGenerateConfigIsValid(t *testing.T) {
	t.Parallel()
	_, diags := LoadFiles([]File{{Name: "users.yaml", Data: generateConfig(300)}}, Options{})
	for _, d := range diags {
		t.Error(d)
	}
}
