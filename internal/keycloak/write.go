package keycloak

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/rosterhq/roster/internal/model"
)

// SetPolicy sets the realm's unmanaged-attribute policy. It reads the whole user-profile
// configuration, changes only the policy and writes the whole configuration back, since Keycloak
// replaces it on PUT. Keycloak has no DISABLED value: disabling removes the field.
func (c *Client) SetPolicy(ctx context.Context, p model.Policy) error {
	var up map[string]json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, "/users/profile", nil, &up); err != nil {
		return err
	}
	if p == model.PolicyDisabled {
		delete(up, "unmanagedAttributePolicy")
	} else {
		up["unmanagedAttributePolicy"] = mustJSON(string(p))
	}
	_, err := c.do(ctx, http.MethodPut, "/users/profile", up, nil)
	return err
}

// CreateRole creates a realm role. A role that already exists (409) counts as created: another
// run may have made it since the plan.
func (c *Client) CreateRole(ctx context.Context, r model.RealmRole) error {
	_, err := c.do(ctx, http.MethodPost, "/roles", map[string]string{"name": r.Name, "description": r.Description}, nil)
	if IsConflict(err) {
		return nil
	}
	return err
}

// UpdateRoleDescription sets a realm role's description, keeping the rest of the role.
func (c *Client) UpdateRoleDescription(ctx context.Context, name, description string) error {
	path := "/roles/" + url.PathEscape(name)
	var rep map[string]json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, path, nil, &rep); err != nil {
		return err
	}
	rep["description"] = mustJSON(description)
	_, err := c.do(ctx, http.MethodPut, path, rep, nil)
	return err
}

// FindUser looks a user up by exact username; ok is false when there is none.
func (c *Client) FindUser(ctx context.Context, username string) (u model.LiveUser, ok bool, err error) {
	return c.findUser(ctx, url.Values{"username": {username}, "briefRepresentation": {"false"}},
		func(lu model.LiveUser) bool { return lu.Username == strings.ToLower(username) })
}

// FindUserByEmail looks a user up by exact email; ok is false when there is none.
func (c *Client) FindUserByEmail(ctx context.Context, email string) (u model.LiveUser, ok bool, err error) {
	return c.findUser(ctx, url.Values{"email": {email}, "briefRepresentation": {"true"}},
		func(lu model.LiveUser) bool { return lu.Email == strings.ToLower(email) })
}

// findUser searches the users with the exact filter q and returns the first that is the one.
func (c *Client) findUser(ctx context.Context, q url.Values, is func(model.LiveUser) bool) (u model.LiveUser, ok bool, err error) {
	q.Set("exact", "true")
	var reps []userRep
	if _, err := c.do(ctx, http.MethodGet, "/users?"+q.Encode(), nil, &reps); err != nil {
		return u, false, err
	}
	for _, r := range reps {
		if lu := r.model(); is(lu) {
			return lu, true, nil
		}
	}
	return u, false, nil
}

// UpdateUser changes the listed fields. Keycloak's PUT replaces the user's root fields (some
// versions clear those left out), so it reads the user immediately before writing, changes only
// those fields in the representation as read — unknown fields included — and sends it back.
// Attributes are sent only when the patch changes some: a PUT with them replaces the whole set,
// while one without them keeps the attributes as they are when the write lands, so an edit made
// meanwhile to an attribute roster does not manage survives.
func (c *Client) UpdateUser(ctx context.Context, id string, upd model.UserPatch) error {
	path := "/users/" + url.PathEscape(id)
	var rep map[string]json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, path, nil, &rep); err != nil {
		return err
	}
	set := func(key string, v any) { rep[key] = mustJSON(v) }
	if upd.Username != nil {
		set("username", *upd.Username)
	}
	if upd.Email != nil {
		set("email", *upd.Email)
	}
	if upd.FirstName != nil {
		set("firstName", *upd.FirstName)
	}
	if upd.LastName != nil {
		set("lastName", *upd.LastName)
	}
	if upd.Enabled != nil {
		set("enabled", *upd.Enabled)
	}
	if upd.RequiredActions != nil {
		set("requiredActions", *upd.RequiredActions)
	}
	if len(upd.Attributes) == 0 {
		delete(rep, "attributes")
	} else {
		attrs := map[string][]string{}
		if raw, ok := rep["attributes"]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &attrs); err != nil {
				return fmt.Errorf("GET %s: attributes are not a map of string lists: %w", path, err)
			}
		}
		for k, v := range upd.Attributes {
			if len(v) == 0 {
				delete(attrs, k)
			} else {
				attrs[k] = v
			}
		}
		set("attributes", attrs)
	}
	_, err := c.do(ctx, http.MethodPut, path, rep, nil)
	return err
}

// roleRef is a realm role as role-mapping requests need it: Keycloak insists on both id and name.
type roleRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// roleRefs caches the id of each realm role roster maps.
type roleRefs struct {
	mu  sync.Mutex
	ids map[model.Role]string
}

func (c *Client) roleRef(ctx context.Context, r model.Role) (roleRef, error) {
	c.roles.mu.Lock()
	defer c.roles.mu.Unlock()
	if id, ok := c.roles.ids[r]; ok {
		return roleRef{ID: id, Name: c.cfg.CodeMie.RoleName(r)}, nil
	}
	var ref roleRef
	if _, err := c.do(ctx, http.MethodGet, "/roles/"+url.PathEscape(c.cfg.CodeMie.RoleName(r)), nil, &ref); err != nil {
		return ref, err
	}
	if c.roles.ids == nil {
		c.roles.ids = make(map[model.Role]string)
	}
	c.roles.ids[r] = ref.ID
	return ref, nil
}

// MapRoles adds and removes direct realm-role mappings of a user. Both requests are idempotent in
// Keycloak (mapping a mapped role or unmapping an unmapped one changes nothing), so they are
// retried like reads.
func (c *Client) MapRoles(ctx context.Context, userID string, add, remove []model.Role) error {
	path := "/users/" + url.PathEscape(userID) + "/role-mappings/realm"
	for _, batch := range []struct {
		method string
		roles  []model.Role
	}{{http.MethodPost, add}, {http.MethodDelete, remove}} {
		if len(batch.roles) == 0 {
			continue // an empty DELETE body would remove every direct realm role
		}
		refs := make([]roleRef, 0, len(batch.roles))
		for _, r := range batch.roles {
			ref, err := c.roleRef(ctx, r)
			if err != nil {
				return err
			}
			refs = append(refs, ref)
		}
		if _, err := c.send(ctx, batch.method, path, refs, nil, true); err != nil {
			return err
		}
	}
	return nil
}

// LinkIdentity links a user to an identity-provider account. An existing link to the same
// provider (409) is an error: roster does not replace links it did not make.
func (c *Client) LinkIdentity(ctx context.Context, userID string, link model.FederatedIdentity) error {
	path := "/users/" + url.PathEscape(userID) + "/federated-identity/" + url.PathEscape(link.Provider)
	_, err := c.do(ctx, http.MethodPost, path, map[string]string{
		"identityProvider": link.Provider, "userId": link.UserID, "userName": link.UserName,
	}, nil)
	return err
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("keycloak: %T does not marshal: %v", v, err)) // only plain values reach here
	}
	return b
}
