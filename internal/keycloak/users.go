package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"

	"github.com/rosterhq/roster/internal/model"
)

// userCreate is the representation roster sends to create a user.
type userCreate struct {
	Username        string              `json:"username"`
	Email           string              `json:"email,omitempty"`
	FirstName       string              `json:"firstName,omitempty"`
	LastName        string              `json:"lastName,omitempty"`
	Enabled         bool                `json:"enabled"`
	Attributes      map[string][]string `json:"attributes,omitempty"`
	RequiredActions []string            `json:"requiredActions,omitempty"`
	Credentials     []credential        `json:"credentials,omitempty"`
}

type credential struct {
	Type      string `json:"type"`
	Value     string `json:"value"`
	Temporary bool   `json:"temporary"`
}

// CreateUser creates a user, with its initial password if any, and returns its id, taken from
// the Location header of the answer.
func (c *Client) CreateUser(ctx context.Context, u model.NewUser) (string, error) {
	rep := userCreate{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Enabled: u.Enabled, Attributes: u.Attributes, RequiredActions: u.RequiredActions}
	if p := u.InitialPassword; p != nil {
		rep.Credentials = []credential{{Type: "password", Value: string(p.Value), Temporary: p.Temporary}}
	}
	resp, err := c.do(ctx, http.MethodPost, "/users", rep, nil)
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

// SendActionsEmail asks Keycloak to email the user a link to perform the required actions
// (execute-actions-email): the invitation to set a password and verify the address.
func (c *Client) SendActionsEmail(ctx context.Context, id string, actions []string) error {
	_, err := c.do(ctx, http.MethodPut, "/users/"+url.PathEscape(id)+"/execute-actions-email", actions, nil)
	return err
}

// DeleteUser deletes the user with the given id.
func (c *Client) DeleteUser(ctx context.Context, id string) error {
	_, err := c.do(ctx, http.MethodDelete, "/users/"+url.PathEscape(id), nil, nil)
	return err
}
