package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sync"

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
	resp, err := c.postUser(ctx, rep)
	if err != nil {
		return "", err
	}
	loc := resp.header.Get("Location")
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

// userImport is a user as the partial-import endpoint takes it: what a create sends, plus the
// realm roles and groups to give it, which a create through POST /users cannot carry.
type userImport struct {
	userCreate
	RealmRoles []string `json:"realmRoles,omitempty"`
	Groups     []string `json:"groups,omitempty"`
}

// importResult is the partial-import endpoint's account of what it did.
type importResult struct {
	Results []struct {
		Action       string `json:"action"`
		ResourceType string `json:"resourceType"`
		ResourceName string `json:"resourceName"`
		ID           string `json:"id"`
	} `json:"results"`
}

// ImportUsers creates the users in one request through Keycloak's partial import, each with its
// roles, and returns the ids of those it created, by username. A user whose username exists
// already is skipped and left out of the answer.
//
// A user created through POST /users gets the realm's default roles and default groups; an
// imported one gets only what the request names, so ImportUsers names them. Partial import
// runs Keycloak's checks for existing usernames and emails but not the user profile's
// validators, and it sets no password: users with an initial password must go through
// CreateUser. The import is one transaction: when it fails, no user was created, unless the
// answer was lost after Keycloak committed. Like CreateUser, it is never retried.
func (c *Client) ImportUsers(ctx context.Context, users []model.UserImport) (map[string]string, error) {
	d, err := c.creationDefaults(ctx)
	if err != nil {
		return nil, err
	}
	reps := make([]userImport, len(users))
	for i, ui := range users {
		u := ui.User
		if u.InitialPassword != nil {
			return nil, fmt.Errorf("user %q has an initial password, which a batch create cannot set", u.Username)
		}
		roles := slices.Clone(d.roles)
		for _, r := range ui.Roles {
			roles = append(roles, c.cfg.CodeMie.RoleName(r))
		}
		reps[i] = userImport{
			userCreate: userCreate{Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
				Enabled: u.Enabled, Attributes: u.Attributes, RequiredActions: u.RequiredActions},
			RealmRoles: roles,
			Groups:     d.groups,
		}
	}
	var res importResult
	body := map[string]any{"ifResourceExists": "SKIP", "users": reps}
	if _, err := c.do(ctx, http.MethodPost, "/partialImport", body, &res); err != nil {
		return nil, err
	}
	ids := make(map[string]string, len(users))
	for _, r := range res.Results {
		if r.ResourceType == "USER" && r.Action == "ADDED" {
			ids[r.ResourceName] = r.ID
		}
	}
	return ids, nil
}

// creationDefaults caches what Keycloak gives every user created through POST /users: the
// realm's default role (a composite of the default realm and client roles) and default groups.
type creationDefaults struct {
	mu     sync.Mutex
	read   bool
	roles  []string
	groups []string // paths
}

func (c *Client) creationDefaults(ctx context.Context) (*creationDefaults, error) {
	d := &c.defaults
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.read {
		return d, nil
	}
	var realm struct {
		DefaultRole *struct {
			Name string `json:"name"`
		} `json:"defaultRole"`
	}
	if _, err := c.do(ctx, http.MethodGet, "", nil, &realm); err != nil {
		return nil, err
	}
	var groups []struct {
		Path string `json:"path"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/default-groups", nil, &groups); err != nil {
		return nil, err
	}
	d.roles, d.groups = nil, nil
	if realm.DefaultRole != nil && realm.DefaultRole.Name != "" {
		d.roles = []string{realm.DefaultRole.Name}
	}
	for _, g := range groups {
		d.groups = append(d.groups, g.Path)
	}
	d.read = true
	return d, nil
}
