package operation

import (
	"slices"
	"testing"

	"github.com/rosterhq/roster/internal/keycloak"
)

func TestMissingRoles(t *testing.T) {
	view := []keycloak.Permission{keycloak.ViewClients, keycloak.ViewRealm, keycloak.ViewUsers}
	for _, tt := range []struct {
		name string
		held []keycloak.Permission
		want []keycloak.Permission
	}{
		{"none held: all missing", nil, view},
		{"some held", []keycloak.Permission{keycloak.ViewRealm}, []keycloak.Permission{keycloak.ViewClients, keycloak.ViewUsers}},
		{"all held: none missing", view, nil},
		// A role the account should not have makes it someone else's: nothing is completed.
		{"an extra role", []keycloak.Permission{keycloak.ViewRealm, keycloak.ManageUsers}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := missingRoles(tt.held, view); !slices.Equal(got, tt.want) {
				t.Errorf("missingRoles(%v) = %v, want %v", tt.held, got, tt.want)
			}
		})
	}
}

func TestServiceClientDifferences(t *testing.T) {
	good := keycloak.ServiceClient{Enabled: true, ServiceAccountsEnabled: true, ClientAuthenticatorType: "client-secret"}
	if d := good.Differences(); d != nil {
		t.Errorf("a service-account-only client differs: %q", d)
	}
	bad := keycloak.ServiceClient{PublicClient: true, StandardFlowEnabled: true, DirectAccessGrantsEnabled: true, ClientAuthenticatorType: "client-jwt"}
	want := []string{
		"it is disabled",
		"it is a public client (no secret)",
		"its service account is off",
		"the standard flow (browser login) is on",
		"direct access grants (passwords) are on",
		`it authenticates with "client-jwt", not a client secret`,
	}
	if d := bad.Differences(); !slices.Equal(d, want) {
		t.Errorf("Differences:\ngot  %q\nwant %q", d, want)
	}
}
