package doctor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

// oldestTested is the oldest Keycloak major version roster is tested with (make test-matrix).
const oldestTested = 24

func unreachable(url string, err error) Check {
	fix := "check --server or KEYCLOAK_URL, that Keycloak is running, and that this machine can reach it " +
		"(proxy, firewall; --ca-file for a private certificate authority)"
	if hints := diag.HintsOf(err); len(hints) > 0 {
		fix = strings.Join(hints, "; ") // what the cause says to fix, e.g. the port
	}
	if cause := errors.Unwrap(err); cause != nil {
		err = cause // the ConnError's own text repeats the URL
	}
	return Check{Name: "server", Status: Fail, Detail: fmt.Sprintf("no answer from %s: %v", url, err), Fix: fix}
}

func serverCheck(url, version string, versionErr error, noLogin bool) Check {
	c := Check{Name: "server", Status: Pass}
	switch {
	case noLogin:
		c.Detail = fmt.Sprintf("Keycloak answers at %s; its version needs a login", url)
	case versionErr != nil:
		c.Detail = fmt.Sprintf("Keycloak answers at %s; its version could not be read: %v", url, versionErr)
	case version == "":
		c.Detail = fmt.Sprintf("Keycloak answers at %s; it shows its version only to master administrators "+
			"and to holders of manage-realm", url)
	default:
		c.Detail = fmt.Sprintf("Keycloak %s answers at %s", version, url)
		major, err := strconv.Atoi(strings.SplitN(version, ".", 2)[0])
		if err == nil && major < oldestTested {
			c.Status = Warn
			c.Detail += fmt.Sprintf("; roster is tested with Keycloak %d to 26", oldestTested)
			c.Fix = fmt.Sprintf("upgrade Keycloak to %d or newer", oldestTested)
		}
	}
	return c
}

func loginCheck(p keycloak.Principal, err error) Check {
	if err == nil {
		return Check{Name: "login", Status: Pass, Detail: fmt.Sprintf("%s logs in to realm %q", p, p.AuthRealm)}
	}
	c := Check{Name: "login", Status: Fail, Detail: err.Error(), Fix: "check the credentials and the login realm (--auth-realm)"}
	if hints := diag.HintsOf(err); len(hints) > 0 {
		c.Fix = strings.Join(hints, "; ")
	}
	return c
}

func realmCheck(realm string, exists bool, err error) Check {
	c := Check{Name: "realm", Status: Pass, Detail: fmt.Sprintf("realm %q exists", realm)}
	switch {
	case refused(err):
		c.Status, c.Detail = Fail, fmt.Sprintf("Keycloak refused to show realm %q (403): the credentials hold no role of its realm-management client", realm)
		c.Fix = "grant the roles the permission checks below name"
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
	case !exists:
		c.Status, c.Detail = Fail, fmt.Sprintf("realm %q does not exist", realm)
		c.Fix = fmt.Sprintf("create it (console: Manage realms → Create realm → Realm name %s), or fix the realm name in the files or --realm", realm)
	}
	return c
}

// need is a realm-management role and what needs it.
type need struct {
	perm keycloak.Permission
	// why says what needs the role, or, for an excess role, why the job should not hold it.
	why string
	// required is false for a role only doctor needs: missing, it is a warning.
	required bool
	// excess marks a role the job does not need: held, it is a warning; missing, a pass.
	excess bool
}

// needs lists the realm-management roles w calls for, in a fixed order. A plan job needs the view
// roles apply needs, and every manage role is then an excess one; a verify job (roster access
// --verify, which never runs the code of a pull request) needs view-users, view-realm and
// view-clients.
func needs(w Want) []need {
	n := []need{
		{keycloak.ViewUsers, "plan reads the users and the members of the realm roles", true, false},
		{keycloak.ManageUsers, "apply creates and updates users and grants their realm roles", true, false},
		{keycloak.ViewRealm, "plan reads the realm roles and the user profile", true, false},
		{keycloak.ManageRealm, "apply creates realm roles and sets the user-profile policy", true, false},
	}
	if w.MappersDeclared {
		n = append(n,
			need{keycloak.ViewClients, fmt.Sprintf("plan reads the token mappers of client scope %q", w.ClientScope), true, false},
			need{keycloak.ManageClients, "apply creates and corrects the token mappers", true, false})
	} else {
		n = append(n, need{keycloak.ViewClients, fmt.Sprintf("doctor reads the token mappers of client scope %q "+
			"(the files declare no tokenMappers, so roster does not manage them)", w.ClientScope), false, false})
	}
	if len(w.IdentityProviders) > 0 {
		n = append(n,
			need{keycloak.ViewIdentityProviders, "plan reads the identity providers and their mappers", true, false},
			need{keycloak.ManageIdentityProviders, "apply creates and updates the identity providers and their mappers", true, false})
	}
	var view []need
	switch w.Job {
	case JobPlan:
		for _, x := range n {
			if !slices.Contains(keycloak.ManagePermissions(), x.perm) {
				view = append(view, x)
			}
		}
	case JobVerify:
		return []need{
			{keycloak.ViewUsers, "access --verify reads the users and asks for the tokens Keycloak would issue them", true, false},
			{keycloak.ViewRealm, "access --verify reads the realm roles and the user profile", true, false},
			{keycloak.ViewClients, "access --verify reads CodeMie's client and its token mappers, and asks for the tokens it issues", true, false},
		}
	default:
		return n
	}
	for _, p := range keycloak.ManagePermissions() {
		view = append(view, need{perm: p, why: "a plan job needs no manage role", excess: true})
	}
	return view
}

func permissionCheck(realm string, p keycloak.Principal, n need, held bool, err error) Check {
	c := Check{Name: "permission " + string(n.perm), Status: Pass, Detail: n.why}
	switch {
	case err != nil:
		c.Status, c.Detail = Fail, fmt.Sprintf("could not be checked (%s): %v", keycloak.ProbeRequest(n.perm), err)
	case n.excess && held:
		c.Status = Warn
		c.Detail = fmt.Sprintf("held, and %s: credentials that can write, in a job that runs the code of unreviewed "+
			"pull requests, can change the realm before anyone reviews the change", n.why)
		c.Fix = fmt.Sprintf("give plan jobs credentials holding only the view roles above, and keep %s for the apply job after review", n.perm)
	case n.excess:
		c.Detail = "not held: " + n.why
	case !held:
		c.Status = Fail
		if !n.required {
			c.Status = Warn
		}
		c.Detail = fmt.Sprintf("missing: Keycloak refused %s (403); %s", keycloak.ProbeRequest(n.perm), n.why)
		c.Fix = grantFix(realm, p, n.perm)
	}
	return c
}

// grantFix is the console step that grants perm to the principal: a service account gets it in
// its client's service-account roles, a user in its role mapping. In the managed realm the roles
// belong to client realm-management; in master, to the client named after the realm.
func grantFix(realm string, p keycloak.Principal, perm keycloak.Permission) string {
	client := "realm-management"
	if p.AuthRealm != realm {
		client = realm + "-realm"
	}
	where := "Users → " + p.Username + " → Role mapping"
	if p.ClientID != "" {
		where = "Clients → " + p.ClientID + " → Service account roles"
	}
	return fmt.Sprintf("in the console, realm %s: %s → Assign role → Client roles → %s %s", p.AuthRealm, where, client, perm)
}

// policyFix is the remedy for a policy that keeps administrators from writing, or lets users
// write, CodeMie's attributes.
func policyFix(w Want) string {
	console := "in the console: Realm settings → General → Unmanaged Attributes → Only administrators can write"
	if apply := w.applyFix(); apply != "" {
		return "set settings.unmanagedAttributePolicy: ADMIN_EDIT in the files and " + apply + "; or " + console
	}
	return "declare settings.unmanagedAttributePolicy: ADMIN_EDIT in the files and run roster apply; or " + console
}

func userProfileCheck(up model.UserProfile, err error, w Want) Check {
	c := Check{Name: "user profile", Status: Pass}
	switch {
	case refused(err):
		c.Status, c.Detail = Skip, "not checked: Keycloak refused to show the user profile (403; see permission view-realm)"
		return c
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
		return c
	}
	// For each attribute: can administrators write it, can users, and why.
	var adminCannot, userCan []string
	reasons := map[string][]string{} // reason → attributes
	var reasonOrder []string
	for _, a := range model.CodeMieAttributes() {
		admin, user := up.Writers(a)
		reason := fmt.Sprintf("unmanaged-attribute policy %s: %s", up.Policy, up.Policy.Meaning())
		if pa, ok := up.Attributes[a]; ok {
			reason = fmt.Sprintf("declared in the user profile, editable by %s", editors(pa.Edit))
		}
		if !admin {
			adminCannot = append(adminCannot, a)
		}
		if user {
			userCan = append(userCan, a)
		}
		if _, seen := reasons[reason]; !seen {
			reasonOrder = append(reasonOrder, reason)
		}
		reasons[reason] = append(reasons[reason], a)
	}
	// One reason for all three is said once, in parentheses; several name their attributes.
	why := " (" + reasonOrder[0] + ")"
	if len(reasonOrder) > 1 {
		var groups []string
		for _, r := range reasonOrder {
			groups = append(groups, fmt.Sprintf("%s (%s)", strings.Join(reasons[r], ", "), r))
		}
		why = ": " + strings.Join(groups, "; ")
	}
	switch {
	case len(adminCannot) > 0:
		c.Status, c.Fix = Fail, policyFix(w)
		c.Detail = fmt.Sprintf("administrators cannot write %s, so Keycloak drops what roster writes%s",
			strings.Join(adminCannot, ", "), why)
		for _, a := range adminCannot {
			if _, declared := up.Attributes[a]; declared {
				c.Fix = fmt.Sprintf("in the console: Realm settings → User profile → %s → Who can edit → Admin", a)
			}
		}
	case len(userCan) > 0:
		c.Status, c.Fix = Warn, policyFix(w)
		c.Detail = fmt.Sprintf("signed-in users can edit their own %s through the account API, so a developer can make "+
			"themselves Project Admin of any project%s", strings.Join(userCan, ", "), why)
	default:
		c.Detail = "administrators can write " + strings.Join(model.CodeMieAttributes(), ", ") + ", and users cannot" + why
	}
	return c
}

func editors(edit []string) string {
	if len(edit) == 0 {
		return "nobody"
	}
	return strings.Join(edit, " and ")
}

// roleConsequence says what a missing realm role costs CodeMie.
func roleConsequence(cm model.CodeMie, name string) (string, bool) {
	switch name {
	case cm.RoleName(model.RoleAdmin):
		return "nobody can be a CodeMie platform Admin", true
	case cm.RoleName(model.RoleDeveloper):
		return "nobody can sign in to CodeMie as a standard user", true
	}
	return "", false
}

func roleChecks(roles []model.RealmRole, err error, w Want) []Check {
	switch {
	case refused(err):
		return []Check{{Name: "realm roles", Status: Skip, Detail: "not checked: Keycloak refused to list the realm roles (403; see permission view-realm)"}}
	case err != nil:
		return []Check{{Name: "realm roles", Status: Fail, Detail: err.Error()}}
	}
	var checks []Check
	for _, name := range w.Roles {
		c := Check{Name: "role " + name, Status: Pass, Detail: fmt.Sprintf("realm role %q exists", name)}
		if !slices.ContainsFunc(roles, func(r model.RealmRole) bool { return r.Name == name }) {
			c.Status = Fail
			c.Detail = fmt.Sprintf("realm role %q does not exist", name)
			if why, ok := roleConsequence(w.CodeMie, name); ok {
				c.Detail += ": " + why
			}
			console := "in the console: Realm roles → Create role → Role name " + name
			if apply := w.applyFix(); apply != "" {
				c.Fix = apply + " (it creates the roles the files declare); or " + console
			} else {
				c.Fix = console
			}
		}
		checks = append(checks, c)
	}
	return checks
}

// grantCheck checks that the realm grants CodeMie's roles only by mapping them to users, the way
// roster reads (and grants) them: a role a user holds through a group, a composite realm role or
// the default roles reaches their tokens without roster counting it. roles are the realm roles
// as listed, and canRead whether they were, with view-realm, which the check needs.
func grantCheck(ctx context.Context, t Target, roles []model.RealmRole, canRead bool, w Want) Check {
	c := Check{Name: "role grants"}
	names := w.CodeMie.RoleNames(model.OwnedRoles())
	if !canRead {
		c.Status, c.Detail = Skip, fmt.Sprintf("not checked: it needs permission %s", keycloak.ViewRealm)
		return c
	}
	if !slices.ContainsFunc(roles, func(r model.RealmRole) bool { return slices.Contains(names, r.Name) }) {
		c.Status, c.Detail = Skip, fmt.Sprintf("not checked: realm roles %s do not exist (see role %s)", strings.Join(names, " and "), names[0])
		return c
	}
	found, err := t.ReadIndirectGrants(ctx, names)
	switch {
	case refused(err):
		c.Status, c.Detail = Skip, fmt.Sprintf("not checked: Keycloak refused to list the groups of a role (403; see permission %s)", keycloak.ViewRealm)
		return c
	case err != nil:
		c.Status, c.Detail = Fail, err.Error()
		return c
	case len(found.Grants) == 0 && len(found.Unread) == 0:
		c.Status = Pass
		c.Detail = fmt.Sprintf("no group, composite realm role or default role grants %s: roster reads every holder (composite client roles are not checked)",
			strings.Join(names, " or "))
		return c
	}
	c.Status = Warn
	var parts []string
	if len(found.Grants) > 0 {
		var ways []string
		for _, g := range found.Grants {
			ways = append(ways, fmt.Sprintf("%s through %s", g.Role, g.Via))
		}
		parts = append(parts, fmt.Sprintf("the realm also grants %s: roster reads only the users a role is mapped to, so plan, access and export "+
			"can say a user has no role, or loses one, who keeps it through these", strings.Join(ways, "; ")))
		c.Fix = fmt.Sprintf("grant %s only to users, as roster does, and take them off those groups and roles "+
			"(the default roles: Realm settings → User registration → Default roles); until then, roster access --verify shows whom the tokens reach",
			strings.Join(names, " and "))
	}
	if len(found.Unread) > 0 {
		parts = append(parts, "roster could not read "+strings.Join(found.Unread, "; "))
		c.Fix = cmp.Or(c.Fix, "check the realm's groups and composite roles in the console; roster access --verify shows whom the tokens reach")
	}
	c.Detail = strings.Join(parts, "; and ")
	return c
}

// clientChecks check CodeMie's client and the token mappers that reach its tokens: the realm
// roles and each attribute of w, as model.TokenMapping.Problems judges them for plan. Whether a
// client with Full scope allowed off takes in admin and developer is checked only with
// viewRealm: Keycloak leaves out of the scope it reports the roles the caller may not view.
func clientChecks(client *model.LiveCodeMieClient, unread string, err error, viewRealm bool, w Want) []Check {
	id := cmp.Or(w.CodeMie.ClientID, model.DefaultClientID)
	name := "client " + id
	switch {
	case err != nil:
		return []Check{{Name: name, Status: Fail, Detail: err.Error()}}
	case unread != "":
		return []Check{{Name: name, Status: Skip, Detail: "not checked: " + unread}}
	case client == nil:
		return []Check{{Name: name, Status: Fail,
			Detail: fmt.Sprintf("the realm has no client %q, so CodeMie cannot sign anyone in through it", id),
			Fix:    "set settings.codemie.clientId to the client CodeMie's oauth2-proxy uses (CodeMie's installation creates codemie)"}}
	}
	var roles []string
	var checks []Check
	switch {
	case viewRealm:
		roles = w.CodeMie.RoleNames(model.OwnedRoles())
	case client.Mapping.Scoped:
		checks = append(checks, Check{Name: name + ": scope", Status: Skip,
			Detail: fmt.Sprintf("not checked: client %q has Full scope allowed off, and which realm roles its scope takes in shows only to an account with %s", id, keycloak.ViewRealm)})
	}
	problems := client.Mapping.Problems(id, roles, w.Attributes)
	if len(problems) == 0 && len(checks) == 0 {
		return []Check{{Name: name, Status: Pass, Detail: fmt.Sprintf("its tokens carry the realm roles and %s as CodeMie reads them (default client scopes %s)",
			strings.Join(w.Attributes, ", "), strings.Join(client.DefaultScopes, ", "))}}
	}
	for _, p := range problems {
		c := Check{Name: name + ": " + p.Claim, Status: Warn, Detail: p.Problem, Fix: p.Fix}
		if p.Error {
			c.Status = Fail
		}
		checks = append(checks, c)
	}
	return checks
}

// attributeConsequence says what a missing claim costs CodeMie.
var attributeConsequence = map[string]string{
	model.AttrApplications:      "CodeMie sees no projects",
	model.AttrApplicationsAdmin: "CodeMie sees no Project Admins",
	model.AttrUserType:          "CodeMie sees no External Users",
}

func mapperChecks(scope *model.LiveClientScope, err error, canView bool, w Want) []Check {
	switch {
	case refused(err) || (err == nil && !canView):
		return []Check{{Name: "token mappers", Status: Skip,
			Detail: "not checked: the credentials cannot read client scopes (see permission view-clients)"}}
	case err != nil:
		return []Check{{Name: "token mappers", Status: Fail, Detail: err.Error()}}
	case scope == nil:
		return []Check{{Name: "client scope " + w.ClientScope, Status: Fail,
			Detail: fmt.Sprintf("client scope %q does not exist, so no token carries CodeMie's attributes", w.ClientScope),
			Fix: fmt.Sprintf("in the console: Client scopes → Create client scope → Name %s, Type Default; then add it to "+
				"CodeMie's client (Clients → codemie → Client scopes → Add client scope)", w.ClientScope)}}
	}
	var checks []Check
	for _, a := range w.Attributes {
		checks = append(checks, mapperCheck(scope, a, w))
	}
	return checks
}

// mapperCheck finds the mapper CodeMie needs for attr: a User Attribute mapper reading attr into
// claim attr. Another mapper writing the same claim conflicts with it; a User Attribute mapper
// reading attr into another claim stands in for a missing one.
func mapperCheck(scope *model.LiveClientScope, attr string, w Want) Check {
	c := Check{Name: "token mapper " + attr, Status: Pass}
	var good, conflicting, misdirected []model.LiveTokenMapper
	for _, m := range scope.Mappers {
		reads := m.ProtocolMapper == model.ProtocolMapperUserAttribute && m.Attribute == attr
		switch {
		case reads && len(mapperProblems(m, attr)) == 0:
			good = append(good, m)
		case m.Claim == attr:
			conflicting = append(conflicting, m)
		case reads:
			misdirected = append(misdirected, m)
		}
	}
	apply := ""
	if w.MappersDeclared {
		apply = w.applyFix()
	}
	wrong := append(conflicting, misdirected...)
	switch {
	case len(good) > 0 && len(conflicting) == 0:
		c.Detail = fmt.Sprintf("mapper %q puts %s into ID token, access token and userinfo as one String claim", good[0].Name, attr)
	case len(good) > 0:
		c.Status = Warn
		c.Detail = fmt.Sprintf("mapper %q is right, but mapper %q also writes claim %s (%s): tokens may carry either",
			good[0].Name, conflicting[0].Name, attr, describeProblems(conflicting[0], attr))
		c.Fix = fmt.Sprintf("in the console: Client scopes → %s → Mappers → %s → Delete", scope.Name, conflicting[0].Name)
	case len(wrong) > 0:
		m := wrong[0]
		c.Status = Fail
		c.Detail = fmt.Sprintf("mapper %q of client scope %q is wrong: %s", m.Name, scope.Name, describeProblems(m, attr))
		c.Fix = fmt.Sprintf("in the console: Client scopes → %s → Mappers → %s: %s", scope.Name, m.Name, mapperSettings(attr))
		if apply != "" {
			c.Fix = apply + " (it creates or corrects the mapper); or " + c.Fix
		}
	default:
		c.Status = Fail
		c.Detail = fmt.Sprintf("client scope %q has no User Attribute mapper for %s: tokens carry no %s claim", scope.Name, attr, attr)
		if why := attributeConsequence[attr]; why != "" {
			c.Detail += ", so " + why
		}
		console := fmt.Sprintf("in the console: Client scopes → %s → Mappers → Add mapper → By configuration → User Attribute: %s",
			scope.Name, mapperSettings(attr))
		if apply != "" {
			c.Fix = apply + " (it creates the mapper); or " + console
		} else {
			c.Fix = "declare tokenMappers in the files and run roster apply; or " + console
		}
	}
	return c
}

// mapperSettings are the console settings of a correct mapper.
func mapperSettings(attr string) string {
	return fmt.Sprintf("name, User Attribute and Token Claim Name %s, Claim JSON Type String, Multivalued off, "+
		"Add to ID token, access token and userinfo on", attr)
}

// mapperProblems lists how m differs from the mapper CodeMie needs for attr
// (model.CodeMieTokenMapper).
func mapperProblems(m model.LiveTokenMapper, attr string) []string {
	want := model.CodeMieTokenMapper(attr)
	var p []string
	if m.ProtocolMapper != want.ProtocolMapper {
		p = append(p, fmt.Sprintf("it is a %s mapper, not a User Attribute mapper", m.ProtocolMapper))
	} else if m.Attribute != want.Attribute {
		p = append(p, fmt.Sprintf("it reads user attribute %q, not %q", m.Attribute, want.Attribute))
	}
	if m.Claim != want.Claim {
		p = append(p, fmt.Sprintf("its claim name is %q, not %q", m.Claim, want.Claim))
	}
	if m.Multivalued != want.Multivalued {
		p = append(p, "it is multivalued (a JSON array, where CodeMie reads one comma-joined string)")
	}
	if m.JSONType != want.JSONType {
		p = append(p, fmt.Sprintf("its claim JSON type is %q, not %s", m.JSONType, want.JSONType))
	}
	var missing []string
	for _, t := range []struct {
		on, want bool
		name     string
	}{{m.IDToken, want.IDToken, "ID token"}, {m.AccessToken, want.AccessToken, "access token"}, {m.UserInfo, want.UserInfo, "userinfo"}} {
		if t.want && !t.on {
			missing = append(missing, t.name)
		}
	}
	if len(missing) > 0 {
		p = append(p, "it is not added to the "+strings.Join(missing, ", "))
	}
	return p
}

func describeProblems(m model.LiveTokenMapper, attr string) string {
	return strings.Join(mapperProblems(m, attr), "; ")
}

func identityProviderChecks(idps []model.LiveIdentityProvider, err error, w Want) []Check {
	switch {
	case refused(err):
		return []Check{{Name: "identity providers", Status: Skip,
			Detail: "not checked: Keycloak refused to list the identity providers (403; see permission view-identity-providers)"}}
	case err != nil:
		return []Check{{Name: "identity providers", Status: Fail, Detail: err.Error()}}
	}
	var checks []Check
	for _, want := range w.IdentityProviders {
		alias := want.Alias
		c := Check{Name: "identity provider " + alias, Status: Pass, Detail: fmt.Sprintf("identity provider %q exists and is enabled", alias)}
		i := slices.IndexFunc(idps, func(p model.LiveIdentityProvider) bool { return p.Alias == alias })
		console := fmt.Sprintf("in the console: Identity providers → %s → Enabled on", alias)
		switch {
		case i < 0:
			c.Status = Fail
			c.Detail = fmt.Sprintf("identity provider %q does not exist: nobody can sign in through it", alias)
			c.Fix = w.applyFix() + " (it creates the identity providers the files declare)"
		case idps[i].Enabled:
		case want.Enabled != nil && !*want.Enabled:
			c.Detail = fmt.Sprintf("identity provider %q exists, and is disabled as the files declare", alias)
		case want.Enabled != nil:
			c.Status = Fail
			c.Detail = fmt.Sprintf("identity provider %q is disabled: the login page does not offer it", alias)
			c.Fix = w.applyFix() + " (the files enable it); or " + console
		default:
			c.Status = Fail
			c.Detail = fmt.Sprintf("identity provider %q is disabled: the login page does not offer it", alias)
			c.Fix = fmt.Sprintf("declare enabled: true for %s in the files and run roster apply; or %s", alias, console)
		}
		checks = append(checks, c)
	}
	return checks
}

// Clock skew thresholds, applied to the smallest skew the reading proves. NTP keeps clocks within
// milliseconds, so a skew beyond clockWarn means a clock is not synchronised. Tokens carry their
// issue and expiry times, and whoever checks them compares with their own clock: master's access
// tokens live a minute, so a skew of clockFail makes tokens look expired, or not yet valid, to a
// client whose clock is that far off.
const (
	clockWarn = 5 * time.Second
	clockFail = time.Minute
)

func clockCheck(r keycloak.ClockReading) Check {
	c := Check{Name: "clock", Status: Pass}
	if r.Server.IsZero() {
		c.Status, c.Detail = Skip, "not checked: the access token carried no issue time"
		return c
	}
	skew := provenSkew(r)
	if skew == 0 {
		c.Detail = "the server's clock and this machine's agree, to within a second plus the login's round trip"
		return c
	}
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	abs := skew.Abs()
	shown := abs.Round(100 * time.Millisecond)
	switch {
	case abs < clockWarn:
		c.Detail = fmt.Sprintf("the server's clock is at least %s %s this machine's (under %s)", shown, dir, clockWarn)
	default:
		c.Status = Warn
		if abs >= clockFail {
			c.Status = Fail
		}
		c.Detail = fmt.Sprintf("the server's clock is at least %s %s this machine's: tokens carry issue and expiry "+
			"times, and master's access tokens live %s", shown, dir, clockFail)
		c.Fix = "synchronise both clocks with NTP (e.g. timedatectl set-ntp true, or chrony)"
	}
	return c
}

// provenSkew is the smallest skew (server minus this machine) the reading allows, 0 when the
// clocks may agree. The server issued the token at some moment between Sent and Received on this
// machine's clock, and states that moment truncated to the second: its clock then read between
// Server and Server+1s.
func provenSkew(r keycloak.ClockReading) time.Duration {
	lowest := r.Server.Sub(r.Received)
	highest := r.Server.Add(time.Second).Sub(r.Sent)
	switch {
	case lowest > 0:
		return lowest
	case highest < 0:
		return highest
	}
	return 0
}
