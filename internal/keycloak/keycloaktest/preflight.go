package keycloaktest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
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
	token, err := s.Token(ctx)
	if err != nil {
		return "", err
	}
	var info struct {
		SystemInfo struct {
			Version string `json:"version"`
		} `json:"systemInfo"`
	}
	resp, err := s.gc.GetRequestWithBearerAuth(ctx, token).SetResult(&info).Get(s.URL + "/admin/serverinfo")
	if err != nil {
		return "", fmt.Errorf("GET /admin/serverinfo: %w", err)
	}
	if resp.IsError() || info.SystemInfo.Version == "" {
		return "", fmt.Errorf("GET /admin/serverinfo: %s, no version", resp.Status())
	}
	return info.SystemInfo.Version, nil
}
