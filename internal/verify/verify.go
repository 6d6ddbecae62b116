package verify

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

// Target is the server verification asks; *keycloak.Client implements it.
type Target interface {
	ExampleClaims(ctx context.Context, clientID, userID string) (keycloak.ExampleClaims, error)
}

// Subject is one user to verify: the access roster says CodeMie grants, and the user in the realm.
type Subject struct {
	Username string
	// Want is what roster says: the files' access, or its model of the live realm's.
	Want model.Access
	// User is the user in the realm; nil when the realm has no such user.
	User *model.LiveUser
}

// FromConfig returns a subject for each user of the files, by username. A file user that leaves
// enabled alone takes the realm's enabled.
func FromConfig(cfg *model.Config, live *model.Live) []Subject {
	byName := liveUsers(live)
	var out []Subject
	for _, r := range access.FromConfig(cfg) {
		s := Subject{Username: r.Username, Want: r.Access, User: byName[strings.ToLower(r.Username)]}
		if r.EnabledUnknown && s.User != nil {
			s.Want.Disabled = !s.User.Enabled
		}
		out = append(out, s)
	}
	return out
}

// FromLive returns a subject for each user of the realm but service accounts, by username, with
// the access roster's model of the realm says they have.
func FromLive(live *model.Live) []Subject {
	byName := liveUsers(live)
	var out []Subject
	for _, r := range access.FromLive(live) {
		out = append(out, Subject{Username: r.Username, Want: r.Access, User: byName[r.Username]})
	}
	return out
}

func liveUsers(live *model.Live) map[string]*model.LiveUser {
	m := make(map[string]*model.LiveUser, len(live.Users))
	for i := range live.Users {
		m[live.Users[i].Username] = &live.Users[i]
	}
	return m
}

// Result is one subject's verification.
type Result struct {
	Subject
	// Got is what CodeMie grants on reading each token Keycloak issues, tokens that read alike
	// grouped; nil when the user is not in the realm or the tokens could not be read (Err).
	Got []Reading
	// Claims are the claims Keycloak issued.
	Claims keycloak.ExampleClaims
	Err    error
	// Causes explain a difference; empty when every reading matches Want.
	Causes []Cause
}

// Reading is CodeMie's reading of one or more tokens that read alike.
type Reading struct {
	Tokens []model.TokenType
	Access model.Access
}

// Match reports whether the tokens make CodeMie grant what roster says.
func (r Result) Match() bool {
	if r.Err != nil || len(r.Got) == 0 {
		return false
	}
	for _, g := range r.Got {
		if !r.Want.Equal(g.Access) {
			return false
		}
	}
	return true
}

// Facts are what the tokens are read with, and the realm's prerequisites the causes of a
// difference are read from.
type Facts struct {
	// CodeMie is how CodeMie reads the tokens (settings.codemie).
	CodeMie model.CodeMie
	// Client is CodeMie's client, the one the tokens are issued through.
	Client *model.LiveCodeMieClient
	// Scopes are every client scope of the realm with its mappers.
	Scopes []model.LiveClientScope
	// Policy is the user-profile unmanaged-attribute policy.
	Policy model.Policy
	// FromFiles is true when Want comes from the files (then an unapplied change is a cause).
	FromFiles bool
}

// DefaultParallelism is how many users Run verifies at once by default: each costs three
// requests, and Keycloak answers a few at a time without strain.
const DefaultParallelism = 8

// Options tune Run.
type Options struct {
	// Parallelism is how many users are verified at once; zero or less means DefaultParallelism.
	Parallelism int
	// Progress, when set, is called after each user, with how many are done of how many.
	Progress func(done, total int)
}

// Run verifies the subjects through the client facts name, at most Options.Parallelism at a time,
// and returns their results in the subjects' order. It stops starting new users once ctx ends or
// a request fails other than with 404 (a user deleted meanwhile); those left get that error.
func Run(ctx context.Context, t Target, facts Facts, subjects []Subject, opts Options) []Result {
	n := opts.Parallelism
	if n <= 0 {
		n = DefaultParallelism
	}
	results := make([]Result, len(subjects))
	var (
		mu       sync.Mutex
		done     int
		fatal    error
		wg       sync.WaitGroup
		next     = make(chan int)
		finished = func(i int, r Result) {
			mu.Lock()
			defer mu.Unlock()
			results[i] = r
			if fatal == nil && r.Err != nil && !keycloak.IsNotFound(r.Err) {
				fatal = r.Err // unreachable, or refused: the users left would fail alike
			}
			done++
			if opts.Progress != nil {
				opts.Progress(done, len(subjects))
			}
		}
	)
	stopped := func() error {
		mu.Lock()
		defer mu.Unlock()
		if fatal != nil {
			return fatal
		}
		return ctx.Err()
	}
	for range min(n, len(subjects)) {
		wg.Go(func() {
			for i := range next {
				// Checked after taking the user, not before handing it over: a worker may
				// fail while the next user waits to be taken.
				if err := stopped(); err != nil {
					finished(i, Result{Subject: subjects[i], Err: err})
					continue
				}
				finished(i, verifyOne(ctx, t, facts, subjects[i]))
			}
		})
	}
	for i := range subjects {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func verifyOne(ctx context.Context, t Target, facts Facts, s Subject) Result {
	r := Result{Subject: s}
	if s.User == nil {
		r.Causes = []Cause{notInRealm(s)}
		return r
	}
	r.Claims, r.Err = t.ExampleClaims(ctx, facts.Client.ID, s.User.ID)
	if r.Err != nil {
		return r
	}
	r.Got = Read(facts.CodeMie, r.Claims, s.User.Enabled)
	for _, g := range r.Got {
		if !r.Want.Equal(g.Access) {
			r.Causes = appendNew(r.Causes, explain(facts, r, g)...)
		}
	}
	return r
}

// Read is CodeMie's reading of the access token, the ID token and the userinfo answer, grouped
// where they read alike. The realm roles come from the access token for all three: that is
// where Keycloak's roles scope puts them and where oauth2-proxy checks them. A disabled user
// cannot sign in whatever the tokens say.
func Read(cm model.CodeMie, ex keycloak.ExampleClaims, enabled bool) []Reading {
	access := model.ClaimsFromToken(ex.AccessToken)
	var out []Reading
	for _, t := range model.TokenTypes() {
		c := access
		switch t {
		case model.TokenID:
			c = model.ClaimsFromToken(ex.IDToken)
		case model.TokenUserInfo:
			c = model.ClaimsFromToken(ex.UserInfo)
		}
		c.RealmRoles = access.RealmRoles
		a := cm.Read(c)
		a.Disabled = !enabled
		if i := slices.IndexFunc(out, func(g Reading) bool { return g.Access.Equal(a) }); i >= 0 {
			out[i].Tokens = append(out[i].Tokens, t)
			continue
		}
		out = append(out, Reading{Tokens: []model.TokenType{t}, Access: a})
	}
	return out
}

// appendNew appends the causes not in list yet.
func appendNew(list []Cause, causes ...Cause) []Cause {
	for _, c := range causes {
		if !slices.Contains(list, c) {
			list = append(list, c)
		}
	}
	return list
}

// Prepare reads the facts and returns them with the subjects: the files' users when cfg is not
// nil, else the realm's.
func Prepare(ctx context.Context, r Reader, live *model.Live, cfg *model.Config) (Facts, []Subject, error) {
	facts, err := readFacts(ctx, r, live)
	if err != nil {
		return facts, nil, err
	}
	facts.FromFiles = cfg != nil
	if cfg != nil {
		return facts, FromConfig(cfg, live), nil
	}
	return facts, FromLive(live), nil
}

// Reader is what readFacts reads from; *keycloak.Client implements it.
type Reader interface {
	ReadClientScopes(ctx context.Context) ([]model.LiveClientScope, error)
}

// readFacts takes CodeMie's client from live (ReadLive reads it) and reads the realm's client
// scopes. A realm without the client is a *MissingClientError; credentials that may not read it
// an error that names the role.
func readFacts(ctx context.Context, r Reader, live *model.Live) (Facts, error) {
	f := Facts{CodeMie: live.CodeMie, Policy: live.Policy, Client: live.Client}
	switch {
	case live.ClientUnread != "":
		return f, fmt.Errorf("cannot verify: %s", live.ClientUnread)
	case live.Client == nil:
		return f, &MissingClientError{Realm: live.Realm, ClientID: cmp.Or(live.CodeMie.ClientID, model.DefaultClientID)}
	}
	var err error
	f.Scopes, err = r.ReadClientScopes(ctx)
	return f, err
}

// MissingClientError is a realm without CodeMie's client: no token can be issued through it.
type MissingClientError struct {
	Realm, ClientID string
}

func (e *MissingClientError) Error() string {
	return fmt.Sprintf("realm %q has no client %q, the client CodeMie signs users in through", e.Realm, e.ClientID)
}

// Hints says how to fix it.
func (e *MissingClientError) Hints() []string {
	return []string{fmt.Sprintf("create it as CodeMie's installation guide says (console: Clients → Create client → Client ID %s, "+
		"Client authentication on), or name CodeMie's client in settings.codemie.clientId", e.ClientID)}
}
