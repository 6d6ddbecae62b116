package keycloak_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// TestTokenRenewal gives the realm 5-second access tokens and checks that the client logs in again
// before its token expires, rather than failing with 401 Unauthorized.
func TestTokenRenewal(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	ctx := context.Background()
	if err := realm.Admin(ctx, http.MethodPut, "", map[string]any{"accessTokenLifespan": 5}, nil); err != nil {
		t.Fatal(err)
	}
	counter := &keycloaktest.CountingTransport{}
	cfg := realm.ServiceAccountConfig()
	cfg.Transport = counter
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadRealm(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4500 * time.Millisecond) // past four fifths of the token's life, before its end
	if _, err := c.ReadRealm(ctx); err != nil {
		t.Fatalf("ReadRealm after 4.5 s of a 5 s token: %v", err)
	}
	if got := counter.Count("token"); got != 2 {
		t.Errorf("logged in %d times, want 2 (the first login and one renewal)", got)
	}
}
