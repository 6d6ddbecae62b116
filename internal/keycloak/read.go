package keycloak

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	// LinkedOnly narrows LinksFor to the users Keycloak lists as linked to one of the realm's
	// identity providers (see linkedUsers), so that reading every user's links costs requests
	// per linked user, not per user. It reads the identity providers, as IdentityProviders does.
	LinkedOnly bool
	// ClientScope, when not empty, is the client scope whose token mappers to read (one request).
	ClientScope string
	// IdentityProviders reads the identity providers and their mappers (one request plus one
	// per provider).
	IdentityProviders bool
	// CodeMie is settings.codemie of the configuration; the caller logs in with it in
	// Config.CodeMie, so that reads and writes use the same role names and client.
	CodeMie model.CodeMie
	// Realm, when set, is the realm as ReadRealm has just read it: its login settings are taken
	// from it instead of being read again.
	Realm *RealmInfo
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
// and reads the user profile, the realm's login settings (unless ReadOptions.Realm holds them),
// the realm roles and CodeMie's client with the mappers that reach it once. For N users with R
// holders of the owned roles that is ⌈N/500⌉ + ⌈R/1000⌉ + 9 requests or so (8 with
// ReadOptions.Realm), up to listingParallelism-1 more per listing longer than
// a page (the pages in flight past its end), one more when the members of a role are more than a
// page (the count that bounds them: see ceiling; the user listing's is the count it is checked
// against), plus one per user whose links are asked for, and the prerequisites ReadOptions asks
// for. The listings run concurrently, and so do the pages of each (pagesConcurrent). The user
// listing is checked against Keycloak's count of users and the role members (see checkUsers): a
// plan made from a partial listing would create users that exist.
func (c *Client) ReadLive(ctx context.Context, opts ReadOptions) (*model.Live, error) {
	live := &model.Live{Realm: c.cfg.Realm, Identity: c.Identity(), CodeMie: c.cfg.CodeMie}
	var (
		users   []userRep
		members = make(map[model.Role][]member, len(model.OwnedRoles()))
		mu      sync.Mutex
		wg      sync.WaitGroup
		errs    = make([]error, 7+len(model.OwnedRoles()))
		// The count that bounds the user listing is the one it is checked against; the
		// listings of the roles' members share theirs.
		userCount   = c.newCount("/users/count")
		memberCount = c.newCount(everyUserCount)
	)
	run := func(i int, f func() error) {
		wg.Go(func() { errs[i] = f() })
	}
	run(0, func() (err error) { live.Policy, live.ProfileAttributes, err = c.readProfile(ctx); return err })
	run(1, func() (err error) { live.Roles, err = c.readRoles(ctx); return err })
	run(2, func() (err error) { users, err = c.readUsers(ctx, userCount); return err })
	if opts.ClientScope != "" {
		run(3, func() (err error) { live.ClientScope, err = c.ReadClientScope(ctx, opts.ClientScope); return err })
	}
	if opts.IdentityProviders || opts.LinkedOnly {
		run(4, func() (err error) { live.IdentityProviders, err = c.ReadIdentityProviders(ctx); return err })
	}
	run(5, func() (err error) {
		live.Client, live.ClientUnread, err = c.ReadCodeMieClient(ctx)
		return err
	})
	if opts.Realm != nil {
		live.Login = opts.Realm.Login()
	} else {
		run(6, func() error {
			info, err := c.ReadRealm(ctx)
			live.Login = info.Login()
			return err
		})
	}
	for i, role := range model.OwnedRoles() {
		run(7+i, func() error {
			ms, err := c.readRoleMembers(ctx, c.cfg.CodeMie.RoleName(role), memberCount.ceiling)
			mu.Lock()
			members[role] = ms
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
	users, err := c.checkUsers(ctx, users, userCount, members)
	if err != nil {
		return nil, err
	}

	roleOf := make(map[string][]model.Role)
	for _, role := range model.OwnedRoles() { // fixed order keeps LiveUser.Roles sorted
		for _, m := range members[role] {
			roleOf[m.ID] = append(roleOf[m.ID], role)
		}
	}
	live.Users = make([]model.LiveUser, 0, len(users))
	for _, u := range users {
		lu := u.model()
		lu.Roles = roleOf[u.ID]
		live.Users = append(live.Users, lu)
	}
	if opts.LinksFor != nil {
		if err := c.readLinksOf(ctx, live, opts); err != nil {
			return nil, err
		}
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
	Created         int64               `json:"createdTimestamp"` // milliseconds since the epoch
}

func (u userRep) model() model.LiveUser {
	actions := slices.Clone(u.RequiredActions)
	slices.Sort(actions)
	lu := model.LiveUser{
		ID: u.ID, Username: strings.ToLower(u.Username), Email: strings.ToLower(u.Email),
		FirstName: u.FirstName, LastName: u.LastName, Enabled: u.Enabled,
		Attributes: u.Attributes, RequiredActions: actions, FederationLink: u.FederationLink,
	}
	if u.Created > 0 {
		lu.Created = time.UnixMilli(u.Created).UTC()
	}
	return lu
}

// readUsers lists every user with full representations (pagesConcurrent), bounded by count,
// Keycloak's count of users. It reads everything before anything is written, so offsets cannot
// shift under it but for users others create or delete meanwhile, which the overlap check and
// checkUsers catch.
func (c *Client) readUsers(ctx context.Context, count *userCount) ([]userRep, error) {
	return pagesConcurrent(ctx, c, "/users", url.Values{"briefRepresentation": {"false"}}, userPageSize,
		func(u userRep) string { return u.ID }, count.ceiling)
}

// member is a user as role-member listings show it.
type member struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

// everyUserCount counts every user of the realm, service accounts too: Keycloak has no count of
// a role's members, who are users or service accounts, so this is what bounds their listing.
// Keycloak 26.4 and later leave service accounts out of a plain GET /users/count but count them
// once any field filter is given, exact=false included (on 26.7.3 it counts 3 where the plain
// count says 2: TestReadsRefuseEndlessListings); before 26.4 every count includes them, and
// exact is ignored.
const everyUserCount = "/users/count?exact=false"

// readRoleMembers returns the users the realm role is mapped to directly, or nil when the role
// does not exist yet. most bounds the listing: a count of everyUserCount.
func (c *Client) readRoleMembers(ctx context.Context, role string, most ceiling) ([]member, error) {
	// briefRepresentation is honoured from Keycloak 26 on and ignored before.
	ms, err := pagesConcurrent(ctx, c, "/roles/"+url.PathEscape(role)+"/users", url.Values{"briefRepresentation": {"true"}},
		memberPageSize, func(m member) string { return m.ID }, most)
	if IsNotFound(err) {
		return nil, nil
	}
	return ms, err
}

// checkUsers checks the user listing against what Keycloak says elsewhere: the number of users
// it counts (count, which a listing longer than a page took while it read, as its ceiling; a
// listing of one page, after it), and the members of the owned roles, each of whom must be a
// listed user or a service account (which the listing leaves out). A user created or deleted
// while roster read can make them disagree for a moment, so on a mismatch the users are listed
// once more, with a new count; a listing that still disagrees is a *ListingError. It returns the
// listing that passed.
func (c *Client) checkUsers(ctx context.Context, users []userRep, count *userCount, members map[model.Role][]member) ([]userRep, error) {
	var err error
	for attempt := 1; ; attempt++ {
		var problem string
		if problem, err = c.userListingProblem(ctx, users, count, members); err != nil || problem == "" {
			return users, err
		}
		if attempt == 2 {
			return nil, &ListingError{Realm: c.cfg.Realm, Path: "/users", Reason: problem}
		}
		count = c.newCount("/users/count")
		if users, err = c.readUsers(ctx, count); err != nil {
			return nil, err
		}
	}
}

// userListingProblem says how the listing disagrees with the count and the role members, or "".
func (c *Client) userListingProblem(ctx context.Context, users []userRep, counted *userCount, members map[model.Role][]member) (string, error) {
	listed := make(map[string]bool, len(users))
	for _, u := range users {
		listed[u.ID] = true
	}
	for _, role := range model.OwnedRoles() {
		for _, m := range members[role] {
			if !listed[m.ID] && !strings.HasPrefix(strings.ToLower(m.Username), "service-account-") {
				return fmt.Sprintf("user %q holds realm role %s but is not in the user listing", m.Username, c.cfg.CodeMie.RoleName(role)), nil
			}
		}
	}
	count, err := counted.get(ctx)
	if err != nil {
		return "", err
	}
	if count == len(users) {
		return "", nil
	}
	// Keycloak before 26.4 counts service accounts, which the listing leaves out.
	accounts, err := pages(ctx, c, "/users", url.Values{"username": {"service-account-"}, "briefRepresentation": {"true"}},
		userPageSize, func(m member) string { return m.ID }, c.newCount("/users/count?username=service-account-").ceiling)
	if err != nil {
		return "", err
	}
	services := 0
	for _, a := range accounts {
		if strings.HasPrefix(strings.ToLower(a.Username), "service-account-") && !listed[a.ID] {
			services++
		}
	}
	if count == len(users)+services {
		return "", nil
	}
	return fmt.Sprintf("it lists %d users, but GET /users/count counts %d", len(users), count), nil
}

// roleRep is the part of Keycloak's RoleRepresentation roster reads.
type roleRep struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Composite   bool   `json:"composite"`
}

// listRoles lists the realm roles, in full representation.
func (c *Client) listRoles(ctx context.Context) ([]roleRep, error) {
	return pages(ctx, c, "/roles", url.Values{"briefRepresentation": {"false"}}, rolePageSize,
		func(r roleRep) string { return r.Name }, uncounted)
}

func (c *Client) readRoles(ctx context.Context) ([]model.RealmRole, error) {
	rs, err := c.listRoles(ctx)
	if err != nil {
		return nil, err
	}
	roles := make([]model.RealmRole, 0, len(rs))
	for _, r := range rs {
		if !model.IsApplyRole(r.Name) { // roster's apply lock, its mark and the locks it gave back: not the realm's state
			roles = append(roles, model.RealmRole{Name: r.Name, Description: r.Description})
		}
	}
	slices.SortFunc(roles, func(a, b model.RealmRole) int { return strings.Compare(a.Name, b.Name) })
	return roles, nil
}

// Policy reads the realm's unmanaged-attribute policy as it is now.
func (c *Client) Policy(ctx context.Context) (model.Policy, error) {
	p, _, err := c.readProfile(ctx)
	return p, err
}

// readProfile reads the realm's unmanaged-attribute policy and the attributes its user profile
// declares, each with whether users may edit it.
func (c *Client) readProfile(ctx context.Context) (model.Policy, map[string]bool, error) {
	up, err := c.ReadUserProfile(ctx)
	if err != nil {
		return "", nil, err
	}
	declared := make(map[string]bool, len(up.Attributes))
	for name, a := range up.Attributes {
		declared[name] = a.UserEdits()
	}
	return up.Policy, declared, nil
}

// readLinksOf reads the links of the users opts.LinksFor names (and, with opts.LinkedOnly, that
// linkedUsers lists), at most readBackParallelism at a time.
func (c *Client) readLinksOf(ctx context.Context, live *model.Live, opts ReadOptions) error {
	var linked map[string]bool
	if opts.LinkedOnly {
		var err error
		if linked, err = c.linkedUsers(ctx, live.IdentityProviders); err != nil {
			return err
		}
	}
	var wanted []int
	for i, u := range live.Users {
		if opts.LinksFor(u.Username) && (linked == nil || linked[u.ID]) {
			wanted = append(wanted, i)
		}
	}
	errs := make([]error, len(wanted))
	slots := make(chan struct{}, readBackParallelism)
	var wg sync.WaitGroup
	for j, i := range wanted {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			live.Users[i].FederatedIdentities, errs[j] = c.readLinks(ctx, live.Users[i].ID)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// linkedUsers returns the ids of the users linked to one of the providers, as GET
// /users?idpAlias= lists them, or nil (read every user's links) when a listing disagrees with
// Keycloak's count of it: Keycloak before 26.4 ignores idpAlias when it counts, and a listing it
// cannot confirm is not one to leave users out by. The count, taken first, also bounds the
// listing (a count that ignores idpAlias counts every user, still a bound). Keycloak accepts
// links to an alias the realm has no provider for; no listing names those, so they are not read.
func (c *Client) linkedUsers(ctx context.Context, providers []model.LiveIdentityProvider) (map[string]bool, error) {
	linked := make(map[string]bool)
	for _, p := range providers {
		linkCount := c.newCount("/users/count?" + url.Values{"idpAlias": {p.Alias}}.Encode())
		count, err := linkCount.get(ctx)
		if err != nil {
			return nil, err
		}
		q := url.Values{"idpAlias": {p.Alias}, "briefRepresentation": {"true"}}
		ms, err := pagesConcurrent(ctx, c, "/users", q, memberPageSize, func(m member) string { return m.ID }, linkCount.ceiling)
		if err != nil {
			return nil, err
		}
		if count != len(ms) {
			return nil, nil
		}
		for _, m := range ms {
			linked[m.ID] = true
		}
	}
	return linked, nil
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

// pages GETs path page by page (first/max) until a short page and returns every item. A row
// that comes twice means the pages overlap (the listing shifted under it, or something between
// roster and Keycloak mangles paging): it is an *ListingError, since what the pages left out
// cannot be known. So is a listing whose pages go on past what the realm can hold, as its
// ceiling says: a server (or something in front of it) that answers every page with new rows
// would otherwise be paged until the timeout or until memory runs out. A server that ignores
// max and answers the whole list at once is taken at its word; the counts ReadLive checks catch
// a list that is short.
func pages[T any](ctx context.Context, c *Client, path string, query url.Values, size int, key func(T) string, most ceiling) ([]T, error) {
	l := listing[T]{c: c, path: path, query: query, size: size, key: key, most: most}
	return l.from(ctx, 0)
}

// pagesConcurrent is pages with several pages in flight, of sizes that grow from size while
// they come back quickly (pageSizer). It asks for pages in order, one at first and one more for
// each full page that comes back, up to listingParallelism, and stops asking at the first short
// page; pages past it that were already asked for are dropped, as pages would never have asked
// for them. So a listing of one page costs one request, and a long one at most
// listingParallelism-1 requests more than pages. Each page joins the listing as soon as the
// pages before it have, and is checked for overlap and against the ceiling then, as pages
// checks it: a server that answers every offset with the same full page is refused at its
// second page, and one that answers every offset with new rows once they pass the ceiling, not
// asked for pages without end. It refuses what pages refuses and returns what pages returns.
func pagesConcurrent[T any](ctx context.Context, c *Client, path string, query url.Values, size int, key func(T) string, most ceiling) ([]T, error) {
	l := listing[T]{c: c, path: path, query: query, size: size, key: key, most: most}
	sizer := newPageSizer(size, c.cfg.Timeout, c.answers.max)
	type result struct {
		i, first, size int // size: the rows asked for
		bytes          int // the answer's size
		took           time.Duration
		split          bool // a grown page asked for again in pieces
		page           []T
		err            error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan result)
	got := make(map[int]result)               // pages that came before one they follow
	next, inFlight, added, end := 0, 0, 0, -1 // added: pages in the listing; end: the first short page, once one came
	nextFirst, rowsOut := 0, 0                // rowsOut: the rows of the pages in flight
	var fail error
	for {
		// Pages that came before one they follow count as in flight until they join: a page
		// that is slow to come must not let the others run ahead without bound. Grown pages
		// take the place of several: the rows in flight stay within listingParallelism pages
		// of the base size, so that larger pages do not slow the server's other answers, but
		// for a page larger than that, which goes out alone.
		for fail == nil && end < 0 && inFlight+len(got) < min(listingParallelism, 1+added) &&
			(rowsOut == 0 || rowsOut+sizer.next <= listingParallelism*size) {
			r := result{i: next, first: nextFirst, size: sizer.next}
			budget := l.c.listingBytes - l.read // what the pieces of a grown page may read at most
			go func() {
				start := time.Now()
				if r.size == size {
					r.page, r.bytes, r.err = l.page(ctx, r.first, r.size)
				} else {
					r.page, r.bytes, r.split, r.err = l.grown(ctx, r.first, r.size, budget)
				}
				r.took = time.Since(start)
				if l.c.pageTook != nil {
					r.took = l.c.pageTook(r.first, r.size, r.took)
				}
				results <- r
			}()
			next++
			nextFirst += r.size
			rowsOut += r.size
			inFlight++
		}
		if inFlight == 0 {
			break
		}
		r := <-results
		inFlight--
		switch {
		case fail != nil || (end >= 0 && r.i > end):
			// after a failure, or past the last page: nothing more joins the listing
			rowsOut -= r.size
		case r.err != nil:
			fail = r.err
			cancel()
		default:
			sizer.observe(r.size, len(r.page), r.bytes, r.took, r.split)
			got[r.i] = r
			if len(r.page) < r.size || (r.i == 0 && len(r.page) > r.size) {
				end = r.i
			}
			for p, ok := got[added]; ok && fail == nil; p, ok = got[added] {
				delete(got, added)
				rowsOut -= p.size
				if err := l.add(ctx, p.page, p.bytes, p.first); err != nil {
					fail = err
					cancel()
				}
				added++
			}
		}
	}
	if fail != nil {
		return nil, fail
	}
	return l.all, nil
}

// listingParallelism bounds the pages of one listing in flight at once.
const listingParallelism = 4

// A ceiling says how many rows a listing may hold at most, and how to word its refusal when
// the pages go past them. A listing asks for its ceiling once it proves longer than one page,
// so a listing of one page costs no request more.
type ceiling func(ctx context.Context, size int) (limit int, refusal string, err error)

// maxListed is the most rows roster reads from one listing of users, whatever Keycloak counts:
// twenty times the largest realm roster is measured on (100,000 users), twice a realm of
// 1,000,000, which no CodeMie installation comes near. It keeps a count that is absurd (or made
// up) from lifting the ceiling out of reach: 2,000,000 rows are 2,000 to 4,000 requests, far
// beyond any real read but still an end; maxListingBytes bounds what their pages hold.
const maxListed = 2_000_000

// maxUncounted is the most rows roster reads from a listing Keycloak offers no count for: the
// realm roles and the identity providers. A CodeMie realm has a handful of each (roles admin and
// developer and Keycloak's defaults, a provider per sign-in option); 100,000 is far above any
// realm's, and keeps such a listing to 1,000 requests and some 100 MB even for the identity
// providers' full representations.
const maxUncounted = 100_000

// maxListingBytes is the most answer bytes roster reads from one listing. A ceiling in rows
// bounds how many pages come, not how large each is: every page may be as large as MaxAnswer.
// A user of the benchmarks' realm (an email, two projects) takes 340 bytes in a page of full
// users on Keycloak 26.7.3: 256 MiB hold some 790,000 of them, or 250,000 users with a kilobyte
// of projects each. A realm larger than that is out of roster's reach anyway (plan held 479 MB
// for the 34 MB listing of 100,000 users); a server that fills its pages past it is refused
// instead of being read until memory runs out.
const maxListingBytes = 256 << 20

// overBudget refuses the listing of path once its answers took read bytes, more than the
// client's budget for one listing; nil while they keep to it.
func (c *Client) overBudget(path string, read int64) error {
	if read <= c.listingBytes {
		return nil
	}
	return &ListingError{Realm: c.cfg.Realm, Path: path,
		Reason: fmt.Sprintf("its pages went on past %d MiB, more than roster reads from one listing", c.listingBytes>>20)}
}

// uncounted is the ceiling of a listing Keycloak does not count.
func uncounted(context.Context, int) (int, string, error) {
	return maxUncounted, fmt.Sprintf("its pages went on past %d rows, more than roster reads from a listing Keycloak does not count; "+
		"no realm holds that many", maxUncounted), nil
}

// counted is the ceiling of a listing of users that GET countPath (a path below the realm, with
// the listing's filters) counted n of: n, plus room for users created while roster reads the
// pages, which legitimately show up on later pages than the count foresaw. The room is one page
// (what a small realm gets from a few batches of a bulk import meanwhile) and half the count: to
// outgrow it, users would have to be created at half the rate roster reads them (on Keycloak
// 26.7.3, 2 cores, a page of 500 full users takes 0.24 s warm to 1.7 s cold, 4 in flight),
// which is Keycloak's partial import at full speed (810 to 960 users/s) running for the whole
// read; pages shift under such a read (rows repeat or go missing, which the overlap and count
// checks refuse), and running plan again once it is over reads a settled realm. The room bounds
// what a hostile server makes roster read to 1.5 times the realm it reports, and one page.
func counted(countPath string, n int) ceiling {
	return func(_ context.Context, size int) (int, string, error) {
		m := max(0, min(n, maxListed)) // a negative count is none; a huge one must not overflow
		limit := min(m+m/2+size, maxListed)
		if limit == maxListed {
			return limit, fmt.Sprintf("its pages went on past %d rows, more than roster reads from one listing", limit), nil
		}
		return limit, fmt.Sprintf("its pages went on past %d rows, but GET %s counts %d, and users created while roster read "+
			"cannot make up the difference", limit, countPath, n), nil
	}
}

// A userCount is Keycloak's count of what a listing of users lists, asked for once, when first
// needed, and then shared: between the ceiling of a listing and the check of that listing
// against the count (checkUsers), or between listings that share a ceiling (the members of the
// owned roles), so that bounding them costs no request more than checking them.
type userCount struct {
	c    *Client
	path string // below the realm, with the listing's filters
	mu   sync.Mutex
	n    int
	done bool
}

func (c *Client) newCount(path string) *userCount { return &userCount{c: c, path: path} }

// get returns the count, asking Keycloak the first time.
func (u *userCount) get(ctx context.Context) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.done {
		if _, err := u.c.do(ctx, http.MethodGet, u.path, nil, &u.n); err != nil {
			return 0, err
		}
		u.done = true
	}
	return u.n, nil
}

// ceiling is the ceiling counted sets with the count.
func (u *userCount) ceiling(ctx context.Context, size int) (int, string, error) {
	n, err := u.get(ctx)
	if err != nil {
		return 0, "", err
	}
	return counted(u.path, n)(ctx, size)
}

// listing accumulates the pages of one listing, refusing a row that comes twice and rows past
// its ceiling.
type listing[T any] struct {
	c     *Client
	path  string
	query url.Values
	size  int
	key   func(T) string
	seen  map[string]bool
	all   []T
	read  int64 // answer bytes of the pages added

	most    ceiling
	asked   bool // whether most was asked; then limit and refusal hold its answer
	limit   int
	refusal string
}

// page GETs the page of size rows from first and says how many bytes its answer took.
func (l *listing[T]) page(ctx context.Context, first, size int) ([]T, int, error) {
	page, ans, err := l.get(ctx, first, size, true)
	if err != nil {
		return nil, 0, err
	}
	return page, len(ans.body), nil
}

// grown GETs a page of size rows from first, larger than the listing's base size, once (but for
// a 429 or 503, which say the server did not carry it out): should it fail for a reason that may
// pass (a timeout, a server error) or come back larger than roster reads, the users past the
// pages before it are slower or larger than those were, and its rows are asked for again in
// pages of the base size (pieces; split is then true), each retried as any page, whose answers
// may take budget bytes together.
func (l *listing[T]) grown(ctx context.Context, first, size int, budget int64) (rows []T, bytes int, split bool, err error) {
	page, ans, err := l.get(ctx, first, size, false)
	switch {
	case err == nil:
		return page, len(ans.body), false, nil
	case (tooLarge(err) || transient(ans, err)) && ctx.Err() == nil:
		rows, bytes, err = l.pieces(ctx, first, size, budget)
		return rows, bytes, true, err
	}
	return nil, 0, false, err
}

// get GETs the page of size rows from first, retrying what may pass if retry is set.
func (l *listing[T]) get(ctx context.Context, first, size int, retry bool) ([]T, *answer, error) {
	q := url.Values{}
	for k, v := range l.query {
		q[k] = v
	}
	q.Set("first", fmt.Sprint(first))
	q.Set("max", fmt.Sprint(size))
	var page []T
	ans, err := l.c.send(ctx, http.MethodGet, l.path+"?"+q.Encode(), nil, &page, retry)
	return page, ans, err
}

// pieces GETs the page of size rows from first as pages of the listing's base size, one after
// another, up to the first short one, and says how many bytes their answers took together; it
// stops with the listing's refusal once they take more than budget.
func (l *listing[T]) pieces(ctx context.Context, first, size int, budget int64) ([]T, int, error) {
	var rows []T
	bytes := 0
	for from := first; from < first+size; from += l.size {
		n := min(l.size, first+size-from)
		page, b, err := l.page(ctx, from, n)
		if err != nil {
			return nil, 0, err
		}
		rows, bytes = append(rows, page...), bytes+b
		if int64(bytes) > budget {
			return nil, 0, l.c.overBudget(l.path, l.c.listingBytes-budget+int64(bytes)) // as read before the grown page, and these
		}
		if len(page) < n {
			break
		}
	}
	return rows, bytes, nil
}

// add appends the page from first, whose answer took size bytes, or returns a *ListingError if
// one of its rows came before, the page ends past the listing's ceiling, which it asks for at
// the first page after the first that has rows (an empty page adds nothing to pass it with), or
// the listing's answers grow past the client's byte budget.
func (l *listing[T]) add(ctx context.Context, page []T, size, first int) error {
	l.read += int64(size)
	if err := l.c.overBudget(l.path, l.read); err != nil {
		return err
	}
	if first > 0 && len(page) > 0 && !l.asked {
		var err error
		if l.limit, l.refusal, err = l.most(ctx, l.size); err != nil {
			return err
		}
		l.asked = true
	}
	if l.asked && first+len(page) > l.limit {
		return &ListingError{Realm: l.c.cfg.Realm, Path: l.path, Reason: l.refusal}
	}
	if l.seen == nil {
		l.seen = make(map[string]bool)
	}
	for _, item := range page {
		k := l.key(item)
		if l.seen[k] {
			return &ListingError{Realm: l.c.cfg.Realm, Path: l.path,
				Reason: fmt.Sprintf("the row %q came twice (the page from %d overlaps an earlier one)", k, first)}
		}
		l.seen[k] = true
		l.all = append(l.all, item)
	}
	return nil
}

// from pages on from offset start until a short page and returns every row read.
func (l *listing[T]) from(ctx context.Context, start int) ([]T, error) {
	for first := start; ; first += l.size {
		page, n, err := l.page(ctx, first, l.size)
		if err != nil {
			return nil, err
		}
		if err := l.add(ctx, page, n, first); err != nil {
			return nil, err
		}
		if len(page) < l.size || (len(page) > l.size && first == start) {
			return l.all, nil
		}
	}
}

// ListingError is a listing that contradicts itself or Keycloak's own counts: pages that
// overlap, pages that go on past what the realm holds, fewer users than GET /users/count, or a
// role member the user listing lacks. A plan made from it would create users that exist and miss
// users it should change, so roster stops.
type ListingError struct {
	Realm  string
	Path   string // the listing, below /admin/realms/{realm}
	Reason string
}

func (e *ListingError) Error() string {
	return fmt.Sprintf("the listing GET %s of realm %q cannot be trusted: %s", e.Path, e.Realm, e.Reason)
}

// Hints name the likely causes.
func (e *ListingError) Hints() []string {
	return []string{"a proxy or gateway between roster and Keycloak may shorten or page answers its own way: point roster at Keycloak directly",
		"the account roster logs in with may see only some users (query-users instead of view-users, or fine-grained permissions): `roster doctor` checks its roles",
		"roster plans nothing from a partial listing: it would create users that exist and overlook users it should change"}
}

// readUsersConcurrently lists the users like readUsers, but fetches the pages that count users
// fill at once, at most readBackParallelism at a time; if the last of them is full, users came
// since the count, and it pages on from there one page at a time, up to the ceiling the count
// sets (counted). Its answers together keep to the byte budget of one listing.
func (c *Client) readUsersConcurrently(ctx context.Context, count int) ([]userRep, error) {
	n := count/userPageSize + 1
	got := make([][]userRep, n)
	errs := make([]error, n)
	slots := make(chan struct{}, readBackParallelism)
	var (
		wg     sync.WaitGroup
		read   atomic.Int64
		failed atomic.Bool // once a page fails, no page starts: the first failure is the answer
	)
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if failed.Load() {
				return
			}
			q := url.Values{"briefRepresentation": {"false"}, "first": {fmt.Sprint(i * userPageSize)}, "max": {fmt.Sprint(userPageSize)}}
			ans, err := c.do(ctx, http.MethodGet, "/users?"+q.Encode(), nil, &got[i])
			if err == nil {
				if err = c.overBudget("/users", read.Add(int64(len(ans.body)))); err != nil {
					got[i] = nil
				}
			}
			if err != nil {
				errs[i] = err
				failed.Store(true)
			}
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
		l := listing[userRep]{c: c, path: "/users", query: url.Values{"briefRepresentation": {"false"}}, size: userPageSize,
			key: func(u userRep) string { return u.ID }, most: counted("/users/count", count), read: read.Load()}
		more, err := l.from(ctx, n*userPageSize)
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

// singleReadCost is about how many users in a page of the listing cost Keycloak what one read of
// a single user costs. The cost of either is mostly the users it loads, and much more for users
// not in Keycloak's cache, such as those just written: on Keycloak 26.7.3 (2 cores) a page of 500
// users just created took 2.2 s, 200 of them read one by one with 8 at once 2.7 s, 3 times as
// much per user; read again, 0.38 s and 1.1 s (7 times). So the listing, which loads every
// user of the realm, pays off only when those asked for are a large share of them: counting
// requests instead (a page per 500 users) read a whole realm of 1,000 users to check 20.
const singleReadCost = 4

// ListingPaysOff reports whether ReadUsers reads n users of a realm of realmUsers users through
// the listing of the realm rather than one by one: when they are a share 1/singleReadCost of it
// or more. Apply asks it to choose between reading created users back batch by batch, one
// request per user, and all together at the end.
func ListingPaysOff(n, realmUsers int) bool {
	return n > readBackParallelism && n*singleReadCost >= realmUsers
}

// ReadUsers returns the users with the given ids, without roles or links: what apply reads back
// after writing, to check that Keycloak stored what it was sent. It takes the cheaper way for
// the server, which a count of the realm's users decides: the paged listing of the realm
// (⌈N/500⌉ requests) when the users asked for are at least a share 1/singleReadCost of it, else
// one read per user; up to readBackParallelism users are read one by one without a count. Users
// that do not exist are left out.
func (c *Client) ReadUsers(ctx context.Context, ids []string) ([]model.LiveUser, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	// A few users are read one by one at once, without counting: no listing costs less.
	count := 0
	if len(ids) > readBackParallelism {
		if _, err := c.do(ctx, http.MethodGet, "/users/count", nil, &count); err != nil {
			return nil, err
		}
	}
	if count > 0 && ListingPaysOff(len(ids), count) {
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
