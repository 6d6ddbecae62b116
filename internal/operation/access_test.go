package operation

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/access"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloakfake"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/verify"
)

// accessConfig declares alice an admin, bob a developer of payments and dave, whom the fake
// realm does not have, in team payments.
const accessConfig = `version: 1
realm: codemie-test
projects: [payments, search]
teams:
  payments:
    members: [bob]
users:
  - {username: alice, role: admin}
  - username: bob
    role: developer
    projects: {admin: [payments]}
  - username: dave
    role: developer
    projects: {member: [search]}
`

func accessDeps(r Realm) Deps {
	deps, _ := realmDeps(r)
	return deps
}

func usernames(rows []access.Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.Username)
	}
	return out
}

func TestAccessFromFiles(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, accessConfig)
	deps := accessDeps(nil)
	deps.Dial = failDialer() // the files alone: no server

	res, err := Access(context.Background(), AccessOptions{Paths: []string{cfg}}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer != AccessTable || res.Source != access.SourceFile || res.Realm != "codemie-test" ||
		strings.Join(usernames(res.Rows), " ") != "alice bob dave" {
		t.Errorf("table: %+v", res)
	}

	res, err = Access(context.Background(), AccessOptions{Paths: []string{cfg}, User: "BOB"}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer != AccessUser || len(res.Rows) != 1 || res.Rows[0].Username != "bob" {
		t.Errorf("--username BOB: %+v", res)
	}

	opts := AccessOptions{Paths: []string{cfg}, Project: " Payments "}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err = Access(context.Background(), opts, deps)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer != AccessProject || res.Project.Name != "payments" || len(res.Project.Admins) != 1 {
		t.Errorf("--project payments: %+v", res.Project)
	}

	_, err = Access(context.Background(), AccessOptions{Paths: []string{cfg}, User: "zoe"}, deps)
	wantErr(t, err, `user "zoe" is not in the files`)
}

func TestAccessLiveAndPage(t *testing.T) {
	t.Parallel()
	realm := fakeRealm()
	res, err := Access(context.Background(), AccessOptions{Live: true, Realm: "codemie-test"}, accessDeps(realm))
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != access.SourceLive || strings.Join(usernames(res.Rows), " ") != "alice bob carol" {
		t.Errorf("--live: %v from %v", usernames(res.Rows), res.Source)
	}
	_, err = Access(context.Background(), AccessOptions{Live: true, Realm: "codemie-test", User: "zoe"}, accessDeps(realm))
	wantErr(t, err, `user "zoe" is not in realm "codemie-test"`)

	// The page of the live realm, with the files' teams, names the server without its credentials.
	cfg := writeConfig(t, accessConfig)
	res, err = Access(context.Background(), AccessOptions{Paths: []string{cfg}, Live: true, Format: output.HTML,
		Server: "https://admin:pw@kc.example.com/auth?x=1"}, accessDeps(realm))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Page
	if res.Answer != AccessPage || p.Server != "https://kc.example.com/auth" || !p.Generated.Equal(readAt) ||
		len(p.Teams) != 1 || len(p.Rows) != 3 || p.Source != access.SourceLive {
		t.Errorf("page: %+v", p)
	}
}

func TestAccessDiff(t *testing.T) {
	t.Parallel()
	cfg := writeConfig(t, accessConfig)
	res, err := Access(context.Background(), AccessOptions{Paths: []string{cfg}, Diff: true}, accessDeps(fakeRealm()))
	if err != nil {
		t.Fatal(err)
	}
	var differ []string
	for _, d := range res.Diffs {
		differ = append(differ, d.Username)
	}
	// bob administers payments by the files, only opens it in the realm; dave is not in the realm.
	if res.Answer != AccessDiff || strings.Join(differ, " ") != "bob dave" {
		t.Errorf("--diff: %v", differ)
	}
	res, err = Access(context.Background(), AccessOptions{Paths: []string{cfg}, Diff: true, User: "Dave"}, accessDeps(fakeRealm()))
	if err != nil || len(res.Diffs) != 1 || res.Diffs[0].Username != "dave" {
		t.Errorf("--diff --username dave: %+v, %v", res.Diffs, err)
	}

	realm := fakeRealm()
	realm.Fail("ReadLive", errors.New("boom"))
	_, err = Access(context.Background(), AccessOptions{Paths: []string{cfg}, Diff: true}, accessDeps(realm))
	wantErr(t, err, "boom")
	deps := accessDeps(nil)
	deps.Dial = failDialer()
	_, err = Access(context.Background(), AccessOptions{Paths: []string{cfg}, Diff: true}, deps)
	wantErr(t, err, "connection refused")
	_, err = Access(context.Background(), AccessOptions{Paths: []string{writeConfig(t, "version: 1\n")}}, deps)
	wantErr(t, err, "the configuration is not valid: 1 error")
}

func TestAccessOptionsValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		opts AccessOptions
		want string
	}{
		{AccessOptions{Paths: []string{"a"}, Sample: 3}, "--sample applies only with --verify"},
		{AccessOptions{Paths: []string{"a"}, Format: output.HTML, User: "x"}, "--format html shows every user"},
		{AccessOptions{Paths: []string{"a"}, User: "x", Project: "p"}, "cannot be combined"},
		{AccessOptions{Paths: []string{"a"}, Diff: true, Live: true}, "--diff and --live"},
		{AccessOptions{Paths: []string{"a"}, Diff: true, Project: "p"}, "--diff and --project"},
		{AccessOptions{Diff: true}, "--diff needs the configuration"},
		{AccessOptions{Live: true}, "--live needs a realm"},
		{AccessOptions{}, "no configuration given"},
		{AccessOptions{Paths: []string{"a"}, Realm: "r"}, "--realm applies only with --live"},
		{AccessOptions{Verify: true, Realm: "r", Format: output.HTML}, `unknown format "html"`},
		{AccessOptions{Verify: true, Realm: "r", Out: "x", Parallelism: 1}, "--out applies only without --verify"},
		{AccessOptions{Verify: true, Realm: "r", Live: true, Parallelism: 1}, "--verify cannot be combined"},
		{AccessOptions{Verify: true, Realm: "r", Paths: []string{"a"}, Parallelism: 1}, "--realm applies only without files"},
		{AccessOptions{Verify: true, Parallelism: 1}, "--verify needs the files or a realm"},
		{AccessOptions{Verify: true, Realm: "r", Sample: -1, Parallelism: 1}, "--sample must be at least 1"},
		{AccessOptions{Verify: true, Realm: "r", Sample: 2, User: "x", Parallelism: 1}, "--sample and --username"},
		{AccessOptions{Verify: true, Realm: "r"}, "--parallelism must be at least 1"},
	} {
		wantErr(t, tt.opts.Validate(), tt.want)
	}
	if err := (&AccessOptions{Verify: true, Realm: "r", Parallelism: 1}).Validate(); err != nil {
		t.Errorf("a valid --verify: %v", err)
	}
}

// tokenRealm is the fake realm with CodeMie's client, whose tokens carry each user's realm roles
// unless the user is in wrongTokens, whose tokens carry none.
type tokenRealm struct {
	*keycloakfake.Realm
	wrongTokens map[string]bool
	refuse      error
}

func (r *tokenRealm) ReadLive(ctx context.Context, opts keycloak.ReadOptions) (*model.Live, error) {
	live, err := r.Realm.ReadLive(ctx, opts)
	if live != nil {
		live.Client = &model.LiveCodeMieClient{ID: "id-codemie", ClientID: "codemie", Mapping: model.RecommendedMapping()}
	}
	return live, err
}

func (r *tokenRealm) ReadClientScopes(context.Context) ([]model.LiveClientScope, error) {
	return nil, nil
}

func (r *tokenRealm) ExampleClaims(ctx context.Context, clientID, userID string) (keycloak.ExampleClaims, error) {
	if r.refuse != nil {
		return keycloak.ExampleClaims{}, r.refuse
	}
	roles := []any{}
	for _, u := range mustLive(ctx, r).Users {
		if u.ID == userID && !r.wrongTokens[u.Username] {
			for _, role := range u.Roles {
				roles = append(roles, string(role))
			}
		}
	}
	return keycloak.ExampleClaims{AccessToken: map[string]any{"realm_access": map[string]any{"roles": roles}}}, nil
}

func mustLive(ctx context.Context, r *tokenRealm) *model.Live {
	live, _ := r.Realm.ReadLive(ctx, keycloak.ReadOptions{})
	return live
}

func verifyDeps(r VerifyRealm) VerifyDeps {
	return VerifyDeps{Dial: dialFake(r, nil)}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	realm := &tokenRealm{Realm: keycloakfake.New("codemie-test", user("alice", admin), user("bob", developer))}
	ctx := context.Background()

	// roster's reading of the realm: every token grants what roster reads.
	rep, err := Verify(ctx, AccessOptions{Verify: true, Realm: "codemie-test", Parallelism: 2}, verifyDeps(realm))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Realm != "codemie-test" || rep.Client != "codemie" || rep.FromFiles || len(rep.Results) != 2 || len(rep.Differ()) != 0 {
		t.Errorf("report %+v, want two matching users", rep)
	}

	// bob's tokens carry no role: CodeMie would not let him in.
	realm.wrongTokens = map[string]bool{"bob": true}
	var progress []int
	deps := verifyDeps(realm)
	deps.Progress = func(done, _ int) { progress = append(progress, done) }
	cfg := writeConfig(t, "version: 1\nrealm: codemie-test\nusers:\n  - {username: alice, role: admin}\n  - {username: bob, role: developer}\n")
	rep, err = Verify(ctx, AccessOptions{Verify: true, Paths: []string{cfg}, Parallelism: 1}, deps)
	if err != nil {
		t.Fatal(err)
	}
	if d := rep.Differ(); !rep.FromFiles || len(d) != 1 || d[0].Username != "bob" {
		t.Errorf("differ %+v, want bob", d)
	}
	if len(progress) != 2 {
		t.Errorf("progress %v, want one call per user", progress)
	}

	rep, err = Verify(ctx, AccessOptions{Verify: true, Realm: "codemie-test", User: "ALICE", Parallelism: 1}, verifyDeps(realm))
	if err != nil || len(rep.Results) != 1 || rep.Results[0].Username != "alice" {
		t.Errorf("--username alice: %+v, %v", rep.Results, err)
	}
	rep, err = Verify(ctx, AccessOptions{Verify: true, Realm: "codemie-test", Sample: 1, Parallelism: 1}, verifyDeps(realm))
	if err != nil || len(rep.Results) < 1 {
		t.Errorf("--sample 1: %+v, %v", rep.Results, err)
	}
	_, err = Verify(ctx, AccessOptions{Verify: true, Realm: "codemie-test", User: "zoe", Parallelism: 1}, verifyDeps(realm))
	wantErr(t, err, `user "zoe" is not in realm "codemie-test"`)
	_, err = Verify(ctx, AccessOptions{Verify: true, Paths: []string{cfg}, User: "zoe", Parallelism: 1}, verifyDeps(realm))
	wantErr(t, err, `user "zoe" is not in the files`)

	// A refusal that keeps users from being verified is the operation's error, with the report.
	realm.refuse = &keycloak.APIError{Method: "GET", Path: "/clients", Status: 403, Message: "Forbidden"}
	rep, err = Verify(ctx, AccessOptions{Verify: true, Realm: "codemie-test", Parallelism: 1}, verifyDeps(realm))
	wantErr(t, err, "failed to verify user")
	if len(rep.Results) == 0 {
		t.Errorf("the report of a failed verification is empty")
	}
}

func TestVerifyFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The fake realm has no CodeMie client: no token can be issued through it.
	plain := struct {
		*keycloakfake.Realm
		verify.Reader
		verify.Target
	}{Realm: fakeRealm()}
	_, err := Verify(ctx, AccessOptions{Verify: true, Realm: "codemie-test", Parallelism: 1}, verifyDeps(plain))
	var missing *verify.MissingClientError
	if !errors.As(err, &missing) {
		t.Errorf("err = %v, want *verify.MissingClientError", err)
	}

	deps := verifyDeps(nil)
	deps.Dial = failDial[VerifyRealm]()
	_, err = Verify(ctx, AccessOptions{Verify: true, Realm: "codemie-test", Parallelism: 1}, deps)
	wantErr(t, err, "connection refused")
	realm := &tokenRealm{Realm: fakeRealm()}
	realm.Fail("ReadRealm", errors.New("gone"))
	_, err = Verify(ctx, AccessOptions{Verify: true, Realm: "codemie-test", Parallelism: 1}, verifyDeps(realm))
	wantErr(t, err, "gone")
	_, err = Verify(ctx, AccessOptions{Verify: true, Paths: []string{writeConfig(t, "nope: 1\n")}, Parallelism: 1}, verifyDeps(realm))
	if err == nil {
		t.Error("an invalid configuration verified")
	}
}
