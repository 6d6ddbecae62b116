package keycloak

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestURLCredentialsRefused gives URLs with credentials, parsable or not: each is refused, and
// the error never holds the password.
func TestURLCredentialsRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"https://roster:s3cret-pw@keycloak.example.com", "the server URL carries credentials (user:password@ before https://keycloak.example.com): roster does not use them"},
		{"https://roster:s3cret-pw@keycloak.example.com:8443/", "the server URL carries credentials (user:password@ before https://keycloak.example.com:8443/): roster does not use them"},
		{"https://roster:s3cret-pw with space@keycloak example.com", `server URL "https://***@keycloak example.com" is not an http(s) URL like https://keycloak.example.com`},
		{"roster:s3cret-pw@keycloak.example.com", `server URL "***@keycloak.example.com" is not an http(s) URL like https://keycloak.example.com`},
	} {
		_, err := Open(Config{URL: tc.url, Realm: "r", ClientID: "roster", ClientSecret: "secret"})
		if err == nil || err.Error() != tc.want || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): %v\nwant: %s", tc.url, err, tc.want)
		}
		var ue *URLCredentialsError
		if errors.As(err, &ue) && len(ue.Hints()) != 1 {
			t.Errorf("Open(%q): no hint", tc.url)
		}
	}
}

// TestRedirectPolicy follows a redirect only to the same scheme and host: https to http on the
// same host (default ports, so the same Host) is refused too.
func TestRedirectPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to string
		follow   bool
	}{
		{"https://kc.example.com/admin/realms/r", "https://kc.example.com/auth/admin/realms/r", true},
		{"https://kc.example.com/admin/realms/r", "http://kc.example.com/admin/realms/r", false},
		{"http://kc.example.com/admin/realms/r", "https://kc.example.com/admin/realms/r", false},
		{"https://kc.example.com/admin/realms/r", "https://kc.example.com:8443/admin/realms/r", false},
		{"https://kc.example.com/admin/realms/r", "https://evil.example.com/admin/realms/r", false},
	} {
		from, _ := http.NewRequest("GET", tc.from, nil)
		to, _ := http.NewRequest("GET", tc.to, nil)
		err := sameOriginRedirects(to, []*http.Request{from})
		if (err == nil) != tc.follow {
			t.Errorf("%s → %s: %v, want follow %v", tc.from, tc.to, err, tc.follow)
		}
	}
}

func TestSegment(t *testing.T) {
	t.Parallel()
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
	t.Parallel()
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

// TestShortDuration: the durations hints suggest read as a flag takes them.
func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second:        "30s",
		2 * time.Minute:         "2m",
		90 * time.Second:        "1m30s",
		time.Hour:               "1h",
		90 * time.Minute:        "1h30m",
		1500 * time.Millisecond: "1.5s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
