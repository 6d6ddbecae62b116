package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/verify"
)

// tokenChecks verify a sample of users the way roster access --verify does, through CodeMie's
// client (clientChecks judges the client itself): what the tokens Keycloak issues make CodeMie grant, against what the files (or roster's
// reading of the realm) say. A sample of verify.DefaultSample users covers each CodeMie role
// present.
func tokenChecks(ctx context.Context, t Target, w Want, held map[keycloak.Permission]bool) []Check {
	switch {
	case !held[keycloak.ViewClients]:
		return []Check{{Name: "tokens", Status: Skip, Detail: "not checked: the credentials cannot read clients (see permission view-clients)"}}
	case !held[keycloak.ViewUsers]:
		return []Check{{Name: "tokens", Status: Skip, Detail: "not checked: the credentials cannot read users (see permission view-users)"}}
	case !held[keycloak.ViewRealm]:
		return []Check{{Name: "tokens", Status: Skip, Detail: "not checked: the credentials cannot read the realm roles (see permission view-realm)"}}
	}
	live, err := t.ReadLive(ctx, keycloak.ReadOptions{CodeMie: w.CodeMie})
	if err != nil {
		return []Check{{Name: "tokens", Status: Fail, Detail: "could not read the realm: " + err.Error()}}
	}
	facts, subjects, err := verify.Prepare(ctx, t, live, w.Config)
	var missing *verify.MissingClientError
	switch {
	case errors.As(err, &missing):
		return []Check{{Name: "tokens", Status: Skip,
			Detail: fmt.Sprintf("not checked: the realm has no client %q to issue them (see client %s)", missing.ClientID, missing.ClientID)}}
	case err != nil:
		return []Check{{Name: "tokens", Status: Fail, Detail: err.Error()}}
	}
	n := verify.DefaultSample
	subjects = verify.Sample(subjects, n)
	if len(subjects) == 0 {
		return []Check{{Name: "tokens", Status: Skip, Detail: "not checked: there are no users to verify"}}
	}
	results := verify.Run(ctx, t, facts, subjects, verify.Options{})
	report := verify.Report{Realm: live.Realm, Client: facts.Client.ClientID, FromFiles: facts.FromFiles, Results: results}
	if err := report.Failure(); err != nil {
		return []Check{{Name: "tokens", Status: Fail, Detail: err.Error()}}
	}
	differ := report.Differ()
	if len(differ) == 0 {
		what := "the files say"
		if !facts.FromFiles {
			what = "roster reads in the realm"
		}
		return []Check{{Name: "tokens", Status: Pass,
			Detail: fmt.Sprintf("the tokens client %q issues to %s (%s) make CodeMie grant what %s", facts.Client.ClientID,
				sampled(len(results), len(subjects) < n), kinds(results), what)}}
	}
	var checks []Check
	for _, x := range differ {
		detail := strings.Join(report.Sides(x), "; ")
		var causes, fixes []string
		for _, c := range x.Causes {
			causes = append(causes, c.Detail)
			if c.Fix != "" && !slices.Contains(fixes, c.Fix) {
				fixes = append(fixes, c.Fix)
			}
		}
		if len(causes) > 0 {
			detail += "; cause: " + strings.Join(causes, "; ")
		}
		checks = append(checks, Check{Name: "tokens " + x.Username, Status: Fail, Detail: detail, Fix: strings.Join(fixes, "; ")})
	}
	return checks
}

// sampled says how many users were verified: "3 users" when that is every user, else "30
// sampled users".
func sampled(n int, all bool) string {
	noun := "users"
	if n == 1 {
		noun = "user"
	}
	if all {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d sampled %s", n, noun)
}

// kinds names the CodeMie role levels among the verified users, in a fixed order.
func kinds(results []verify.Result) string {
	var out []string
	for _, k := range verify.Kinds() {
		for _, r := range results {
			if verify.KindOf(r.Want) == k {
				out = append(out, k)
				break
			}
		}
	}
	return strings.Join(out, ", ")
}
