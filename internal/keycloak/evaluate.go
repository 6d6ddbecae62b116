package keycloak

import (
	"context"
	"net/http"
	"net/url"
)

// This file asks Keycloak what it would put into a user's tokens through a client, without the
// user's password: the Admin API's "evaluate scopes" examples (the console's Client scopes →
// Evaluate tab). They need view-clients and view-users.

// ExampleClaims are the claims Keycloak would issue to one user through one client, each a
// decoded JSON object as the server sent it.
type ExampleClaims struct {
	AccessToken map[string]any
	IDToken     map[string]any
	UserInfo    map[string]any
}

// ExampleClaims asks Keycloak for the access token, ID token and userinfo it would issue to the
// user with the given id through the client with the given internal id, for scope openid (the
// client's default scopes apply as at a sign-in): three GETs of
// /clients/{id}/evaluate-scopes/generate-example-{access-token,id-token,userinfo}?userId=….
// The answers are the claims themselves, unsigned. A user or client that does not exist is a 404.
func (c *Client) ExampleClaims(ctx context.Context, clientID, userID string) (ExampleClaims, error) {
	q := url.Values{"userId": {userID}, "scope": {"openid"}}.Encode()
	base := "/clients/" + url.PathEscape(clientID) + "/evaluate-scopes/generate-example-"
	var ex ExampleClaims
	for _, e := range []struct {
		kind string
		into *map[string]any
	}{{"access-token", &ex.AccessToken}, {"id-token", &ex.IDToken}, {"userinfo", &ex.UserInfo}} {
		if _, err := c.do(ctx, http.MethodGet, base+e.kind+"?"+q, nil, e.into); err != nil {
			return ExampleClaims{}, err
		}
		if *e.into == nil {
			*e.into = map[string]any{} // an empty or "null" answer: no claims
		}
	}
	return ex, nil
}
