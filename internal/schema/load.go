package schema

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/secret"
)

// Options tune Load.
type Options struct {
	// CheckSecrets makes Load read every secret reference through Secrets: the environment
	// variable is set and not empty, the file exists in the secrets directory and is not
	// empty. Secret values are never printed.
	CheckSecrets bool
	// Secrets is what the operator exposed to the configuration. Whatever it holds, Load refuses
	// a reference package secret forbids; with a secrets directory it also refuses a file
	// reference that leads out of it.
	Secrets secret.Source
}

// File is one input file held in memory.
type File struct {
	// Name is the file's name as the user gave it; diagnostics use it as is.
	Name string
	Data []byte
}

// Load reads the desired state from paths: files, or directories whose *.yaml and *.yml files
// (the extension in any case; not those of subdirectories) are read in name order. It returns
// every problem it finds, sorted, and the normalised configuration, which is nil when any
// problem is an error.
func Load(paths []string, opts Options) (*model.Config, diag.List) {
	files, diags := ReadPaths(paths)
	cfg, more := LoadFiles(files, opts)
	diags = append(diags, more...)
	diags.Sort()
	if diags.HasErrors() {
		cfg = nil
	}
	return cfg, diags
}

// ReadPaths expands directories and reads every file, at most MaxFileSize bytes each. A file
// named more than once — directly and through its directory, through "./" or "..", or through
// a symbolic link — is read once, under the first name given. A file in a directory whose name
// looks like a YAML file's but is not read (teams.yaml.bak, users.ymal) is an error: roster
// never skips a file that may hold part of the configuration without a word.
func ReadPaths(paths []string) ([]File, diag.List) {
	var diags diag.List
	var names []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			diags.Errorf(diag.Pos{File: p}, "", "cannot read: %v", secret.Reason(err))
			continue
		}
		if !info.IsDir() {
			names = append(names, p)
			continue
		}
		inDir, nearMisses, err := dirFiles(p)
		if err != nil {
			diags.Errorf(diag.Pos{File: p}, "", "cannot read directory: %v", secret.Reason(err))
			continue
		}
		for _, n := range nearMisses {
			diags.Errorf(diag.Pos{File: n}, "", "looks like a configuration file but is not read: roster reads only names ending in .yaml or .yml").Hint =
				fmt.Sprintf("rename it to end in .yaml, or move it out of %s", p)
		}
		if len(inDir) == 0 && len(nearMisses) == 0 {
			diags.Errorf(diag.Pos{File: p}, "", "directory holds no .yaml or .yml file")
		}
		for _, n := range inDir {
			if leavesDir(p, n) {
				// What a link in the directory leads to was not reviewed with it, and an error
				// about it would quote what it holds (a token, say) into the plan's comment.
				diags.Errorf(diag.Pos{File: n}, "", "is a link leading outside %s: roster reads only the files inside the directories it is given", p).Hint =
					"copy the file into the directory, or name it on the command line"
				continue
			}
			names = append(names, n)
		}
	}
	var files []File
	var seen []os.FileInfo
	for _, name := range names {
		if info, err := os.Stat(name); err == nil {
			if slices.ContainsFunc(seen, func(s os.FileInfo) bool { return os.SameFile(s, info) }) {
				continue
			}
			seen = append(seen, info)
		}
		data, err := readFile(name)
		if err != nil {
			d := diags.Errorf(diag.Pos{File: name}, "", "%v", err)
			if errors.Is(err, errTooLarge) {
				d.Hint = "split the configuration into several files"
			}
			continue
		}
		files = append(files, File{Name: name, Data: data})
	}
	return files, diags
}

// leavesDir reports whether name, a file of directory dir, is a symbolic link whose target is
// outside dir, or cannot be resolved.
func leavesDir(dir, name string) bool {
	if info, err := os.Lstat(name); err != nil || info.Mode()&os.ModeSymlink == 0 {
		return false
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return true
	}
	target, err := filepath.EvalSymlinks(name)
	if err != nil {
		return true
	}
	rel, err := filepath.Rel(root, target)
	return err != nil || !filepath.IsLocal(rel)
}

// DirFiles returns the files Load reads from the directory dir: its *.yaml and *.yml files
// (the extension in any case), not those of subdirectories, in name order, each joined to dir.
func DirFiles(dir string) ([]string, error) {
	names, _, err := dirFiles(dir)
	return names, err
}

// dirFiles returns the files of dir Load reads, and the near misses: files whose name looks
// meant for roster but does not end in .yaml or .yml.
func dirFiles(dir string) (names, nearMisses []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		switch name := filepath.Join(dir, e.Name()); {
		case IsYAMLName(e.Name()):
			names = append(names, name)
		case isNearMissName(e.Name()):
			nearMisses = append(nearMisses, name)
		}
	}
	return names, nearMisses, nil
}

// IsYAMLName reports whether a file name ends in .yaml or .yml, in any case: the names roster
// reads as configuration.
func IsYAMLName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// isNearMissName reports whether a file name that IsYAMLName refuses looks meant as YAML all
// the same: a YAML name with something appended (teams.yaml.bak, users.yml~), or an extension
// starting with y one edit away from yaml or yml (.yam, .yaml2), or one swap away (.ymal).
func isNearMissName(name string) bool {
	lower := strings.ToLower(name)
	if strings.Contains(lower, ".yaml") || strings.Contains(lower, ".yml") {
		return true
	}
	ext := strings.TrimPrefix(filepath.Ext(lower), ".")
	if ext == "" {
		return false
	}
	for _, want := range []string{"yaml", "yml"} {
		if ext[0] == 'y' && levenshtein(ext, want) <= 1 || isSwap(ext, want) {
			return true
		}
	}
	return false
}

// isSwap reports whether a is b with two neighbouring letters swapped.
func isSwap(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i+1 < len(a); i++ {
		if a[i] != b[i] {
			return a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
		}
	}
	return false
}

var errTooLarge = fmt.Errorf("file is larger than %d MiB", MaxFileSize>>20)

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", secret.Reason(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %v", secret.Reason(err))
	}
	if len(data) > MaxFileSize {
		return nil, errTooLarge
	}
	return data, nil
}

// LoadFiles is Load for files already in memory. Secret files named by references are still
// looked up on disk, in the secrets directory of opts.Secrets.
func LoadFiles(files []File, opts Options) (*model.Config, diag.List) {
	l := &loader{opts: opts, roles: map[string]*roleDef{}, idps: map[string]*node{},
		teams: map[string]*teamDef{}, users: map[string]*userDef{}}
	for _, f := range files {
		root := parseFile(f.Name, f.Data, &l.diags)
		if root == nil {
			continue
		}
		l.files = append(l.files, f.Name)
		checkShape(root, &l.diags)
		if root.kind == mapNode {
			l.collect(root)
		} else {
			l.badRoot = true
		}
	}
	cfg := l.build()
	l.diags.Sort()
	if l.diags.HasErrors() {
		cfg = nil
	}
	return cfg, l.diags
}

// loader merges the files' sections and applies the rules that span fields and files.
type loader struct {
	opts  Options
	diags diag.List
	files []string
	// badRoot is set when a file is not a mapping: whether it meant to set the realm is unknown.
	badRoot bool

	realm        *node
	settings     *node
	tokenMappers *node
	roles        map[string]*roleDef
	roleOrder    []string
	idps         map[string]*node
	idpOrder     []*node
	registry     map[string]bool // nil when no file declares projects
	// projects and aliases suggest a registered project and a provider's alias for a name
	// that is neither, made once for every unknown name.
	projects, aliases *suggester
	teams             map[string]*teamDef
	users             map[string]*userDef // by lowercase username
	userOrder         []*userDef
}

type roleDef struct {
	name, desc *node
	item       *node
}

type teamDef struct {
	name string
	key  *node
	val  *node
	path string
}

type userDef struct {
	n        *node
	path     string
	username string // lowercase
	user     *model.User
	teams    []model.Grants
	// refs is true when the user's own grants or teams name any project, valid or not.
	refs bool
}

// posString renders where something was first defined, for "already defined at" messages.
func posString(n *node) string { return n.pos().String() }

// collect records one file's sections, reporting objects defined twice.
func (l *loader) collect(root *node) {
	if n := root.get("realm"); n != nil {
		if s, ok := n.str(); ok {
			switch first, _ := l.realm.str(); {
			case l.realm == nil:
				l.realm = n
			case s != first:
				l.diags.Errorf(n.pos(), "realm", "realm %q differs from realm %q set at %s", s, first, posString(l.realm)).Hint =
					"every file must name the same realm"
			}
		}
	}
	l.single(root, "settings", &l.settings)
	l.single(root, "tokenMappers", &l.tokenMappers)
	for i, it := range root.get("roles").itemsOf() {
		name, ok := it.get("name").str()
		if !ok {
			continue
		}
		if model.IsApplyRole(name) {
			what := "is part of the lock roster apply holds while it runs"
			if strings.HasPrefix(name, model.ApplyReleasedPrefix) {
				what = "is a name roster apply gives its lock when it is done"
			}
			l.diags.Errorf(it.get("name").pos(), fmt.Sprintf("roles[%d]", i), "role %q %s; a configuration cannot declare it", name, what).Hint =
				"remove it from roles"
			continue
		}
		def := &roleDef{name: it.get("name"), desc: it.get("description"), item: it}
		first, dup := l.roles[name]
		if !dup {
			l.roles[name] = def
			l.roleOrder = append(l.roleOrder, name)
			continue
		}
		d1, ok1 := first.desc.str()
		d2, ok2 := def.desc.str()
		switch {
		case ok1 && ok2 && d1 != d2:
			l.diags.Errorf(def.name.pos(), fmt.Sprintf("roles[%d]", i), "role %q is already defined at %s with another description", name, posString(first.name)).Hint =
				"keep one description"
		case !ok1 && ok2:
			first.desc = def.desc
		}
	}
	for i, it := range root.get("identityProviders").itemsOf() {
		alias, ok := it.get("alias").str()
		if !ok {
			continue
		}
		if first, dup := l.idps[alias]; dup {
			l.diags.Errorf(it.get("alias").pos(), fmt.Sprintf("identityProviders[%d].alias", i),
				"identity provider %q is already defined at %s", alias, posString(first.get("alias")))
			continue
		}
		l.idps[alias] = it
		l.idpOrder = append(l.idpOrder, it)
	}
	if n := root.get("projects"); n != nil && n.kind == seqNode {
		if l.registry == nil {
			l.registry = map[string]bool{}
		}
		for i, it := range n.kids {
			// A malformed name stays out of the registry, so it is never suggested.
			if s, ok := it.str(); ok && l.checkProjectName(it, s, fmt.Sprintf("projects[%d]", i)) {
				l.registry[s] = true
			}
		}
	}
	if n := root.get("teams"); n != nil && n.kind == mapNode {
		for k, v := range n.entries() {
			if first, dup := l.teams[k.value]; dup {
				l.diags.Errorf(k.pos(), "teams."+k.value, "team %q is already defined at %s", k.value, posString(first.key))
				continue
			}
			l.teams[k.value] = &teamDef{name: k.value, key: k, val: v, path: "teams." + k.value}
		}
	}
	for i, it := range root.get("users").itemsOf() {
		un := it.get("username")
		name, ok := un.str()
		if !ok || it.kind != mapNode {
			continue
		}
		key := strings.ToLower(name)
		path := fmt.Sprintf("users[%d]", i)
		if first, dup := l.users[key]; dup {
			d := l.diags.Errorf(un.pos(), path+".username", "user %q is already defined at %s", key, posString(first.n))
			if name != first.n.get("username").value {
				d.Hint = "Keycloak lowercases usernames, so they are the same user"
			}
			continue
		}
		u := &userDef{n: it, path: path, username: key}
		l.users[key] = u
		l.userOrder = append(l.userOrder, u)
	}
}

// single records a section that only one file may define.
func (l *loader) single(root *node, key string, first **node) {
	n := root.get(key)
	if n == nil {
		return
	}
	if *first != nil {
		l.diags.Errorf(root.keyNode(key).pos(), key, "%s is already defined at %s", key, posString(*first)).Hint =
			"define " + key + " in one file only"
		return
	}
	*first = n
}

// itemsOf returns a sequence's mapping items; nil for anything else.
func (n *node) itemsOf() []*node {
	return n.items()
}

// build applies the cross-field rules and assembles the model.
func (l *loader) build() *model.Config {
	cfg := &model.Config{Version: model.FormatVersion, Files: l.files}
	if realm, ok := l.realm.str(); ok {
		cfg.Realm = realm
	} else if len(l.files) > 0 && !l.badRoot {
		l.diags.Errorf(diag.Pos{File: l.files[0]}, "realm", "no file sets the realm").Hint = "add `realm: <name>` to one of the files"
	}
	cfg.Settings = l.buildSettings()
	cfg.Roles = l.buildRoles(cfg.Settings.CodeMie)
	cfg.TokenMappers = l.buildTokenMappers()
	cfg.IdentityProviders = l.buildIdentityProviders()
	if l.registry != nil {
		cfg.Projects = make([]string, 0, len(l.registry))
		for p := range l.registry {
			cfg.Projects = append(cfg.Projects, p)
		}
		slices.Sort(cfg.Projects)
	}
	l.projects, l.aliases = newSuggester(cfg.Projects), newSuggester(slices.Sorted(maps.Keys(l.idps)))
	for _, u := range l.userOrder {
		u.user = l.buildUser(u, cfg)
	}
	l.checkLinks()
	cfg.Teams = l.buildTeams()
	if len(l.userOrder) > 0 {
		cfg.Users = make([]model.User, 0, len(l.userOrder))
	}
	for _, u := range l.userOrder {
		l.finishUser(u)
		cfg.Users = append(cfg.Users, *u.user)
	}
	slices.SortFunc(cfg.Users, func(a, b model.User) int { return cmp.Compare(a.Username, b.Username) })
	return cfg
}

func (l *loader) buildSettings() model.Settings {
	s := model.Settings{Prune: model.PruneNone, MaxRemovals: model.DefaultMaxRemovals,
		MaxAccessLosses: model.DefaultMaxAccessLosses, OwnerAttribute: model.DefaultOwnerAttribute}
	n := l.settings
	if v, ok := n.get("unmanagedAttributePolicy").str(); ok {
		s.UnmanagedAttributePolicy = model.Policy(v)
		if p := s.UnmanagedAttributePolicy; p.Known() && !p.AdminWrites() {
			l.diags.Warnf(n.get("unmanagedAttributePolicy").pos(), "settings.unmanagedAttributePolicy",
				"with unmanagedAttributePolicy %s Keycloak does not store the applications attributes roster writes", v).Hint =
				"use ADMIN_EDIT"
		}
		if s.UnmanagedAttributePolicy == model.PolicyEnabled {
			l.diags.Warnf(n.get("unmanagedAttributePolicy").pos(), "settings.unmanagedAttributePolicy", "%s", model.EnabledPolicyRisk).Hint =
				"use ADMIN_EDIT: roster and identity-provider attribute importers still write the attributes, users cannot"
		}
	}
	if v, ok := n.get("prune").str(); ok {
		s.Prune = model.Prune(v)
	}
	if v, ok := n.get("maxRemovals").integer(); ok {
		s.MaxRemovals = v
		l.warnRaisedLimit(n.get("maxRemovals"), "maxRemovals", v, model.DefaultMaxRemovals, "remove up to %d users")
	}
	if v, ok := n.get("maxAccessLosses").integer(); ok {
		s.MaxAccessLosses = v
		l.warnRaisedLimit(n.get("maxAccessLosses"), "maxAccessLosses", v, model.DefaultMaxAccessLosses, "take access from up to %d users")
	}
	if v, ok := n.get("ownerAttribute").str(); ok {
		s.OwnerAttribute = v
		if reason := reservedAttribute(v); reason != "" {
			l.diags.Errorf(n.get("ownerAttribute").pos(), "settings.ownerAttribute", "ownerAttribute %q %s", v, reason).Hint =
				"choose another name, e.g. " + model.DefaultOwnerAttribute
		}
	}
	cm := n.get("codemie")
	if v, ok := cm.get("userManagement").boolean(); ok {
		s.UserManagement = v
	}
	s.CodeMie = model.DefaultCodeMie()
	for _, f := range []struct {
		key  string
		dest *string
	}{{"adminRole", &s.CodeMie.AdminRole}, {"developerRole", &s.CodeMie.DeveloperRole}, {"clientId", &s.CodeMie.ClientID}} {
		if v, ok := cm.get(f.key).str(); ok {
			*f.dest = v
		}
	}
	// These names decide what every access statement of the plan says, and they come from the
	// file a pull request edits: a non-default one is called out, so that a reviewer checks it
	// against CodeMie's own configuration.
	def := model.DefaultCodeMie()
	for _, f := range []struct {
		key, value, dflt, means, source string
	}{
		{"adminRole", s.CodeMie.AdminRole, def.AdminRole, "the realm role CodeMie makes platform Admin", "CodeMie's ADMIN_ROLE_NAME"},
		{"developerRole", s.CodeMie.DeveloperRole, def.DeveloperRole, "the realm role that lets users sign in", "a role of oauth2-proxy's allowed_roles"},
		{"clientId", s.CodeMie.ClientID, def.ClientID, "the client whose tokens CodeMie reads", "oauth2-proxy's client id"},
	} {
		if f.value != f.dflt {
			l.diags.Warnf(cm.get(f.key).pos(), "settings.codemie."+f.key, "%s is %q, not the default %q: what the plan says about CodeMie access holds only if it matches %s",
				f.means, f.value, f.dflt, f.source).Hint = "check it against " + f.source + " before trusting the plan"
		}
	}
	if s.CodeMie.AdminRole == s.CodeMie.DeveloperRole {
		l.diags.Errorf(cm.get("developerRole").pos(), "settings.codemie.developerRole",
			"adminRole and developerRole are both %q: every user CodeMie lets in would be an Admin", s.CodeMie.AdminRole).Hint =
			"name the realm roles CodeMie's ADMIN_ROLE_NAME and oauth2-proxy's allowed_roles use (default admin and developer)"
	}
	for _, f := range []struct{ key, value string }{{"adminRole", s.CodeMie.AdminRole}, {"developerRole", s.CodeMie.DeveloperRole}} {
		if model.IsApplyRole(f.value) {
			l.diags.Errorf(cm.get(f.key).pos(), "settings.codemie."+f.key,
				"%q is a realm role roster apply keeps for its lock, which roster never shows or maps", f.value).Hint =
				"name the realm roles CodeMie's ADMIN_ROLE_NAME and oauth2-proxy's allowed_roles use (default admin and developer)"
		}
	}
	return s
}

// warnRaisedLimit calls out a guard's limit set above its default. The limit lives in the file a
// pull request edits, so the same pull request could raise it together with the removals it is
// meant to stop; the warning puts that in front of the reviewer.
func (l *loader) warnRaisedLimit(n *node, key string, v, dflt int, allows string) {
	if v <= dflt {
		return
	}
	l.diags.Warnf(n.pos(), "settings."+key, "settings.%s is %d, above the default %d: a plan may "+allows+" without --allow-mass-removal",
		key, v, dflt, v).Hint = "check that raising it is intended; for one large change keep the default and pass --allow-mass-removal to that run"
}

func (l *loader) buildRoles(cm model.CodeMie) []model.RealmRole {
	roles := []model.RealmRole{}
	for _, name := range l.roleOrder {
		def := l.roles[name]
		desc, _ := def.desc.str()
		roles = append(roles, model.RealmRole{Name: name, Description: desc, Pos: def.item.pos()})
	}
	for _, r := range model.OwnedRoles() {
		if name := cm.RoleName(r); l.roles[name] == nil {
			roles = append(roles, model.RealmRole{Name: name})
		}
	}
	slices.SortFunc(roles, func(a, b model.RealmRole) int { return cmp.Compare(a.Name, b.Name) })
	return roles
}

func (l *loader) buildTokenMappers() *model.TokenMappers {
	n := l.tokenMappers
	if n == nil {
		return nil
	}
	tm := &model.TokenMappers{ClientScope: "profile", Pos: n.pos(),
		Attributes: model.CodeMieAttributes()}
	if v, ok := n.get("clientScope").str(); ok {
		tm.ClientScope = v
	}
	if v, _ := n.get("attributes").strings(); n.get("attributes") != nil {
		tm.Attributes = slices.Sorted(slices.Values(v))
	}
	return tm
}

func (l *loader) buildIdentityProviders() []model.IdentityProvider {
	var out []model.IdentityProvider
	for i, n := range l.idpOrder {
		path := fmt.Sprintf("identityProviders[%d]", i)
		idp := model.IdentityProvider{Pos: n.pos()}
		idp.Alias, _ = n.get("alias").str()
		if strings.ContainsFunc(idp.Alias, isSpace) {
			l.diags.Errorf(n.get("alias").pos(), path+".alias", "identity-provider alias %q contains white space, which Keycloak refuses", idp.Alias)
		}
		idp.DisplayName, _ = n.get("displayName").str()
		if v, ok := n.get("enabled").boolean(); ok {
			idp.Enabled = &v
		}
		idp.Tenant, _ = n.get("tenant").str()
		if idp.Tenant != "" {
			idp.Tenant = strings.ToLower(idp.Tenant)
			idp.Endpoints = model.EntraEndpoints(idp.Tenant)
		}
		custom, _ := n.get("allowCustomEndpoints").boolean()
		if custom && idp.Tenant == "" {
			l.diags.Warnf(n.get("allowCustomEndpoints").pos(), path+".allowCustomEndpoints",
				"allowCustomEndpoints has no effect on identity provider %q: only a provider with a tenant is held to Microsoft's hosts", idp.Alias).Hint =
				"remove it"
		}
		for key, field := range map[string]*string{"issuer": &idp.Endpoints.Issuer, "authorizationUrl": &idp.Endpoints.AuthorizationURL,
			"tokenUrl": &idp.Endpoints.TokenURL, "jwksUrl": &idp.Endpoints.JWKSURL, "logoutUrl": &idp.Endpoints.LogoutURL,
			"userInfoUrl": &idp.Endpoints.UserInfoURL} {
			v, ok := n.get(key).str()
			if !ok {
				continue
			}
			*field = v
			if idp.Tenant != "" && !custom && !model.MicrosoftEndpoint(key, v) {
				// Keycloak posts the client secret to tokenUrl and sends users to authorizationUrl:
				// a Microsoft tenant's must stay Microsoft's unless the file says otherwise.
				l.diags.Errorf(n.get(key).pos(), path+"."+key,
					"%s %q of identity provider %q is not on a Microsoft sign-in host, though the provider names a Microsoft tenant", key, v, idp.Alias).Hint =
					"remove it to use the endpoint derived from the tenant, or add `allowCustomEndpoints: true` to the provider if Keycloak is meant to send its client secret and users' sign-ins there"
			}
		}
		if idp.Tenant == "" && (idp.Endpoints.AuthorizationURL == "" || idp.Endpoints.TokenURL == "") {
			l.diags.Errorf(n.pos(), path, "identity provider %q needs a tenant, or an authorizationUrl and a tokenUrl", idp.Alias).Hint =
				"for Microsoft Entra ID write `tenant: <tenant id>`; roster derives the endpoints from it"
		}
		idp.ClientID, _ = n.get("clientId").str()
		idp.ClientSecret = l.secretRef(n.get("clientSecret"), path+".clientSecret")
		idp.Scopes, _ = n.get("scopes").strings()
		sync, _ := n.get("syncMode").str()
		idp.SyncMode = model.SyncMode(sync)
		names := map[string]*node{}
		for j, m := range n.get("mappers").itemsOf() {
			mp := l.buildMapper(m, fmt.Sprintf("%s.mappers[%d]", path, j), n.get("syncMode"))
			if first, dup := names[mp.Name]; dup && mp.Name != "" {
				l.diags.Errorf(m.get("name").pos(), fmt.Sprintf("%s.mappers[%d].name", path, j),
					"mapper %q is already defined at %s", mp.Name, posString(first))
			}
			names[mp.Name] = m.get("name")
			idp.Mappers = append(idp.Mappers, mp)
		}
		out = append(out, idp)
	}
	slices.SortFunc(out, func(a, b model.IdentityProvider) int { return cmp.Compare(a.Alias, b.Alias) })
	return out
}

// buildMapper builds one mapper of a provider whose syncMode node is providerSync (nil when the
// provider leaves it alone).
func (l *loader) buildMapper(m *node, path string, providerSync *node) model.IdentityProviderMapper {
	var mp model.IdentityProviderMapper
	mp.Name, _ = m.get("name").str()
	typ, _ := m.get("type").str()
	mp.Type = model.IdPMapperKind(typ)
	mp.Role, _ = m.get("role").str()
	mp.Claim, _ = m.get("claim").str()
	mp.Attribute, _ = m.get("attribute").str()
	sync, _ := m.get("syncMode").str()
	mp.SyncMode = model.SyncMode(sync)
	switch mp.Type {
	case model.HardcodedRole:
		if mp.Role == "" {
			l.diags.Errorf(m.pos(), path, "hardcoded-role mapper %q needs a role", mp.Name).Hint = "add `role: developer`"
		}
	case model.AttributeImporter:
		if mp.Claim == "" || mp.Attribute == "" {
			l.diags.Errorf(m.pos(), path, "attribute-importer mapper %q needs a claim and an attribute", mp.Name)
		}
		inherited, _ := providerSync.str()
		switch {
		case !model.IsCodeMieAttribute(mp.Attribute):
		case mp.SyncMode == model.SyncForce:
			l.diags.Warnf(m.get("syncMode").pos(), path+".syncMode",
				"mapper %q rewrites %s at every login (FORCE), overwriting what roster sets", mp.Name, mp.Attribute).Hint =
				"use syncMode IMPORT"
		case mp.SyncMode.Effective(model.SyncMode(inherited)) == model.SyncForce:
			l.diags.Warnf(m.pos(), path+".syncMode",
				"mapper %q inherits the provider's syncMode FORCE: it rewrites %s at every login, overwriting what roster sets", mp.Name, mp.Attribute).Hint =
				"give the mapper syncMode: IMPORT"
		}
	}
	return mp
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// reservedAttribute says why an attribute name cannot be set verbatim, or "".
func reservedAttribute(name string) string {
	switch {
	case model.IsCodeMieAttribute(name):
		return "is written by roster from projects and external"
	case model.IsUserField(name):
		return "is a user field, not an attribute"
	}
	return ""
}

// secretRef reads a secret reference and reports what package secret refuses: always a
// reference no configuration may hold, with a secrets directory a file leading out of it, and
// with CheckSecrets whatever stops it from resolving. extra names the other keys the reference
// may have (temporary, for a password).
func (l *loader) secretRef(n *node, path string, extra ...string) *model.SecretRef {
	if n == nil || n.kind != mapNode {
		return nil
	}
	keys := len(n.kids) / 2
	for _, k := range extra {
		if n.get(k) != nil {
			keys--
		}
	}
	env, envOK := n.get("env").str()
	file, fileOK := n.get("file").str()
	if len(extra) > 0 && envOK == fileOK {
		// The schema cannot say "exactly one of env and file" next to other keys; say it here.
		l.diags.Errorf(n.pos(), path, "%s needs exactly one of env or file", path[strings.LastIndexByte(path, '.')+1:]).Hint =
			"write {env: ROSTER_SECRET_<NAME>} or {file: PATH}"
		return nil
	}
	var ref *model.SecretRef
	key := "env"
	switch {
	case envOK && keys == 1:
		ref = &model.SecretRef{Env: env}
		if secret.Check(*ref) != nil {
			return ref // the schema's pattern reported it, with package secret's words
		}
	case fileOK && keys == 1:
		ref, key = &model.SecretRef{File: file}, "file"
	default:
		return nil
	}
	var err error
	if l.opts.CheckSecrets {
		_, err = l.opts.Secrets.Resolve(*ref)
	} else {
		err = l.opts.Secrets.Locate(*ref)
	}
	var e *secret.Error
	if errors.As(err, &e) {
		l.diags.Errorf(n.get(key).pos(), path+"."+key, "%s", e.Problem).Hint = e.Hint
	}
	return ref
}

// checkProjectName reports a malformed project name.
func (l *loader) checkProjectName(n *node, s, path string) bool {
	problem, hint := checkProject(s)
	if problem == "" {
		return true
	}
	l.diags.Errorf(n.pos(), path, "%s", problem).Hint = hint
	return false
}

// grants reads project grants, checking each name and, with a registry, that it is known.
func (l *loader) grants(n *node, path string) (g model.Grants, refs bool) {
	for _, side := range []struct {
		key  string
		dest *[]string
	}{{"member", &g.Member}, {"admin", &g.Admin}} {
		vals, nodes := n.get(side.key).strings()
		refs = refs || len(vals) > 0
		for i, s := range vals {
			p := fmt.Sprintf("%s.%s[%d]", path, side.key, i)
			if !l.checkProjectName(nodes[i], s, p) {
				continue
			}
			if l.registry != nil && !l.registry[s] {
				d := l.diags.Errorf(nodes[i].pos(), p, "project %q is not in projects", s)
				if m := l.projects.suggest(s); m != "" {
					d.Hint = fmt.Sprintf("did you mean %q?", m)
				} else {
					d.Hint = "add it to projects"
				}
				continue
			}
			*side.dest = append(*side.dest, s)
		}
	}
	g.Member, g.Admin = model.NormalizeProjects(g.Member), model.NormalizeProjects(g.Admin)
	return g, refs
}

// buildUser reads one user and checks its own fields.
func (l *loader) buildUser(d *userDef, cfg *model.Config) *model.User {
	n, path := d.n, d.path
	u := &model.User{Username: d.username, Pos: n.pos()}
	if problem, hint := checkUsername(n.get("username").value); problem != "" {
		l.diags.Errorf(n.get("username").pos(), path+".username", "%s", problem).Hint = hint
	} else if why := usernameLookalike(n.get("username").value); why != "" {
		l.diags.Warnf(n.get("username").pos(), path+".username", "%s", why).Hint =
			"write the name with visible Latin letters and digits only, so that it cannot pass for another"
	}
	if v, ok := n.get("email").str(); ok {
		if problem := checkEmail(v); problem != "" {
			l.diags.Errorf(n.get("email").pos(), path+".email", "%s", problem).Hint =
				"write an address like name@example.com"
		}
		v = strings.ToLower(v)
		u.Email = &v
	}
	for _, f := range []struct {
		key  string
		dest **string
	}{{"firstName", &u.FirstName}, {"lastName", &u.LastName}} {
		if v, ok := n.get(f.key).str(); ok {
			if problem := checkPersonName(f.key, v); problem != "" {
				l.diags.Errorf(n.get(f.key).pos(), path+"."+f.key, "%s", problem)
			}
			*f.dest = &v
		}
	}
	if v, ok := n.get("enabled").boolean(); ok {
		u.Enabled = &v
	}
	if v, ok := n.get("role").str(); ok && (v == string(model.RoleAdmin) || v == string(model.RoleDeveloper)) {
		u.Role = model.Role(v)
	}
	u.External, _ = n.get("external").boolean()
	u.Projects, d.refs = l.grants(n.get("projects"), path+".projects")
	if a := n.get("attributes"); a != nil && a.kind == mapNode {
		u.Attributes = map[string][]string{}
		for k, v := range a.entries() {
			l.checkAttribute(k, v, path+".attributes."+k.value, cfg.Settings.OwnerAttribute)
			vals, _ := v.strings()
			u.Attributes[k.value] = vals
		}
	}
	if ra := n.get("requiredActions"); ra != nil && ra.kind == seqNode {
		vals, _ := ra.strings()
		vals = slices.Sorted(slices.Values(vals))
		if vals == nil {
			vals = []string{}
		}
		u.RequiredActions = &vals
	}
	if pw := n.get("initialPassword"); pw != nil {
		if ref := l.secretRef(pw, path+".initialPassword", "temporary"); ref != nil {
			u.InitialPassword = &model.InitialPassword{SecretRef: *ref, Temporary: true}
			if t, ok := pw.get("temporary").boolean(); ok {
				u.InitialPassword.Temporary = t
			}
		}
	}
	for i, f := range n.get("federatedIdentities").itemsOf() {
		var fi model.FederatedIdentity
		fi.Provider, _ = f.get("provider").str()
		fi.UserID, _ = f.get("userId").str()
		fi.UserName, _ = f.get("userName").str()
		if fi.Provider == "" || fi.UserID == "" {
			continue
		}
		fpath := fmt.Sprintf("%s.federatedIdentities[%d]", path, i)
		if len(l.idps) > 0 && l.idps[fi.Provider] == nil {
			w := l.diags.Warnf(f.get("provider").pos(), fpath+".provider", "identity provider %q is not among identityProviders", fi.Provider)
			if m := l.aliases.suggest(fi.Provider); m != "" {
				w.Hint = fmt.Sprintf("did you mean %q?", m)
			}
		}
		if j := slices.IndexFunc(u.FederatedIdentities, func(o model.FederatedIdentity) bool { return o.Provider == fi.Provider }); j >= 0 {
			l.diags.Errorf(f.get("provider").pos(), fpath+".provider", "user %q is already linked to %q: Keycloak keeps one link per provider", u.Username, fi.Provider)
			continue
		}
		u.FederatedIdentities = append(u.FederatedIdentities, fi)
	}
	slices.SortFunc(u.FederatedIdentities, func(a, b model.FederatedIdentity) int { return cmp.Compare(a.Provider, b.Provider) })
	return u
}

// checkAttribute applies the rules for one verbatim attribute.
func (l *loader) checkAttribute(k, v *node, path, owner string) {
	name := k.value
	switch lower := strings.ToLower(name); {
	case lower == model.AttrUserType:
		l.diags.Errorf(k.pos(), path, "attribute %q cannot be set directly: roster writes it from external", name).Hint =
			"set `external: true` on the user"
	case model.IsCodeMieAttribute(name):
		l.diags.Errorf(k.pos(), path, "attribute %q cannot be set directly: roster writes it from projects", name).Hint =
			"list the projects under projects.member or projects.admin"
	case name == owner && !isOwnerMark(v):
		l.diags.Errorf(k.pos(), path, "attribute %q is roster's ownership marker (settings.ownerAttribute): its only value may be \"true\"", name).Hint =
			"write [\"true\"] to adopt the user, so that prune may act on it once it leaves the files; or choose another attribute name"
	case lower == "password" || lower == "initialpassword":
		l.diags.Errorf(k.pos(), path, "plaintext passwords are not allowed: reference it with {env: ROSTER_SECRET_<NAME>} or {file: PATH}").Hint =
			"use initialPassword: {env: ROSTER_SECRET_<NAME>}"
	case reservedAttribute(name) != "":
		l.diags.Errorf(k.pos(), path, "attribute %q %s", name, reservedAttribute(name)).Hint =
			fmt.Sprintf("set it with the user's %s field", name)
	}
	vals, nodes := v.strings()
	for i, s := range vals {
		switch {
		case strings.TrimSpace(s) == "":
			l.diags.Errorf(nodes[i].pos(), fmt.Sprintf("%s[%d]", path, i), "attribute %q has a blank value, which Keycloak does not store", name)
		case len([]rune(s)) > maxAttrValueLen:
			l.diags.Errorf(nodes[i].pos(), fmt.Sprintf("%s[%d]", path, i), "attribute %q has a value of %d characters: Keycloak stores at most %d",
				name, len([]rune(s)), maxAttrValueLen)
		}
	}
}

// isOwnerMark reports whether v is exactly the ownership marker's value, ["true"]: declaring it
// adopts a user roster did not create (roster export --adopt writes it).
func isOwnerMark(v *node) bool {
	vals, _ := v.strings()
	return slices.Equal(vals, []string{"true"})
}

// checkLinks reports two users linked to the same account at one identity provider.
func (l *loader) checkLinks() {
	type link struct{ provider, userID string }
	seen := map[link]*userDef{}
	for _, d := range l.userOrder {
		for i, f := range d.n.get("federatedIdentities").itemsOf() {
			p, _ := f.get("provider").str()
			id, ok := f.get("userId").str()
			if !ok || p == "" {
				continue
			}
			k := link{p, id}
			if first, dup := seen[k]; dup && first != d {
				l.diags.Errorf(f.get("userId").pos(), fmt.Sprintf("%s.federatedIdentities[%d].userId", d.path, i),
					"%s account %q is already linked to user %q at %s", p, id, first.username, posString(first.n))
				continue
			}
			seen[k] = d
		}
	}
	emails := map[string]*userDef{}
	for _, d := range l.userOrder {
		if d.user.Email == nil {
			continue
		}
		e := *d.user.Email
		if first, dup := emails[e]; dup {
			l.diags.Errorf(d.n.get("email").pos(), d.path+".email", "email %q is already used by user %q at %s", e, first.username, posString(first.n)).Hint =
				"Keycloak compares emails ignoring case and refuses duplicates"
			continue
		}
		emails[e] = d
	}
}

// buildTeams checks teams and hands their grants to their members.
func (l *loader) buildTeams() []model.Team {
	var usernames *suggester // made at the first unknown member
	var teams []model.Team
	for _, td := range l.teams {
		t := model.Team{Name: td.name, Pos: td.key.pos()}
		var refs bool
		t.Grants, refs = l.grants(td.val.get("projects"), td.path+".projects")
		vals, nodes := td.val.get("members").strings()
		listed := make(map[string]bool, len(vals))
		for i, m := range vals {
			key := strings.ToLower(m)
			u := l.users[key]
			if u == nil {
				d := l.diags.Errorf(nodes[i].pos(), fmt.Sprintf("%s.members[%d]", td.path, i), "team %q lists %q, who is not a declared user", td.name, m)
				if usernames == nil {
					names := make([]string, 0, len(l.userOrder))
					for _, u := range l.userOrder {
						names = append(names, u.username)
					}
					usernames = newSuggester(names)
				}
				if s := usernames.suggest(key); s != "" {
					d.Hint = fmt.Sprintf("did you mean %q?", s)
				} else {
					d.Hint = "add the user under users"
				}
				continue
			}
			if listed[key] {
				continue
			}
			listed[key] = true
			t.Members = append(t.Members, key)
			u.user.Teams = append(u.user.Teams, td.name)
			u.teams = append(u.teams, t.Grants)
			u.refs = u.refs || refs
		}
		slices.Sort(t.Members)
		teams = append(teams, t)
	}
	slices.SortFunc(teams, func(a, b model.Team) int { return cmp.Compare(a.Name, b.Name) })
	return teams
}

// finishUser computes the effective access and checks what depends on it.
func (l *loader) finishUser(d *userDef) {
	u := d.user
	slices.Sort(u.Teams)
	u.Access = model.NewAccess(u.Role, u.External, append([]model.Grants{u.Projects}, d.teams...)...)
	u.Access.Disabled = u.Enabled != nil && !*u.Enabled
	if joined := strings.Join(u.Access.Projects, ","); len(joined) > maxAttrValueLen {
		l.diags.Errorf(u.Pos, d.path, "user %q has %d projects, %d characters once joined into applications: Keycloak stores at most %d",
			u.Username, len(u.Access.Projects), len(joined), maxAttrValueLen).Hint = "grant fewer projects or use shorter project names"
	}
	if u.Role == model.RoleDeveloper && len(u.Access.Projects) == 0 && !d.refs {
		l.diags.Warnf(u.Pos, d.path, "user %q is a developer with no projects: they can sign in but open no project", u.Username).Hint =
			"grant projects under projects, or through a team"
	}
}
