package keycloaktest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// CreateLoginClient creates a public client that lets users sign in with their password (direct
// grant), as a stand-in for CodeMie's client: it gets the realm's default client scopes, profile
// among them.
func (r *Realm) CreateLoginClient(ctx context.Context, clientID string) error {
	return r.Admin(ctx, http.MethodPost, "/clients", map[string]any{
		"clientId": clientID, "publicClient": true, "directAccessGrantsEnabled": true,
		"standardFlowEnabled": false, "protocol": "openid-connect",
	}, nil)
}

// Tokens are what a user's sign-in returns.
type Tokens struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
}

// SignIn signs the user in through the client with their password (direct grant, scope openid).
func (r *Realm) SignIn(ctx context.Context, clientID, username, password string) (Tokens, error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {clientID}, "username": {username},
		"password": {password}, "scope": {"openid"}}
	tok, err := r.Server.requestToken(ctx, r.Name, form, "", "")
	if err != nil {
		return Tokens{}, fmt.Errorf("sign in as %s: %w", username, err)
	}
	return Tokens{AccessToken: tok.AccessToken, IDToken: tok.IDToken}, nil
}

// UserInfo returns the userinfo claims for an access token.
func (r *Realm) UserInfo(ctx context.Context, accessToken string) (map[string]any, error) {
	var claims map[string]any
	if _, err := call(ctx, accessToken, http.MethodGet, fmt.Sprintf("%s/realms/%s/protocol/openid-connect/userinfo", r.Server.URL, r.Name), nil, &claims); err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	return claims, nil
}

// Account sends a request to the account API as the signed-in user (path below
// /realms/{realm}/account), decoding the answer into result when it is non-nil.
func (r *Realm) Account(ctx context.Context, accessToken, method, path string, body, result any) error {
	if _, err := call(ctx, accessToken, method, fmt.Sprintf("%s/realms/%s/account%s", r.Server.URL, r.Name, path), body, result); err != nil {
		return fmt.Errorf("account %s %s: %w", method, path, err)
	}
	return nil
}

// Claims decodes a JWT's payload without checking its signature: the tests got it from the
// server they talk to.
func Claims(jwt string) (map[string]any, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(b, &claims); err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	return claims, nil
}
