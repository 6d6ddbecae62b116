package keycloak

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
)

// IndirectGrant is a way the realm grants a realm role other than by mapping it to a user: Keycloak
// puts the role into the tokens of everyone it reaches, and roster, which reads the direct
// holders only, does not count them.
type IndirectGrant struct {
	// Role is the realm role granted.
	Role string
	// Via says how: `group "/devs"`, `composite role "power-users"`, or the realm's default roles.
	Via string
}

// maxComposites is the most composite realm roles ReadIndirectGrants reads the composites of; a
// CodeMie realm has its default roles and a few of its own.
const maxComposites = 100

// maxGroupsNamed is the most groups ReadIndirectGrants names for one role.
const maxGroupsNamed = 10

// ReadIndirectGrants finds the ways the realm grants the realm roles named by roles other than
// directly: the realm's default roles and the composite realm roles that take one in
// (composites followed to any depth), and the groups that hold one of those or the role itself
// (their subgroups inherit it). Roles that do not exist are left out; composite client roles are
// not read. It costs a request for the
// realm, one for its roles, one per composite role (up to maxComposites) and one per role found
// for its groups.
func (c *Client) ReadIndirectGrants(ctx context.Context, roles []string) ([]IndirectGrant, error) {
	var realm struct {
		DefaultRole struct {
			Name string `json:"name"`
		} `json:"defaultRole"`
	}
	if _, err := c.do(ctx, http.MethodGet, "", nil, &realm); err != nil {
		return nil, err
	}
	type roleRep struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Composite bool   `json:"composite"`
	}
	all, err := pages(ctx, c, "/roles", url.Values{"briefRepresentation": {"false"}}, rolePageSize,
		func(r roleRep) string { return r.Name }, uncounted)
	if err != nil {
		return nil, err
	}
	// children: the realm roles each composite realm role takes in directly.
	children := map[string][]string{}
	var composites []roleRep
	for _, r := range all {
		if r.Composite {
			composites = append(composites, r)
		}
	}
	if len(composites) > maxComposites {
		return nil, fmt.Errorf("realm %q has %d composite realm roles, more than roster follows (%d)", c.cfg.Realm, len(composites), maxComposites)
	}
	for _, r := range composites {
		var kids []roleRep
		if _, err := c.do(ctx, http.MethodGet, "/roles-by-id/"+url.PathEscape(r.ID)+"/composites/realm", nil, &kids); err != nil {
			return nil, err
		}
		for _, k := range kids {
			children[r.Name] = append(children[r.Name], k.Name)
		}
	}
	var grants []IndirectGrant
	for _, role := range roles {
		if !slices.ContainsFunc(all, func(r roleRep) bool { return r.Name == role }) {
			continue // a role that does not exist is granted no way
		}
		// holders: the role and the composite roles that take it in, at any depth.
		holders := []string{role}
		for i := 0; i < len(holders); i++ {
			for parent, kids := range children {
				if slices.Contains(kids, holders[i]) && !slices.Contains(holders, parent) {
					holders = append(holders, parent)
				}
			}
		}
		slices.Sort(holders[1:])
		for _, h := range holders {
			switch {
			case h == role:
			case h == realm.DefaultRole.Name:
				grants = append(grants, IndirectGrant{Role: role, Via: "the realm's default roles, which every user Keycloak creates holds"})
				continue // every user: its groups add nothing
			default:
				grants = append(grants, IndirectGrant{Role: role, Via: fmt.Sprintf("composite role %q", h)})
			}
			groups, more, err := c.roleGroups(ctx, h)
			if err != nil {
				return nil, err
			}
			through := ""
			if h != role {
				through = fmt.Sprintf(" (through composite role %q)", h)
			}
			for _, g := range groups {
				grants = append(grants, IndirectGrant{Role: role, Via: fmt.Sprintf("group %q%s", g, through)})
			}
			if more {
				grants = append(grants, IndirectGrant{Role: role, Via: fmt.Sprintf("more groups than the %d named%s", maxGroupsNamed, through)})
			}
		}
	}
	return grants, nil
}

// roleGroups returns the paths of the groups that hold the realm role directly, up to
// maxGroupsNamed, and whether there are more.
func (c *Client) roleGroups(ctx context.Context, role string) ([]string, bool, error) {
	var groups []struct {
		Path string `json:"path"`
		Name string `json:"name"`
	}
	q := url.Values{"first": {"0"}, "max": {fmt.Sprint(maxGroupsNamed + 1)}, "briefRepresentation": {"true"}}
	if _, err := c.do(ctx, http.MethodGet, "/roles/"+url.PathEscape(role)+"/groups?"+q.Encode(), nil, &groups); err != nil {
		return nil, false, err
	}
	var out []string
	for _, g := range groups[:min(len(groups), maxGroupsNamed)] {
		out = append(out, cmp.Or(g.Path, g.Name))
	}
	return out, len(groups) > maxGroupsNamed, nil
}
