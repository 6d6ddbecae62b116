package keycloak

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/model"
)

// This file holds what `roster doctor` asks the server beyond what plan and apply read: whether it
// answers at all, its version and clock, and which realm-management roles the credentials hold.

// Ping sends GET /realms/{login realm} without logging in, to learn whether the server answers
// at all: any HTTP answer will do. It fails only when none comes (a *ConnError).
func (c *Client) Ping(ctx context.Context) error {
	_, _, err := c.exchange(ctx, http.MethodGet, c.baseURL()+"/realms/"+url.PathEscape(c.cfg.AuthRealm), nil, nil)
	if err != nil {
		return c.unreachable(ctx, "reach "+c.cfg.URL, err)
	}
	return nil
}

// ClockReading is a time the server stated, against this machine's clock before the request was
// sent and after the answer arrived.
type ClockReading struct {
	// Server is the server's time, truncated to the second; zero when it could not be read.
	Server time.Time
	// Sent and Received are this machine's clock around the request.
	Sent, Received time.Time
}

// Login logs in afresh and reads the server's clock off the new access token's issue time (iat):
// Keycloak sends no Date header, and the token is the one answer every login gets. A refusal
// or an unreachable server is a *ConnError.
func (c *Client) Login(ctx context.Context) (ClockReading, error) {
	c.mu.Lock()
	c.token = ""
	c.mu.Unlock()
	r := ClockReading{Sent: time.Now()}
	token, err := c.accessToken(ctx)
	r.Received = time.Now()
	if err != nil {
		return r, err
	}
	if iat, ok := issuedAt(token); ok {
		r.Server = time.Unix(iat, 0)
	}
	return r, nil
}

// issuedAt reads the iat claim of a JWT without verifying it: the token came straight from the
// server over the connection roster trusts.
func issuedAt(token string) (int64, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return 0, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return 0, false
	}
	var claims struct {
		IssuedAt int64 `json:"iat"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.IssuedAt == 0 {
		return 0, false
	}
	return claims.IssuedAt, true
}

// ServerVersion returns the server's Keycloak version from GET /admin/serverinfo, or "" when the
// server does not show it to these credentials: Keycloak 26 answers serverinfo to anyone holding
// a realm-management role, but includes the version only for manage-realm and master
// administrators.
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return "", err
	}
	var info struct {
		SystemInfo struct {
			Version string `json:"version"`
		} `json:"systemInfo"`
	}
	const path = "/admin/serverinfo"
	resp, sent, err := c.exchange(ctx, http.MethodGet, c.baseURL()+path, http.Header{"Authorization": {"Bearer " + token}}, nil)
	if err != nil {
		return "", c.transportError(ctx, http.MethodGet, path, err, sent)
	}
	if resp.status >= http.StatusBadRequest {
		return "", c.apiError(http.MethodGet, path, resp)
	}
	if err := json.Unmarshal(resp.body, &info); err != nil {
		return "", &AnswerError{Method: http.MethodGet, Path: path, Status: resp.status, ContentType: resp.contentType(), Server: c.cfg.URL, Err: err}
	}
	return info.SystemInfo.Version, nil
}

// Principal says whom the client logs in as.
type Principal struct {
	// AuthRealm is the realm logged in to.
	AuthRealm string
	// ClientID is the service account's client, "" for an administrator.
	ClientID string
	// Username is the administrator's username, "" for a service account.
	Username string
}

// Principal returns whom the client logs in as.
func (c *Client) Principal() Principal {
	if c.cfg.ClientSecret != "" {
		return Principal{AuthRealm: c.cfg.AuthRealm, ClientID: c.cfg.ClientID}
	}
	return Principal{AuthRealm: c.cfg.AuthRealm, Username: c.cfg.Username}
}

// String is `client "roster"` or `user "admin"`.
func (p Principal) String() string {
	if p.ClientID != "" {
		return fmt.Sprintf("client %q", p.ClientID)
	}
	return fmt.Sprintf("user %q", p.Username)
}

// Permission is a client role of the realm's realm-management client (in the master realm, of
// the client named {realm}-realm), which the Admin API checks before it answers.
type Permission string

// The permissions roster uses. Each manage-* role includes its view-* role.
const (
	ViewUsers               Permission = "view-users"
	ManageUsers             Permission = "manage-users"
	ViewRealm               Permission = "view-realm"
	ManageRealm             Permission = "manage-realm"
	ViewClients             Permission = "view-clients"
	ManageClients           Permission = "manage-clients"
	ViewIdentityProviders   Permission = "view-identity-providers"
	ManageIdentityProviders Permission = "manage-identity-providers"
)

// ViewPermissions are the view roles roster uses: all a plan needs. Each call returns a new slice.
func ViewPermissions() []Permission {
	return []Permission{ViewUsers, ViewRealm, ViewClients, ViewIdentityProviders}
}

// ManagePermissions are the manage roles roster uses, which let it write: what apply needs beyond
// ViewPermissions. Each call returns a new slice.
func ManagePermissions() []Permission {
	return []Permission{ManageUsers, ManageRealm, ManageClients, ManageIdentityProviders}
}

// noSuchID is a user and mapper id no Keycloak generates (it issues random UUIDs).
const noSuchID = "00000000-0000-0000-0000-000000000000"

// noSuchAlias is an identity-provider alias no provider can have (Keycloak refuses white space in
// aliases), for the probe of manage-identity-providers.
const noSuchAlias = "roster doctor probe"

// ProbeRequest names the request Probe sends for p, for messages.
func ProbeRequest(p Permission) string {
	switch p {
	case ViewUsers:
		return "GET /attack-detection/brute-force/users/{id}"
	case ManageUsers:
		return "POST /users"
	case ViewRealm:
		return "GET /roles/admin"
	case ManageRealm:
		return "POST /roles"
	case ViewClients:
		return "GET /client-scopes"
	case ManageClients:
		return "GET /client-scopes or PUT /client-scopes/{id}/protocol-mappers/models/{id}"
	case ViewIdentityProviders:
		return "GET /identity-provider/instances"
	case ManageIdentityProviders:
		return "PUT /identity-provider/instances/{alias}"
	}
	return ""
}

// Probe reports whether the credentials hold p, by a request that needs p and changes nothing:
// Keycloak checks the role before it looks at the request, so an answer of 403 means the role is
// missing, and the 400 or 404 a request meant to be refused gets means it is held. Reads are
// chosen so that the weaker query-* roles do not pass: with query-users alone Keycloak lists
// no users at all, and with query-clients no client scopes, without any error.
func (c *Client) Probe(ctx context.Context, p Permission) (bool, error) {
	switch p {
	case ViewUsers:
		// Answers a blank status for a user that does not exist, but only to view-users.
		return held(c.do(ctx, http.MethodGet, "/attack-detection/brute-force/users/"+noSuchID, nil, nil))
	case ManageUsers:
		return held(c.do(ctx, http.MethodPost, "/users", struct{}{}, nil)) // 400: no username
	case ViewRealm:
		return held(c.do(ctx, http.MethodGet, "/roles/"+url.PathEscape(c.cfg.CodeMie.RoleName(model.RoleAdmin)), nil, nil)) // 404 when absent
	case ManageRealm:
		return held(c.do(ctx, http.MethodPost, "/roles", struct{}{}, nil)) // 400: no name
	case ViewClients, ManageClients:
		var scopes []struct {
			ID string `json:"id"`
		}
		ok, err := held(c.do(ctx, http.MethodGet, "/client-scopes", nil, &scopes))
		if !ok || len(scopes) == 0 { // every realm has built-in client scopes
			return false, err
		}
		if p == ViewClients {
			return true, nil
		}
		return held(c.do(ctx, http.MethodPut, "/client-scopes/"+url.PathEscape(scopes[0].ID)+
			"/protocol-mappers/models/"+noSuchID, struct{}{}, nil)) // 404: no such mapper
	case ViewIdentityProviders:
		return held(c.do(ctx, http.MethodGet, "/identity-provider/instances", nil, nil))
	case ManageIdentityProviders:
		return held(c.do(ctx, http.MethodPut, "/identity-provider/instances/"+url.PathEscape(noSuchAlias), struct{}{}, nil)) // 404
	}
	return false, fmt.Errorf("no probe for permission %q", p)
}

// held interprets a probe's answer: success, or the refusal the probe was built to get (400,
// 404), means the role is held; 403 that it is not; anything else is an error.
func held(_ *answer, err error) (bool, error) {
	switch statusOf(err) {
	case 0:
		return err == nil, err
	case http.StatusForbidden:
		return false, nil
	case http.StatusBadRequest, http.StatusNotFound:
		return true, nil
	}
	return false, err
}

// ReadUserProfile reads the realm's user-profile configuration.
func (c *Client) ReadUserProfile(ctx context.Context) (model.UserProfile, error) {
	var rep struct {
		Policy     string `json:"unmanagedAttributePolicy"`
		Attributes []struct {
			Name        string `json:"name"`
			Permissions struct {
				View []string `json:"view"`
				Edit []string `json:"edit"`
			} `json:"permissions"`
		} `json:"attributes"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/users/profile", nil, &rep); err != nil {
		return model.UserProfile{}, err
	}
	up := model.UserProfile{Policy: model.Policy(rep.Policy), Attributes: make(map[string]model.ProfileAttribute, len(rep.Attributes))}
	if up.Policy == "" {
		up.Policy = model.PolicyDisabled
	}
	for _, a := range rep.Attributes {
		up.Attributes[a.Name] = model.ProfileAttribute{View: a.Permissions.View, Edit: a.Permissions.Edit}
	}
	return up, nil
}

// ReadRoles reads the realm roles, sorted by name.
func (c *Client) ReadRoles(ctx context.Context) ([]model.RealmRole, error) { return c.readRoles(ctx) }

func (c *Client) baseURL() string { return strings.TrimRight(c.cfg.URL, "/") }

// URL returns the server's base URL as configured.
func (c *Client) URL() string { return c.cfg.URL }

// RealmExists reports whether the managed realm exists (GET /admin/realms/{realm}, which any
// realm-management role may read).
func (c *Client) RealmExists(ctx context.Context) (bool, error) {
	_, err := c.do(ctx, http.MethodGet, "", nil, nil)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}
