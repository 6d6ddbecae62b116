package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
)

// NewUser is the representation roster sends to create a user.
type NewUser struct {
	Username        string              `json:"username"`
	Email           string              `json:"email,omitempty"`
	FirstName       string              `json:"firstName,omitempty"`
	LastName        string              `json:"lastName,omitempty"`
	Enabled         bool                `json:"enabled"`
	Attributes      map[string][]string `json:"attributes,omitempty"`
	RequiredActions []string            `json:"requiredActions,omitempty"`
	// Credentials holds the initial password, if any; Keycloak sets it with the user in one request.
	Credentials []Credential `json:"credentials,omitempty"`
}

// Credential is a password credential.
type Credential struct {
	Type  string `json:"type"` // always "password"
	Value Secret `json:"value"`
	// Temporary makes Keycloak ask for a new password at first sign-in.
	Temporary bool `json:"temporary"`
}

// Secret is a string that prints as (sensitive) so that it cannot leak into logs or errors by
// formatting; it marshals to JSON as itself.
type Secret string

// String hides the value.
func (Secret) String() string { return "(sensitive)" }

// GoString hides the value from %#v too.
func (Secret) GoString() string { return "(sensitive)" }

// CreateUser creates a user and returns its id, taken from the Location header of the answer.
func (c *Client) CreateUser(ctx context.Context, u NewUser) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, "/users", u, nil)
	if err != nil {
		return "", err
	}
	loc := resp.Header().Get("Location")
	if loc == "" {
		return "", fmt.Errorf("created user %q but the server's answer has no Location header naming its id", u.Username)
	}
	id, err := url.PathUnescape(path.Base(loc))
	if err != nil || id == "" {
		return "", fmt.Errorf("created user %q but cannot read its id from Location %q", u.Username, loc)
	}
	return id, nil
}

// DeleteUser deletes the user with the given id.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/users/"+url.PathEscape(id), nil, nil)
	return err
}
