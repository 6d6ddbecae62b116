package keycloak

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// This file is roster's OAuth 2 client: the two grants it logs in with, against Keycloak's token
// endpoint, and nothing else.

// tokens is the token endpoint's answer.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	IDToken      string `json:"id_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// loginRefusal is the token endpoint's error answer.
type loginRefusal struct {
	status int
	// message is the status line, then the OAuth error and Keycloak's description when the
	// answer carries them: "401 Unauthorized: unauthorized_client: Invalid client or Invalid
	// client credentials".
	message string
}

func (e *loginRefusal) Error() string { return e.message }

// tokenPath is the token endpoint of the login realm, below the server's base URL.
func (c *Client) tokenPath() string {
	return "/realms/" + url.PathEscape(c.cfg.AuthRealm) + "/protocol/openid-connect/token"
}

// login asks the token endpoint for an access token with the configured credentials: the
// client-credentials grant for a service account, the password grant for an administrator.
func (c *Client) login(ctx context.Context) (*tokens, error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {c.cfg.ClientID},
		"username": {c.cfg.Username}, "password": {c.cfg.Password}}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Accept": {"application/json"}}
	if c.cfg.ClientSecret != "" {
		form = url.Values{"grant_type": {"client_credentials"}}
		// OAuth 2 form-encodes the id and secret before Basic auth (RFC 6749, section 2.3.1),
		// so that a secret with ':', '%', '+' or '&' reaches Keycloak intact.
		pair := url.QueryEscape(c.cfg.ClientID) + ":" + url.QueryEscape(c.cfg.ClientSecret)
		header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(pair)))
	}
	path := c.tokenPath()
	a, _, err := c.exchange(ctx, http.MethodPost, c.baseURL()+path, header, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	if a.status >= http.StatusBadRequest {
		return nil, &loginRefusal{status: a.status, message: a.statusLine + oauthError(a.body)}
	}
	var t tokens
	if err := json.Unmarshal(a.body, &t); err != nil {
		return nil, &AnswerError{Method: http.MethodPost, Path: path, Status: a.status, ContentType: a.contentType(), Server: c.cfg.URL, Err: err}
	}
	return &t, nil
}

// oauthError is ": " and the error, errorMessage and error_description of an error answer,
// joined by ": ", or "" when the body carries none of them.
func oauthError(body []byte) string {
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	var s strings.Builder
	for _, part := range []string{b.Error, b.ErrorMessage, b.ErrorDescription} {
		if part != "" {
			s.WriteString(": " + part)
		}
	}
	return s.String()
}
