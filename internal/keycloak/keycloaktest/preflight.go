package keycloaktest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/rosterhq/roster/internal/keycloak"
)

// SetServiceAccountRoles replaces the realm-management client roles of the realm's service
// account with roles (none when empty), for tests of what roster does without some of them.
func (r *Realm) SetServiceAccountRoles(ctx context.Context, roles ...string) error {
	type idRep struct {
		ID string `json:"id"`
	}
	var clients []idRep
	if err := r.Admin(ctx, http.MethodGet, "/clients?clientId="+url.QueryEscape(r.ClientID), nil, &clients); err != nil {
		return err
	}
	var mgmt []idRep
	if err := r.Admin(ctx, http.MethodGet, "/clients?clientId=realm-management", nil, &mgmt); err != nil {
		return err
	}
	if len(clients) != 1 || len(mgmt) != 1 {
		return fmt.Errorf("realm %s: found %d clients %q and %d realm-management", r.Name, len(clients), r.ClientID, len(mgmt))
	}
	var sa idRep
	if err := r.Admin(ctx, http.MethodGet, "/clients/"+clients[0].ID+"/service-account-user", nil, &sa); err != nil {
		return err
	}
	mappings := "/users/" + sa.ID + "/role-mappings/clients/" + mgmt[0].ID
	var held []map[string]any
	if err := r.Admin(ctx, http.MethodGet, mappings, nil, &held); err != nil {
		return err
	}
	if len(held) > 0 {
		if err := r.Admin(ctx, http.MethodDelete, mappings, held, nil); err != nil {
			return err
		}
	}
	var grant []map[string]any
	for _, name := range roles {
		var role map[string]any
		if err := r.Admin(ctx, http.MethodGet, "/clients/"+mgmt[0].ID+"/roles/"+url.PathEscape(name), nil, &role); err != nil {
			return err
		}
		grant = append(grant, role)
	}
	if len(grant) == 0 {
		return nil
	}
	return r.Admin(ctx, http.MethodPost, mappings, grant, nil)
}

// Version returns the server's Keycloak version, as the master administrator reads it.
func (s *Server) Version(ctx context.Context) (string, error) {
	c, err := keycloak.Dial(ctx, keycloak.Config{URL: s.URL, Realm: "master", Username: s.AdminUser, Password: s.AdminPassword})
	if err != nil {
		return "", err
	}
	v, err := c.ServerVersion(ctx)
	if err == nil && v == "" {
		err = errors.New("GET /admin/serverinfo: no version for the master administrator")
	}
	return v, err
}
