package keycloak

import "testing"

func TestSegment(t *testing.T) {
	for path, want := range map[string]int{
		"":                         -1,
		"/admin":                   0,
		"/kc/admin":                3,
		"/kc/admin/realms/x":       3,
		"/administration":          -1,
		"/realms/admin":            7,
		"/kc/my-admin/admin-panel": -1,
	} {
		if got := segment(path, "admin"); got != want {
			t.Errorf("segment(%q, admin) = %d, want %d", path, got, want)
		}
	}
}

func TestCheckScheme(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://kc.example.com": true,
		"http://127.0.0.1:8080":  true,
		"kc.example.com":         false,
		"127.0.0.1:8080":         false,
		"localhost:8080/admin":   false,
	} {
		if err := checkScheme(raw); (err == nil) != ok {
			t.Errorf("checkScheme(%q) = %v", raw, err)
		}
	}
}
