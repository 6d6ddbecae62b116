package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/rosterhq/roster/internal/model"
)

// Page sizes for the listings. Users come with their attributes (full representation), so their
// pages are kept moderate; role members are brief on 26+ and cheap.
const (
	userPageSize   = 500
	memberPageSize = 1000
	rolePageSize   = 500
)

// ReadOptions tune ReadLive.
type ReadOptions struct {
	// LinksFor reports whether to read the identity-provider links of a user (one request per
	// user, so only for users whose configuration declares links). Nil reads none.
	LinksFor func(username string) bool
	// ClientScope, when not empty, is the client scope whose token mappers to read (one request).
	ClientScope string
	// IdentityProviders reads the identity providers and their mappers (one request plus one
	// per provider).
	IdentityProviders bool
	// CodeMie is settings.codemie of the configuration; the caller logs in with it in
	// Config.CodeMie, so that reads and writes use the same role names and client.
	CodeMie model.CodeMie
}

// ReadOptionsFor reads what cfg manages: the links of users that declare some, and the token
// mappers and identity providers only when cfg declares them, so that reading for a
// configuration of users alone costs no more requests.
func ReadOptionsFor(cfg *model.Config) ReadOptions {
	want := make(map[string]bool)
	for _, u := range cfg.Users {
		if len(u.FederatedIdentities) > 0 {
			want[u.Username] = true
		}
	}
	ro := ReadOptions{LinksFor: func(username string) bool { return want[username] },
		IdentityProviders: len(cfg.IdentityProviders) > 0, CodeMie: cfg.Settings.CodeMie}
	if cfg.TokenMappers != nil {
		ro.ClientScope = cfg.TokenMappers.ClientScope
	}
	return ro
}

// ReadLive reads everything roster manages in the realm. Its cost does not grow with one request
// per user: it pages through the users and through the direct members of each owned realm role,
// and reads the user profile, the realm roles and CodeMie's client with the mappers that reach it
// once. For N users with R holders of the owned roles that is ⌈N/500⌉ + ⌈R/1000⌉ + 7 requests or
// so (plus one per user whose links are asked for, and the prerequisites ReadOptions asks for).
// The listings run concurrently.
func (c *Client) ReadLive(ctx context.Context, opts ReadOptions) (*model.Live, error) {
	live := &model.Live{Realm: c.cfg.Realm, Identity: c.Identity(), CodeMie: c.cfg.CodeMie}
	var (
		users   []userRep
		members = make(map[model.Role][]string, len(model.OwnedRoles))
		mu      sync.Mutex
		wg      sync.WaitGroup
		errs    = make([]error, 6+len(model.OwnedRoles))
	)
	run := func(i int, f func() error) {
		wg.Go(func() { errs[i] = f() })
	}
	run(0, func() (err error) { live.Policy, err = c.readPolicy(ctx); return err })
	run(1, func() (err error) { live.Roles, err = c.readRoles(ctx); return err })
	run(2, func() (err error) { users, err = c.readUsers(ctx); return err })
	if opts.ClientScope != "" {
		run(3, func() (err error) { live.ClientScope, err = c.ReadClientScope(ctx, opts.ClientScope); return err })
	}
	if opts.IdentityProviders {
		run(4, func() (err error) { live.IdentityProviders, err = c.ReadIdentityProviders(ctx); return err })
	}
	run(5, func() (err error) {
		live.Client, live.ClientUnread, err = c.ReadCodeMieClient(ctx)
		return err
	})
	for i, role := range model.OwnedRoles {
		run(6+i, func() error {
			ids, err := c.readRoleMembers(ctx, c.cfg.CodeMie.RoleName(role))
			mu.Lock()
			members[role] = ids
			mu.Unlock()
			return err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	roleOf := make(map[string][]model.Role)
	for _, role := range model.OwnedRoles { // fixed order keeps LiveUser.Roles sorted
		for _, id := range members[role] {
			roleOf[id] = append(roleOf[id], role)
		}
	}
	live.Users = make([]model.LiveUser, 0, len(users))
	for _, u := range users {
		lu := u.model()
		lu.Roles = roleOf[u.ID]
		if opts.LinksFor != nil && opts.LinksFor(lu.Username) {
			links, err := c.readLinks(ctx, u.ID)
			if err != nil {
				return nil, err
			}
			lu.FederatedIdentities = links
		}
		live.Users = append(live.Users, lu)
	}
	slices.SortFunc(live.Users, func(a, b model.LiveUser) int { return strings.Compare(a.Username, b.Username) })
	return live, nil
}

// userRep is the part of Keycloak's UserRepresentation roster reads.
type userRep struct {
	ID              string              `json:"id"`
	Username        string              `json:"username"`
	Email           string              `json:"email"`
	FirstName       string              `json:"firstName"`
	LastName        string              `json:"lastName"`
	Enabled         bool                `json:"enabled"`
	Attributes      map[string][]string `json:"attributes"`
	RequiredActions []string            `json:"requiredActions"`
	FederationLink  string              `json:"federationLink"`
}

func (u userRep) model() model.LiveUser {
	actions := slices.Clone(u.RequiredActions)
	slices.Sort(actions)
	return model.LiveUser{
		ID: u.ID, Username: strings.ToLower(u.Username), Email: strings.ToLower(u.Email),
		FirstName: u.FirstName, LastName: u.LastName, Enabled: u.Enabled,
		Attributes: u.Attributes, RequiredActions: actions, FederationLink: u.FederationLink,
	}
}

// readUsers pages through every user with full representations. Paging runs to a short page;
// it reads everything before anything is written, so offsets cannot shift under it.
func (c *Client) readUsers(ctx context.Context) ([]userRep, error) {
	return pages(ctx, c, "/users", url.Values{"briefRepresentation": {"false"}}, userPageSize,
		func(u userRep) string { return u.ID })
}

// readRoleMembers returns the ids of the users the realm role is mapped to directly, or nil when
// the role does not exist yet.
func (c *Client) readRoleMembers(ctx context.Context, role string) ([]string, error) {
	type member struct {
		ID string `json:"id"`
	}
	// briefRepresentation is honoured from Keycloak 26 on and ignored before.
	ms, err := pages(ctx, c, "/roles/"+url.PathEscape(role)+"/users", url.Values{"briefRepresentation": {"true"}},
		memberPageSize, func(m member) string { return m.ID })
	if IsNotFound(err) {
		return nil, nil
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids, err
}

func (c *Client) readRoles(ctx context.Context) ([]model.RealmRole, error) {
	type roleRep struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	rs, err := pages(ctx, c, "/roles", url.Values{"briefRepresentation": {"false"}}, rolePageSize,
		func(r roleRep) string { return r.Name })
	if err != nil {
		return nil, err
	}
	roles := make([]model.RealmRole, 0, len(rs))
	for _, r := range rs {
		if r.Name != LockRole { // roster's own apply lock, not part of the realm's state
			roles = append(roles, model.RealmRole{Name: r.Name, Description: r.Description})
		}
	}
	slices.SortFunc(roles, func(a, b model.RealmRole) int { return strings.Compare(a.Name, b.Name) })
	return roles, nil
}

// readPolicy reads the realm's unmanaged-attribute policy from its user-profile configuration.
func (c *Client) readPolicy(ctx context.Context) (model.Policy, error) {
	var up struct {
		Policy string `json:"unmanagedAttributePolicy"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/users/profile", nil, &up); err != nil {
		return "", err
	}
	if up.Policy == "" {
		return model.PolicyDisabled, nil
	}
	return model.Policy(up.Policy), nil
}

func (c *Client) readLinks(ctx context.Context, userID string) ([]model.FederatedIdentity, error) {
	var reps []struct {
		Provider string `json:"identityProvider"`
		UserID   string `json:"userId"`
		UserName string `json:"userName"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(userID)+"/federated-identity", nil, &reps); err != nil {
		return nil, err
	}
	links := make([]model.FederatedIdentity, 0, len(reps))
	for _, r := range reps {
		links = append(links, model.FederatedIdentity{Provider: r.Provider, UserID: r.UserID, UserName: r.UserName})
	}
	slices.SortFunc(links, func(a, b model.FederatedIdentity) int { return strings.Compare(a.Provider, b.Provider) })
	return links, nil
}

// pages GETs path page by page (first/max) until a short page, or a page with nothing new, and
// returns every item once: some Keycloak versions repeat rows across pages, so items are
// de-duplicated by key, and a version that ignores first/max would repeat the whole list.
func pages[T any](ctx context.Context, c *Client, path string, query url.Values, size int, key func(T) string) ([]T, error) {
	return pagesFrom(ctx, c, path, query, size, 0, key)
}

// pagesFrom is pages starting at offset start.
func pagesFrom[T any](ctx context.Context, c *Client, path string, query url.Values, size, start int, key func(T) string) ([]T, error) {
	var all []T
	seen := make(map[string]bool)
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("max", fmt.Sprint(size))
	for first := start; ; first += size {
		q.Set("first", fmt.Sprint(first))
		var page []T
		if _, err := c.do(ctx, http.MethodGet, path+"?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		added := 0
		for _, item := range page {
			if k := key(item); !seen[k] {
				seen[k] = true
				all = append(all, item)
				added++
			}
		}
		if len(page) < size || added == 0 {
			return all, nil
		}
	}
}

// readUsersConcurrently lists the users like readUsers, but fetches the pages that count users
// fill at once, at most readBackParallelism at a time; if the last of them is full, users came
// since the count, and it pages on from there one page at a time.
func (c *Client) readUsersConcurrently(ctx context.Context, count int) ([]userRep, error) {
	n := count/userPageSize + 1
	got := make([][]userRep, n)
	errs := make([]error, n)
	slots := make(chan struct{}, readBackParallelism)
	var wg sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			q := url.Values{"briefRepresentation": {"false"}, "first": {fmt.Sprint(i * userPageSize)}, "max": {fmt.Sprint(userPageSize)}}
			_, errs[i] = c.do(ctx, http.MethodGet, "/users?"+q.Encode(), nil, &got[i])
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	all := slices.Concat(got...)
	if len(got[n-1]) == userPageSize {
		more, err := pagesFrom(ctx, c, "/users", url.Values{"briefRepresentation": {"false"}}, userPageSize, n*userPageSize,
			func(u userRep) string { return u.ID })
		if err != nil {
			return nil, err
		}
		all = append(all, more...)
	}
	seen := make(map[string]bool, len(all))
	return slices.DeleteFunc(all, func(u userRep) bool {
		dup := seen[u.ID]
		seen[u.ID] = true
		return dup
	}), nil
}

// readBackParallelism bounds the concurrent single-user reads of ReadUsers.
const readBackParallelism = 8

// ReadUsers returns the users with the given ids, without roles or links: what apply reads back
// after writing, to check that Keycloak stored what it was sent. It takes the cheaper way: one
// read per user when they are few, else the paged listing of the realm (⌈N/500⌉ requests),
// which a count of the realm's users decides. Users that do not exist are left out.
func (c *Client) ReadUsers(ctx context.Context, ids []string) ([]model.LiveUser, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var count int
	if _, err := c.do(ctx, http.MethodGet, "/users/count", nil, &count); err != nil {
		return nil, err
	}
	if len(ids) > count/userPageSize+1 {
		reps, err := c.readUsersConcurrently(ctx, count)
		if err != nil {
			return nil, err
		}
		want := make(map[string]bool, len(ids))
		for _, id := range ids {
			want[id] = true
		}
		var users []model.LiveUser
		for _, u := range reps {
			if want[u.ID] {
				users = append(users, u.model())
			}
		}
		return users, nil
	}

	reps := make([]*userRep, len(ids))
	errs := make([]error, len(ids))
	slots := make(chan struct{}, readBackParallelism)
	var wg sync.WaitGroup
	for i, id := range ids {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			var u userRep
			_, err := c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(id), nil, &u)
			switch {
			case IsNotFound(err):
			case err != nil:
				errs[i] = err
			default:
				reps[i] = &u
			}
		})
	}
	wg.Wait()
	var users []model.LiveUser
	for i, u := range reps {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if u != nil {
			users = append(users, u.model())
		}
	}
	return users, nil
}
