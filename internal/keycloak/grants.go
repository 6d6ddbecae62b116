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
// puts the role into the tokens of everyone it reaches, and roster, which reads the users a role
// is mapped to, does not count them.
type IndirectGrant struct {
	// Role is the realm role granted.
	Role string
	// Via says how: `group "/devs"`, `composite role "power-users"`, or the realm's default roles.
	Via string
}

// IndirectGrants is what ReadIndirectGrants found: the grants, and what it could not read (each
// a sentence), so that a check of them passes only on a complete read.
type IndirectGrants struct {
	Grants []IndirectGrant
	Unread []string
}

// Limits of ReadIndirectGrants: a CodeMie realm has its default roles and a few composite roles
// of its own, each taking in a handful of roles.
const (
	// maxComposites is the most composite realm roles whose composites are read.
	maxComposites = 100
	// maxCompositeLinks is the most composite-to-child links kept over all of them.
	maxCompositeLinks = 10_000
	// maxGroupsNamed is the most groups named for one role.
	maxGroupsNamed = 10
)

// ReadIndirectGrants finds the ways the realm grants the realm roles named by roles other than
// by mapping them to users: the realm's default roles and the composite realm roles that take
// one in (followed to any depth), and the groups that hold one of those or the role itself
// (their subgroups inherit it). Roles that do not exist are left out; composite client roles are
// not read. It costs a request for the realm, one for its roles, one per composite role (up to
// maxComposites) and one per role found, for its groups.
func (c *Client) ReadIndirectGrants(ctx context.Context, roles []string) (IndirectGrants, error) {
	var found IndirectGrants
	var realm struct {
		DefaultRole struct {
			Name string `json:"name"`
		} `json:"defaultRole"`
	}
	if _, err := c.do(ctx, http.MethodGet, "", nil, &realm); err != nil {
		return found, err
	}
	if realm.DefaultRole.Name == "" {
		found.Unread = append(found.Unread, "Keycloak did not name the realm's default role")
	}
	all, err := c.listRoles(ctx)
	if err != nil {
		return found, err
	}
	// parents: the composite realm roles that take each realm role in directly.
	parents := map[string][]string{}
	read, links := 0, 0
	for _, r := range all {
		if !r.Composite {
			continue
		}
		if read == maxComposites || links == maxCompositeLinks {
			found.Unread = append(found.Unread, fmt.Sprintf("the composites of the realm's composite roles past the first %d", read))
			break
		}
		var kids []roleRep
		if _, err := c.do(ctx, http.MethodGet, "/roles-by-id/"+url.PathEscape(r.ID)+"/composites/realm", nil, &kids); err != nil {
			return found, err
		}
		read++
		keep := min(len(kids), maxCompositeLinks-links)
		if keep < len(kids) {
			found.Unread = append(found.Unread, fmt.Sprintf("the composites of role %q past the first %d links of all composite roles", r.Name, maxCompositeLinks))
		}
		for _, k := range kids[:keep] {
			parents[k.Name] = append(parents[k.Name], r.Name)
		}
		links += keep
	}
	for _, role := range roles {
		if !slices.ContainsFunc(all, func(r roleRep) bool { return r.Name == role }) {
			continue // a role that does not exist is granted no way
		}
		// holders: the role and the composite roles that take it in, at any depth.
		holders := []string{role}
		for i := 0; i < len(holders); i++ {
			for _, p := range parents[holders[i]] {
				if !slices.Contains(holders, p) {
					holders = append(holders, p)
				}
			}
		}
		slices.Sort(holders[1:])
		for _, h := range holders {
			switch {
			case h == role:
			case h == realm.DefaultRole.Name:
				found.Grants = append(found.Grants, IndirectGrant{Role: role,
					Via: "the realm's default roles, which new users get and most existing users hold"})
				continue // nearly every user: its groups add nothing
			default:
				found.Grants = append(found.Grants, IndirectGrant{Role: role, Via: fmt.Sprintf("composite role %q", h)})
			}
			groups, more, err := c.roleGroups(ctx, h)
			switch {
			case IsNotFound(err):
				// A name Keycloak cannot route (a slash, a semicolon), or a role deleted meanwhile.
				found.Unread = append(found.Unread, fmt.Sprintf("the groups of role %q", h))
				continue
			case err != nil:
				return found, err
			}
			through := ""
			if h != role {
				through = fmt.Sprintf(" (through composite role %q)", h)
			}
			for _, g := range groups {
				found.Grants = append(found.Grants, IndirectGrant{Role: role, Via: fmt.Sprintf("group %q%s", g, through)})
			}
			if more {
				found.Grants = append(found.Grants, IndirectGrant{Role: role, Via: fmt.Sprintf("more groups than the %d named%s", maxGroupsNamed, through)})
			}
		}
	}
	return found, nil
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
