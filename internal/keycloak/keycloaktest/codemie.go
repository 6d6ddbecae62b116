package keycloaktest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// CodeMieClient creates a confidential client clientID standing in for CodeMie's, whose default
// client scopes are Keycloak's roles, profile and basic plus a scope of its own holding one User
// Attribute mapper per CodeMie attribute (claim named like the attribute, String, in the ID
// token, the access token and userinfo), multivalued or not. It returns the client's id.
func (r *Realm) CodeMieClient(ctx context.Context, clientID string, multivalued bool) (string, error) {
	scope := clientID + "-attributes"
	var mappers []map[string]any
	for _, attr := range []string{"applications", "applications_admin", "user_type"} {
		mappers = append(mappers, map[string]any{
			"name": attr, "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
			"config": map[string]string{"user.attribute": attr, "claim.name": attr, "jsonType.label": "String",
				"multivalued": fmt.Sprint(multivalued), "id.token.claim": "true", "access.token.claim": "true",
				"userinfo.token.claim": "true"},
		})
	}
	if err := r.Admin(ctx, http.MethodPost, "/client-scopes", map[string]any{
		"name": scope, "protocol": "openid-connect", "protocolMappers": mappers,
	}, nil); err != nil {
		return "", err
	}
	if err := r.Admin(ctx, http.MethodPost, "/clients", map[string]any{
		"clientId": clientID, "protocol": "openid-connect", "publicClient": false, "standardFlowEnabled": true,
		"redirectUris": []string{"https://codemie.example/*"}, "defaultClientScopes": []string{"roles", "profile", "basic", scope},
	}, nil); err != nil {
		return "", err
	}
	return r.clientUUID(ctx, clientID)
}

// BareCodeMieClient creates a confidential client clientID standing in for CodeMie's with the
// realm's default client scopes (profile and roles among them) and nothing of its own, for tests
// that put the mappers where CodeMie's guide does, on profile. It returns the client's id.
func (r *Realm) BareCodeMieClient(ctx context.Context, clientID string) (string, error) {
	if err := r.Admin(ctx, http.MethodPost, "/clients", map[string]any{
		"clientId": clientID, "protocol": "openid-connect", "publicClient": false, "standardFlowEnabled": true,
		"redirectUris": []string{"https://codemie.example/*"},
	}, nil); err != nil {
		return "", err
	}
	return r.clientUUID(ctx, clientID)
}

// clientUUID returns the internal id of the client clientID.
func (r *Realm) clientUUID(ctx context.Context, clientID string) (string, error) {
	var found []struct {
		ID string `json:"id"`
	}
	if err := r.Admin(ctx, http.MethodGet, "/clients?"+url.Values{"clientId": {clientID}}.Encode(), nil, &found); err != nil {
		return "", err
	}
	if len(found) != 1 {
		return "", fmt.Errorf("client %s: found %d", clientID, len(found))
	}
	return found[0].ID, nil
}

// ExampleClaims returns the claims Keycloak's "evaluate scopes" gives for a user signing in
// through the client (its id) with scope openid, without the user's password: kind is
// access-token, id-token or userinfo.
func (r *Realm) ExampleClaims(ctx context.Context, clientUUID, userID, kind string) (map[string]any, error) {
	var claims map[string]any
	q := url.Values{"userId": {userID}, "scope": {"openid"}}
	err := r.Admin(ctx, http.MethodGet, "/clients/"+url.PathEscape(clientUUID)+"/evaluate-scopes/generate-example-"+kind+"?"+q.Encode(), nil, &claims)
	return claims, err
}
