package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// ServiceClient is a confidential client of the managed realm whose service account roster logs
// in as, as Keycloak describes it.
type ServiceClient struct {
	ID                        string `json:"id"`
	ClientID                  string `json:"clientId"`
	Description               string `json:"description"`
	Enabled                   bool   `json:"enabled"`
	PublicClient              bool   `json:"publicClient"`
	BearerOnly                bool   `json:"bearerOnly"`
	ServiceAccountsEnabled    bool   `json:"serviceAccountsEnabled"`
	StandardFlowEnabled       bool   `json:"standardFlowEnabled"`
	ImplicitFlowEnabled       bool   `json:"implicitFlowEnabled"`
	DirectAccessGrantsEnabled bool   `json:"directAccessGrantsEnabled"`
	ClientAuthenticatorType   string `json:"clientAuthenticatorType"`
}

// Differences lists, in words, how sc differs from a client that only logs in with its secret
// as its service account: enabled, confidential, with the service account and no other flow.
func (sc ServiceClient) Differences() []string {
	var d []string
	add := func(bad bool, what string) {
		if bad {
			d = append(d, what)
		}
	}
	add(!sc.Enabled, "it is disabled")
	add(sc.PublicClient, "it is a public client (no secret)")
	add(sc.BearerOnly, "it is bearer-only")
	add(!sc.ServiceAccountsEnabled, "its service account is off")
	add(sc.StandardFlowEnabled, "the standard flow (browser login) is on")
	add(sc.ImplicitFlowEnabled, "the implicit flow is on")
	add(sc.DirectAccessGrantsEnabled, "direct access grants (passwords) are on")
	add(sc.ClientAuthenticatorType != "client-secret", fmt.Sprintf("it authenticates with %q, not a client secret", sc.ClientAuthenticatorType))
	return d
}

// FindClient looks a client of the managed realm up by its exact client id; ok is false when
// there is none.
func (c *Client) FindClient(ctx context.Context, clientID string) (sc ServiceClient, ok bool, err error) {
	var found []ServiceClient
	if _, err := c.do(ctx, http.MethodGet, "/clients?"+url.Values{"clientId": {clientID}}.Encode(), nil, &found); err != nil {
		return sc, false, err
	}
	for _, f := range found {
		if f.ClientID == clientID { // the query is exact; a hostile answer is not trusted to be
			return f, true, nil
		}
	}
	return sc, false, nil
}

// CreateServiceClient creates a confidential client that can only log in as its service account
// with a secret Keycloak generates, and returns it as created.
func (c *Client) CreateServiceClient(ctx context.Context, clientID, description string) (ServiceClient, error) {
	rep := map[string]any{
		"clientId": clientID, "description": description, "enabled": true, "protocol": "openid-connect",
		"publicClient": false, "bearerOnly": false, "serviceAccountsEnabled": true,
		"standardFlowEnabled": false, "implicitFlowEnabled": false, "directAccessGrantsEnabled": false,
		"clientAuthenticatorType": "client-secret",
	}
	if _, err := c.do(ctx, http.MethodPost, "/clients", rep, nil); err != nil {
		return ServiceClient{}, err
	}
	sc, ok, err := c.FindClient(ctx, clientID)
	if err == nil && !ok {
		err = fmt.Errorf("client %q was created but Keycloak does not list it", clientID)
	}
	return sc, err
}

// ClientSecret returns the secret of the client with the given id (not client id).
func (c *Client) ClientSecret(ctx context.Context, id string) (string, error) {
	var cred struct {
		Value string `json:"value"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/clients/"+url.PathEscape(id)+"/client-secret", nil, &cred); err != nil {
		return "", err
	}
	if cred.Value == "" {
		return "", fmt.Errorf("Keycloak returned no secret for client %s", id)
	}
	if c.cfg.Secrets != nil {
		c.cfg.Secrets.Add(cred.Value)
	}
	return cred.Value, nil
}

type namedRole struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// serviceAccountPaths returns the role-mapping path of the client's service account for the
// realm-management client, and that client's id.
func (c *Client) serviceAccountPaths(ctx context.Context, id string) (mapping, mgmt string, err error) {
	var user struct {
		ID string `json:"id"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/clients/"+url.PathEscape(id)+"/service-account-user", nil, &user); err != nil {
		return "", "", err
	}
	rm, ok, err := c.FindClient(ctx, "realm-management")
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", fmt.Errorf("realm %s has no client realm-management, which holds the administration roles", c.cfg.Realm)
	}
	return "/users/" + url.PathEscape(user.ID) + "/role-mappings/clients/" + url.PathEscape(rm.ID), rm.ID, nil
}

// ServiceAccountRoles returns the realm-management roles granted directly to the service account
// of the client with the given id, sorted.
func (c *Client) ServiceAccountRoles(ctx context.Context, id string) ([]Permission, error) {
	mapping, _, err := c.serviceAccountPaths(ctx, id)
	if err != nil {
		return nil, err
	}
	var roles []namedRole
	if _, err := c.do(ctx, http.MethodGet, mapping, nil, &roles); err != nil {
		return nil, err
	}
	var held []Permission
	for _, r := range roles {
		held = append(held, Permission(r.Name))
	}
	slices.Sort(held)
	return held, nil
}

// GrantServiceAccountRoles grants realm-management roles to the service account of the client
// with the given id.
func (c *Client) GrantServiceAccountRoles(ctx context.Context, id string, perms []Permission) error {
	mapping, mgmt, err := c.serviceAccountPaths(ctx, id)
	if err != nil {
		return err
	}
	var roles []namedRole
	for _, p := range perms {
		var r namedRole
		if _, err := c.do(ctx, http.MethodGet, "/clients/"+url.PathEscape(mgmt)+"/roles/"+url.PathEscape(string(p)), nil, &r); err != nil {
			return err
		}
		roles = append(roles, r)
	}
	_, err = c.do(ctx, http.MethodPost, mapping, roles, nil)
	return err
}
