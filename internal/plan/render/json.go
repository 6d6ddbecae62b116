package render

import (
	"cmp"
	"encoding/json"
	"io"
	"maps"
	"slices"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/plan"
)

// JSONPlan is the JSON plan: a contract with the tools that read `roster plan -json` and saved
// plans. Every field is always present (empty lists as []), and changes keep the plan's order,
// which is the order apply performs them in; map keys are sorted by encoding/json.
type JSONPlan struct {
	// FormatVersion is output.PlanDocument's version.
	FormatVersion string `json:"format_version"`
	// Realm is the realm the plan is for.
	Realm string `json:"realm"`
	// Prune is the prune mode the plan was made with: "none", "disable" or "delete".
	Prune string `json:"prune"`
	// Files are the configuration files the plan was made from, in load order, named as given.
	Files []string `json:"files"`
	// Changes are the changes in apply order.
	Changes []JSONChange `json:"changes"`
	// Warnings and Notes are the plan's warnings and informational lines, as text.
	Warnings []string `json:"warnings"`
	Notes    []string `json:"notes"`
	// Prerequisites are the realm prerequisites of CodeMie's reading that fail, errors first.
	Prerequisites []JSONPrerequisite `json:"prerequisites"`
	// Summary counts the changes.
	Summary JSONSummary `json:"summary"`
	// Diagnostics are the configuration's warnings, each with its position (file, line,
	// column) and path; [] in a saved plan, which holds its files instead.
	Diagnostics []diag.JSON `json:"diagnostics"`
}

// JSONPrerequisite is a failing prerequisite: severity "error" or "warning", what fails, and the
// fix.
type JSONPrerequisite struct {
	Severity string `json:"severity"`
	Problem  string `json:"problem"`
	Fix      string `json:"fix"`
}

// JSONSummary counts the changes: add = create, change = update + rename, remove = disable +
// delete.
type JSONSummary struct {
	Add        int  `json:"add"`
	Change     int  `json:"change"`
	Remove     int  `json:"remove"`
	HasChanges bool `json:"has_changes"`
}

// JSONChange is one change.
type JSONChange struct {
	// Address is the stable address, "kind.name": "realm.unmanagedAttributePolicy",
	// "role.developer", "user.bob".
	Address string `json:"address"`
	// Kind is "realm", "role", "token_mapper", "identity_provider", "identity_provider_mapper" or
	// "user"; Name is the part of Address after the kind.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Actions is the action as a one-element list, as terraform's JSON plan has it: ["create"],
	// ["update"], ["rename"], ["disable"] or ["delete"]. A rename's name is the new username;
	// before.username is the old one.
	Actions []string `json:"actions"`
	// Before and After are the object before and after apply, null on the side that does not
	// exist: a policy name (string) for realm.unmanagedAttributePolicy, a JSONRole for roles, a
	// JSONTokenMapper for token mappers, a JSONIdentityProvider for identity providers, a
	// JSONIdentityProviderMapper for their mappers, a JSONUser for users.
	Before any `json:"before"`
	After  any `json:"after"`
	// Fields are the differences, with typed values.
	Fields []JSONField `json:"fields"`
	// CodeMie is what the change means in CodeMie; users only, null otherwise.
	CodeMie *JSONCodeMie `json:"codemie"`
	// Reason says why the change is planned, when the plan says; "" otherwise.
	Reason string `json:"reason"`
}

// JSONField is one difference. Type is the type of its values, one of plan.ValueTypes:
// "string" and "name" are JSON strings (free text, and a name from a fixed set), "boolean" is
// true or false, "list", "values" (an attribute's values) and "roles" are lists of strings,
// "link" is a JSONIdentity, and "secret" marks a Sensitive field. Before and After are values
// of that type, or null when absent: Before is null for create, and both are null for a secret.
// Source says where a Sensitive value comes from ("env ROSTER_SECRET_ENTRA", "file
// entra.secret"); "" otherwise. A secret's value is never in a plan.
type JSONField struct {
	Name      string          `json:"name"`
	Type      string          `json:"type"`
	Before    json.RawMessage `json:"before"`
	After     json.RawMessage `json:"after"`
	Sensitive bool            `json:"sensitive"`
	Source    string          `json:"source"`
}

// JSONCodeMie is a user change in CodeMie's terms.
type JSONCodeMie struct {
	// Before and After summarise the access: "Regular User (payments)", "Admin",
	// "cannot sign in", "External User: Regular User (x)"; After is "removed" for removals.
	Before string `json:"before"`
	After  string `json:"after"`
	// AccessChanged is false when CodeMie grants the same before and after.
	AccessChanged bool `json:"access_changed"`
	// FormatOnly is true when the change only re-encodes unchanged access.
	FormatOnly bool `json:"format_only"`
	// BeforeAccess is null for create; AfterAccess is null for removals.
	BeforeAccess *JSONAccess `json:"before_access"`
	AfterAccess  *JSONAccess `json:"after_access"`
}

// JSONAccess is CodeMie access: the owned realm role ("" when none), the projects the user
// opens (administered ones included) and administers, and whether the user is external.
type JSONAccess struct {
	Role           string   `json:"role"`
	Projects       []string `json:"projects"`
	Admin          []string `json:"admin"`
	External       bool     `json:"external"`
	ServiceAccount bool     `json:"service_account"`
	// Refused says why CodeMie refuses the sign-in; Unknown why roster cannot tell what CodeMie
	// reads. Both are empty otherwise.
	Refused string `json:"refused"`
	Unknown string `json:"unknown"`
}

// JSONRole is a realm role.
type JSONRole struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// JSONTokenMapper is a User Attribute token mapper: the configuration keys roster manages, and
// the client scope that holds it. Keys roster does not manage are left out.
type JSONTokenMapper struct {
	ClientScope    string `json:"client_scope"`
	Name           string `json:"name"`
	ProtocolMapper string `json:"protocol_mapper"`
	Attribute      string `json:"user_attribute"`
	Claim          string `json:"claim_name"`
	JSONType       string `json:"json_type"`
	Multivalued    bool   `json:"multivalued"`
	IDToken        bool   `json:"id_token"`
	AccessToken    bool   `json:"access_token"`
	UserInfo       bool   `json:"userinfo"`
}

func jsonTokenMapper(scope string, m *model.LiveTokenMapper) JSONTokenMapper {
	return JSONTokenMapper{ClientScope: scope, Name: m.Name, ProtocolMapper: m.ProtocolMapper, Attribute: m.Attribute,
		Claim: m.Claim, JSONType: m.JSONType, Multivalued: m.Multivalued, IDToken: m.IDToken,
		AccessToken: m.AccessToken, UserInfo: m.UserInfo}
}

// JSONIdentityProvider is an identity provider: the fields roster manages. ClientSecret is
// "(sensitive)" on the after side of a change that sends the secret, and absent otherwise;
// ClientSecretSource then says where the secret comes from ("env ROSTER_SECRET_ENTRA").
type JSONIdentityProvider struct {
	Alias              string `json:"alias"`
	DisplayName        string `json:"display_name"`
	Enabled            bool   `json:"enabled"`
	ProviderID         string `json:"provider_id"`
	ClientID           string `json:"client_id"`
	Issuer             string `json:"issuer"`
	AuthorizationURL   string `json:"authorization_url"`
	TokenURL           string `json:"token_url"`
	JWKSURL            string `json:"jwks_url"`
	LogoutURL          string `json:"logout_url"`
	UserInfoURL        string `json:"user_info_url"`
	DefaultScope       string `json:"default_scope"`
	SyncMode           string `json:"sync_mode"`
	ClientSecret       string `json:"client_secret,omitempty"`
	ClientSecretSource string `json:"client_secret_source,omitempty"`
}

func jsonIdentityProvider(p *model.LiveIdentityProvider) JSONIdentityProvider {
	return JSONIdentityProvider{Alias: p.Alias, DisplayName: p.DisplayName, Enabled: p.Enabled, ProviderID: p.ProviderID,
		ClientID: p.ClientID, Issuer: p.Issuer, AuthorizationURL: p.AuthorizationURL, TokenURL: p.TokenURL,
		JWKSURL: p.JWKSURL, LogoutURL: p.LogoutURL, UserInfoURL: p.UserInfoURL, DefaultScope: p.DefaultScope, SyncMode: p.SyncMode}
}

// jsonIdentityProviderAfter is the provider after the change.
func jsonIdentityProviderAfter(ic *plan.IdentityProviderChange) JSONIdentityProvider {
	if ic.New != nil {
		j := jsonIdentityProvider(ic.New)
		if ic.Secret != nil {
			j.ClientSecret, j.ClientSecretSource = sensitive, ic.Secret.String()
		}
		return j
	}
	after := *ic.Before
	u := ic.Update
	if u.DisplayName != nil {
		after.DisplayName = *u.DisplayName
	}
	if u.Enabled != nil {
		after.Enabled = *u.Enabled
	}
	config := maps.Clone(after.Config)
	if config == nil {
		config = map[string]string{}
	}
	maps.Copy(config, u.Config)
	after.SetConfig(config)
	j := jsonIdentityProvider(&after)
	if ic.Secret != nil {
		j.ClientSecret, j.ClientSecretSource = sensitive, ic.Secret.String()
	}
	return j
}

// JSONIdentityProviderMapper is a mapper of an identity provider: Type is Keycloak's mapper id,
// Role is set for hardcoded-role mappers, Claim and UserAttribute for attribute importers.
type JSONIdentityProviderMapper struct {
	IdentityProvider string `json:"identity_provider"`
	Name             string `json:"name"`
	Type             string `json:"type"`
	Role             string `json:"role"`
	Claim            string `json:"claim"`
	UserAttribute    string `json:"user_attribute"`
	SyncMode         string `json:"sync_mode"`
}

func jsonIdPMapper(alias string, m *model.LiveIdentityProviderMapper) JSONIdentityProviderMapper {
	return JSONIdentityProviderMapper{IdentityProvider: alias, Name: m.Name, Type: m.Type, Role: m.Role, Claim: m.Claim,
		UserAttribute: m.Attribute, SyncMode: m.SyncMode}
}

// JSONUser is a user. Before is the user as read, every field present. After is the user as the
// configuration declares it: a field left out is one roster leaves alone. Attributes in Before
// are all attributes as stored; in After, those roster writes with a value (CodeMie's as
// encoded, the declared ones, and the ownership marker on create) — attributes roster removes
// appear in Fields with the value (none).
type JSONUser struct {
	Username            string              `json:"username"`
	ID                  string              `json:"id,omitempty"`
	Email               *string             `json:"email,omitempty"`
	FirstName           *string             `json:"first_name,omitempty"`
	LastName            *string             `json:"last_name,omitempty"`
	Enabled             *bool               `json:"enabled,omitempty"`
	Roles               []string            `json:"roles"`
	Attributes          map[string][]string `json:"attributes"`
	RequiredActions     *[]string           `json:"required_actions,omitempty"`
	FederatedIdentities []JSONIdentity      `json:"federated_identities"`
	FederationLink      string              `json:"federation_link,omitempty"`
	// InitialPassword is "(sensitive)" when the user is created with a password, else absent;
	// InitialPasswordSource then says where it comes from ("file carol.password").
	InitialPassword       string `json:"initial_password,omitempty"`
	InitialPasswordSource string `json:"initial_password_source,omitempty"`
}

// JSONIdentity is a link to an identity-provider account.
type JSONIdentity struct {
	Provider string `json:"provider"`
	UserID   string `json:"user_id"`
	UserName string `json:"user_name"`
}

// NewJSONPlan converts a plan to its JSON form.
func NewJSONPlan(p *plan.Plan) *JSONPlan {
	s := p.Summary()
	jp := &JSONPlan{
		FormatVersion: output.PlanDocument.Version(),
		Realm:         p.Realm,
		Prune:         string(p.Prune),
		Files:         nonNil(p.Files),
		Changes:       make([]JSONChange, 0, len(p.Changes)),
		Warnings:      nonNil(p.Warnings),
		Notes:         nonNil(p.Notes),
		Summary:       JSONSummary{Add: s.Add, Change: s.Change, Remove: s.Remove, HasChanges: p.HasChanges()},
		Prerequisites: make([]JSONPrerequisite, 0, len(p.Prerequisites)),
		Diagnostics:   []diag.JSON{},
	}
	for _, pr := range p.Prerequisites {
		sev := "warning"
		if pr.Error {
			sev = "error"
		}
		jp.Prerequisites = append(jp.Prerequisites, JSONPrerequisite{Severity: sev, Problem: pr.Problem, Fix: pr.Fix})
	}
	for _, c := range p.Changes {
		jc := JSONChange{
			Address: c.Addr.String(),
			Kind:    string(c.Addr.Kind),
			Name:    c.Addr.Name,
			Actions: []string{c.Action.String()},
			Fields:  make([]JSONField, 0, len(c.Fields)),
			Reason:  c.Reason,
		}
		for _, f := range c.Fields {
			jc.Fields = append(jc.Fields, jsonField(f))
		}
		switch {
		case c.Policy != nil:
			jc.Before, jc.After = string(c.Policy.Before), string(c.Policy.After)
		case c.Role != nil:
			if c.Role.Before != nil {
				jc.Before = JSONRole{Name: c.Role.Before.Name, Description: c.Role.Before.Description}
			}
			jc.After = JSONRole{Name: c.Role.After.Name, Description: c.Role.After.Description}
		case c.TokenMapper != nil:
			if c.TokenMapper.Before != nil {
				jc.Before = jsonTokenMapper(c.TokenMapper.Scope, c.TokenMapper.Before)
			}
			jc.After = jsonTokenMapper(c.TokenMapper.Scope, &c.TokenMapper.After)
		case c.IdentityProvider != nil:
			if c.IdentityProvider.Before != nil {
				jc.Before = jsonIdentityProvider(c.IdentityProvider.Before)
			}
			jc.After = jsonIdentityProviderAfter(c.IdentityProvider)
		case c.IdPMapper != nil:
			if c.IdPMapper.Before != nil {
				jc.Before = jsonIdPMapper(c.IdPMapper.Alias, c.IdPMapper.Before)
			}
			jc.After = jsonIdPMapper(c.IdPMapper.Alias, &c.IdPMapper.After)
		case c.User != nil:
			if c.User.Before != nil {
				jc.Before = jsonLiveUser(c.User.Before)
			}
			if c.User.After != nil {
				jc.After = jsonDesiredUser(c.User)
			}
		}
		if a := c.Access; a != nil {
			jc.CodeMie = &JSONCodeMie{
				Before: a.Before.Summary(), After: a.After.Summary(),
				AccessChanged: a.Changed(), FormatOnly: c.FormatOnly,
			}
			if c.Action != plan.Create {
				jc.CodeMie.BeforeAccess = access(a.Before)
			}
			if a.Removed {
				jc.CodeMie.After = "removed"
			} else {
				jc.CodeMie.AfterAccess = access(a.After)
			}
		}
		jp.Changes = append(jp.Changes, jc)
	}
	return jp
}

// JSON writes the plan as an indented JSONPlan followed by a newline, with the configuration's
// diagnostics.
func JSON(w io.Writer, p *plan.Plan, diags diag.List) error {
	jp := NewJSONPlan(p)
	jp.Diagnostics = diags.JSON()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jp)
}

func jsonLiveUser(u *model.LiveUser) JSONUser {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	ra := nonNil(u.RequiredActions)
	return JSONUser{
		Username: u.Username, ID: u.ID,
		Email: &u.Email, FirstName: &u.FirstName, LastName: &u.LastName, Enabled: &u.Enabled,
		Roles:               roles,
		Attributes:          attributes(u.Attributes),
		RequiredActions:     &ra,
		FederatedIdentities: identities(u.FederatedIdentities),
		FederationLink:      u.FederationLink,
	}
}

func jsonDesiredUser(uc *plan.UserChange) JSONUser {
	u := uc.After
	attrs := u.Access.Attributes()
	maps.Copy(attrs, u.Attributes)
	if uc.New != nil {
		attrs = uc.New.Attributes
	}
	ju := JSONUser{
		Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Enabled: u.Enabled,
		Roles:               []string{string(u.Role)},
		Attributes:          attributes(attrs),
		RequiredActions:     u.RequiredActions,
		FederatedIdentities: identities(u.FederatedIdentities),
	}
	if u.InitialPassword != nil {
		ju.InitialPassword, ju.InitialPasswordSource = sensitive, u.InitialPassword.SecretRef.String()
	}
	return ju
}

// attributes copies attributes without absent ones, so that both sides show a value list per
// present attribute and nothing for absent ones.
func attributes(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		if len(v) > 0 {
			out[k] = slices.Clone(v)
		}
	}
	return out
}

func identities(links []model.FederatedIdentity) []JSONIdentity {
	out := make([]JSONIdentity, 0, len(links))
	for _, l := range links {
		out = append(out, JSONIdentity(l))
	}
	slices.SortFunc(out, func(a, b JSONIdentity) int { return cmp.Compare(a.Provider, b.Provider) })
	return out
}

func access(a model.Access) *JSONAccess {
	return &JSONAccess{Role: string(a.Role), Projects: nonNil(a.Projects), Admin: nonNil(a.Admin), External: a.External,
		ServiceAccount: a.ServiceAccount, Refused: a.Refused, Unknown: a.Unknown}
}

// nonNil returns s, or an empty slice for nil, so that JSON shows [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
