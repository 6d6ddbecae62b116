package keycloak

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/rosterhq/roster/internal/model"
)

// This file asks Keycloak what it would put into a user's tokens through a client, without the
// user's password: the Admin API's "evaluate scopes" examples (the console's Client scopes →
// Evaluate tab). They need view-clients and view-users.

// clientRep is the part of Keycloak's ClientRepresentation verification reads.
type clientRep struct {
	ID                  string              `json:"id"`
	ClientID            string              `json:"clientId"`
	DefaultClientScopes []string            `json:"defaultClientScopes"`
	ProtocolMappers     []protocolMapperRep `json:"protocolMappers"`
}

// ReadCodeMieClient reads the client with the given client id (CodeMie's, settings.codemie.clientId)
// with the token mappers that reach it: its own protocol mappers, then those of its default
// client scopes in the order Keycloak lists the scopes. It returns nil, nil when the realm has no
// such client. Two requests: the client, and the client scopes with their mappers.
func (c *Client) ReadCodeMieClient(ctx context.Context, clientID string) (*model.LiveCodeMieClient, error) {
	var reps []clientRep
	q := url.Values{"clientId": {clientID}, "search": {"false"}}
	if _, err := c.do(ctx, http.MethodGet, "/clients?"+q.Encode(), nil, &reps); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(reps, func(r clientRep) bool { return r.ClientID == clientID && r.ID != "" })
	if i < 0 {
		return nil, nil
	}
	r := reps[i]
	cl := &model.LiveCodeMieClient{ID: r.ID, ClientID: r.ClientID, DefaultScopes: slices.Sorted(slices.Values(r.DefaultClientScopes))}
	for _, m := range r.ProtocolMappers {
		cl.Mapping.Mappers = append(cl.Mapping.Mappers, m.model())
	}
	scopes, err := c.ReadClientScopes(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range scopes {
		if !slices.Contains(cl.DefaultScopes, s.Name) {
			continue
		}
		for _, m := range s.Mappers {
			m.Scope = s.Name
			cl.Mapping.Mappers = append(cl.Mapping.Mappers, m)
		}
	}
	return cl, nil
}

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
