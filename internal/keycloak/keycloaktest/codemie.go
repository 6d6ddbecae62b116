package keycloaktest

import (
	"context"
	"fmt"
	"net/http"
)

// CreateCodeMieClient creates a confidential client like the one CodeMie's charts create for
// oauth2-proxy: standard flow, and the realm's default client scopes (profile among them). It
// returns the client's internal id.
func (r *Realm) CreateCodeMieClient(ctx context.Context, clientID string) (string, error) {
	if err := r.Admin(ctx, http.MethodPost, "/clients", map[string]any{
		"clientId": clientID, "publicClient": false, "secret": "codemie-secret", "standardFlowEnabled": true,
		"redirectUris": []string{"https://codemie.example.com/oauth2/callback"}, "protocol": "openid-connect",
	}, nil); err != nil {
		return "", err
	}
	var clients []struct {
		ID string `json:"id"`
	}
	if err := r.Admin(ctx, http.MethodGet, "/clients?clientId="+clientID, nil, &clients); err != nil {
		return "", err
	}
	if len(clients) != 1 {
		return "", fmt.Errorf("realm %s: found %d clients %q", r.Name, len(clients), clientID)
	}
	return clients[0].ID, nil
}

// ScopeID returns the internal id of the client scope with the given name.
func (r *Realm) ScopeID(ctx context.Context, name string) (string, error) {
	var scopes []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := r.Admin(ctx, http.MethodGet, "/client-scopes", nil, &scopes); err != nil {
		return "", err
	}
	for _, s := range scopes {
		if s.Name == name {
			return s.ID, nil
		}
	}
	return "", fmt.Errorf("realm %s has no client scope %q", r.Name, name)
}

// AddAttributeMapper adds to the client scope a User Attribute mapper named after attr that puts
// attr into claim attr as a String, in the ID token, access token and userinfo: CodeMie's
// recipe, multivalued or not.
func (r *Realm) AddAttributeMapper(ctx context.Context, scope, attr string, multivalued bool) error {
	id, err := r.ScopeID(ctx, scope)
	if err != nil {
		return err
	}
	return r.Admin(ctx, http.MethodPost, "/client-scopes/"+id+"/protocol-mappers/models", map[string]any{
		"name": attr, "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
		"config": map[string]string{"user.attribute": attr, "claim.name": attr, "jsonType.label": "String",
			"multivalued": fmt.Sprint(multivalued), "id.token.claim": "true", "access.token.claim": "true",
			"userinfo.token.claim": "true"},
	}, nil)
}
