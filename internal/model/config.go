package model

import (
	"net/url"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/diag"
)

// FormatVersion is the desired-state format version this build reads (the top-level `version`).
const FormatVersion = 1

// Role is a realm role that grants sign-in to CodeMie. roster adds and removes only these two;
// every other realm role a user holds (default-roles-*, offline_access, …) is left alone.
type Role string

const (
	// RoleAdmin makes the user a CodeMie platform Admin.
	RoleAdmin Role = "admin"
	// RoleDeveloper lets the user sign in as a standard user; projects come from attributes.
	RoleDeveloper Role = "developer"
)

// OwnedRoles are the realm roles roster manages on users, in a fixed order: admin first, the
// order CodeMie reads them in (CodeMie.Read). Each call returns a new slice.
func OwnedRoles() []Role { return []Role{RoleAdmin, RoleDeveloper} }

// ApplyLockRole is the realm role roster apply holds as its lock on a realm while it runs. It is
// not part of the realm's desired state: no configuration may declare it.
const ApplyLockRole = "roster-apply-lock"

// ApplyMarkRole is the realm role whose description names the last apply that took the lock,
// and whether it finished its writes: a run that saw the lock free and the mark settled before
// its read, and finds the same mark on taking the lock, knows that no other apply wrote
// meanwhile. Like the lock, no configuration may declare it.
const ApplyMarkRole = "roster-apply-mark"

// ApplyReleasedPrefix begins the name of a lock roster apply gave back: it renames its lock to
// this prefix and the run's nonce rather than deleting it, since Keycloak empties its cache of
// the realm's users whenever a realm role is deleted. Like the lock, no configuration may declare
// such a role.
const ApplyReleasedPrefix = "roster-apply-released-"

// IsApplyRole reports whether name is one of the realm roles roster apply keeps for its lock:
// the lock, the mark, or a lock it gave back. None is part of a realm's desired state.
func IsApplyRole(name string) bool {
	return name == ApplyLockRole || name == ApplyMarkRole || strings.HasPrefix(name, ApplyReleasedPrefix)
}

// Policy is the user-profile unmanaged-attribute policy of a realm.
type Policy string

const (
	PolicyEnabled   Policy = "ENABLED"    // anyone may read and write unmanaged attributes
	PolicyAdminEdit Policy = "ADMIN_EDIT" // only administrators may read and write them
	PolicyAdminView Policy = "ADMIN_VIEW" // administrators may read them; nobody may write
	PolicyDisabled  Policy = "DISABLED"   // Keycloak drops them (the field is absent in Keycloak)
)

// Known reports whether p is one of Keycloak's four policies.
func (p Policy) Known() bool { return p.Meaning() != "" }

// AdminWrites reports whether administrators can store attributes the user profile does not
// declare under p: Keycloak drops what they write under ADMIN_VIEW and DISABLED.
func (p Policy) AdminWrites() bool { return p == PolicyEnabled || p == PolicyAdminEdit }

// UserWrites reports whether users can write their own attributes the user profile does not
// declare, through the account console and account API, under p.
func (p Policy) UserWrites() bool { return p == PolicyEnabled }

// Meaning says what p does to attributes the user profile does not declare.
func (p Policy) Meaning() string {
	switch p {
	case PolicyEnabled:
		return "users and administrators may write undeclared attributes"
	case PolicyAdminEdit:
		return "only administrators may write undeclared attributes"
	case PolicyAdminView:
		return "administrators may only view undeclared attributes"
	case PolicyDisabled:
		return "Keycloak drops undeclared attributes"
	}
	return ""
}

// UserProfile is the part of a realm's user-profile configuration that decides who may write an
// attribute.
type UserProfile struct {
	// Policy is the unmanaged-attribute policy; PolicyDisabled when Keycloak's field is absent.
	Policy Policy
	// Attributes are the declared (managed) attributes, by name.
	Attributes map[string]ProfileAttribute
}

// ProfileAttribute is a declared user-profile attribute's permissions: who may view and edit it,
// "admin" and/or "user".
type ProfileAttribute struct {
	View []string
	Edit []string
}

// UserEdits reports whether the attribute's edit permission names users.
func (a ProfileAttribute) UserEdits() bool { return slices.Contains(a.Edit, "user") }

// AdminEdits reports whether the attribute's edit permission names administrators.
func (a ProfileAttribute) AdminEdits() bool { return slices.Contains(a.Edit, "admin") }

// Writers reports whether administrators and users can write attribute name: as its declaration
// in the user profile says, else as the unmanaged-attribute policy says.
func (up UserProfile) Writers(name string) (admin, user bool) {
	if a, declared := up.Attributes[name]; declared {
		return a.AdminEdits(), a.UserEdits()
	}
	return up.Policy.AdminWrites(), up.Policy.UserWrites()
}

// EnabledPolicyRisk is why validate and plan warn about PolicyEnabled: Keycloak's account API
// then stores what a signed-in user sends for their own unmanaged attributes.
const EnabledPolicyRisk = "with unmanagedAttributePolicy ENABLED every user can edit their own attributes through Keycloak's account console and account API, " +
	"and so give themselves projects (applications) and Project Admin rights (applications_admin)"

// Prune says what roster does with users that carry its ownership marker but are no longer in
// the configuration.
type Prune string

const (
	PruneNone    Prune = "none"    // report them, change nothing (the default)
	PruneDisable Prune = "disable" // set enabled=false
	PruneDelete  Prune = "delete"  // delete them
)

// Config is the desired state of one realm: everything the YAML files declare, merged and
// normalised.
type Config struct {
	// Version is the format version the files declare; always FormatVersion once loaded.
	Version int
	// Files are the files the configuration was read from, in load order, named as given.
	Files []string
	// Realm is the Keycloak realm name, verbatim (realm names are case-sensitive).
	Realm string
	// Settings hold realm-wide behaviour; zero values mean "leave alone" or the documented default.
	Settings Settings
	// Roles are the realm roles that must exist. Loaded configs always contain admin and developer.
	Roles []RealmRole
	// TokenMappers, when non-nil, declares the attribute token mappers CodeMie needs.
	TokenMappers *TokenMappers
	// IdentityProviders are the brokered identity providers (Entra ID), by alias.
	IdentityProviders []IdentityProvider
	// Projects is the registry of known project names, sorted; nil when the files declare none
	// (then any well-formed project name is accepted).
	Projects []string
	// Teams grant projects to their members, sorted by name.
	Teams []Team
	// Users are the people the files manage, sorted by username.
	Users []User
}

// Settings are realm-wide switches.
type Settings struct {
	// UnmanagedAttributePolicy is the policy roster keeps the realm at; empty leaves it alone.
	UnmanagedAttributePolicy Policy
	// Prune is what happens to owned users that left the configuration (default PruneNone).
	Prune Prune
	// MaxRemovals is the number of users a plan may disable or delete without
	// --allow-mass-removal. The loader sets DefaultMaxRemovals when the files say nothing;
	// 0 allows no removal without the flag.
	MaxRemovals int
	// MaxAccessLosses is the number of users a plan may take sign-in, the admin role, a project
	// or Project Admin rights from (without removing them) without --allow-mass-removal. The loader sets DefaultMaxAccessLosses when the files say nothing.
	MaxAccessLosses int
	// OwnerAttribute is the user attribute that marks users roster created or adopted
	// (default DefaultOwnerAttribute).
	OwnerAttribute string
	// UserManagement is true when CodeMie runs with ENABLE_USER_MANAGEMENT: it then reads
	// Keycloak only at a user's first sign-in, and roster warns that later changes do not reach it.
	UserManagement bool
	// CodeMie names the realm roles CodeMie reads and its client (settings.codemie); the
	// loader fills in the defaults.
	CodeMie CodeMie
}

// Defaults for Settings.
const (
	DefaultMaxRemovals     = 10
	DefaultMaxAccessLosses = 10
	DefaultOwnerAttribute  = "roster_managed"
)

// RealmRole is a realm role that must exist.
type RealmRole struct {
	// Name is the role name, case-sensitive.
	Name string
	// Description is the role description; empty leaves it alone.
	Description string
	// Pos is where the role is declared; zero for admin and developer when they are added
	// implicitly.
	Pos diag.Pos
}

// TokenMappers declares "User Attribute" protocol mappers, one per attribute, on a client scope.
type TokenMappers struct {
	// ClientScope is the client scope holding the mappers (default "profile").
	ClientScope string
	// Attributes are the attributes to map, sorted (default applications, applications_admin,
	// user_type).
	Attributes []string
	// Pos is where tokenMappers is declared.
	Pos diag.Pos
}

// IdentityProvider is an OpenID Connect identity provider brokered by the realm (Entra ID).
type IdentityProvider struct {
	// Alias is the provider's alias, unique in the realm; federated identities refer to it.
	Alias string
	// DisplayName is shown on the login page; empty leaves it alone.
	DisplayName string
	// Enabled says whether users may sign in through the provider; nil leaves it alone (a
	// created provider is enabled).
	Enabled *bool
	// Tenant is the Microsoft Entra ID tenant id the endpoints are derived from; empty when the
	// files give the endpoints.
	Tenant string
	// Endpoints are the provider's issuer and endpoints: the ones the files give, the others
	// derived from Tenant. Empty ones are left alone.
	Endpoints Endpoints
	// ClientID is the client id registered at the provider.
	ClientID string
	// ClientSecret is where the client secret comes from; nil leaves it alone.
	ClientSecret *SecretRef
	// Scopes are the scopes requested; nil means Keycloak's default.
	Scopes []string
	// SyncMode is the provider's sync mode; empty leaves it alone.
	SyncMode SyncMode
	// Mappers are the provider's mappers, in file order.
	Mappers []IdentityProviderMapper
	// Pos is where the provider is declared.
	Pos diag.Pos
}

// Endpoints are where an OpenID Connect provider is reached: Keycloak's issuer,
// authorizationUrl, tokenUrl, jwksUrl, logoutUrl and userInfoUrl.
type Endpoints struct {
	Issuer           string
	AuthorizationURL string
	TokenURL         string
	JWKSURL          string
	LogoutURL        string
	UserInfoURL      string
}

// ConfigValue is one key of an identity provider's Keycloak configuration, with its value.
type ConfigValue struct {
	Key, Value string
}

// Config returns the endpoints under their keys in Keycloak's provider configuration, in a fixed
// order.
func (e Endpoints) Config() []ConfigValue {
	return []ConfigValue{
		{"issuer", e.Issuer},
		{"authorizationUrl", e.AuthorizationURL},
		{"tokenUrl", e.TokenURL},
		{"jwksUrl", e.JWKSURL},
		{"logoutUrl", e.LogoutURL},
		{"userInfoUrl", e.UserInfoURL},
	}
}

// EndpointsFromConfig reads the endpoints from a provider's Keycloak configuration.
func EndpointsFromConfig(c map[string]string) Endpoints {
	return Endpoints{Issuer: c["issuer"], AuthorizationURL: c["authorizationUrl"], TokenURL: c["tokenUrl"],
		JWKSURL: c["jwksUrl"], LogoutURL: c["logoutUrl"], UserInfoURL: c["userInfoUrl"]}
}

// EntraEndpoints are the endpoints of a Microsoft Entra ID tenant (v2.0), as its discovery
// document lists them. roster derives them instead of fetching the document, so that neither it
// nor Keycloak needs to reach Microsoft to plan or apply.
func EntraEndpoints(tenant string) Endpoints {
	const authority = "https://login.microsoftonline.com/"
	return Endpoints{
		Issuer:           authority + tenant + "/v2.0",
		AuthorizationURL: authority + tenant + "/oauth2/v2.0/authorize",
		TokenURL:         authority + tenant + "/oauth2/v2.0/token",
		JWKSURL:          authority + tenant + "/discovery/v2.0/keys",
		LogoutURL:        authority + tenant + "/oauth2/v2.0/logout",
		UserInfoURL:      "https://graph.microsoft.com/oidc/userinfo",
	}
}

// microsoftSignInHost reports whether host is one of Microsoft Entra ID's sign-in (authority)
// hosts: the global service and the national clouds — US Government, and China operated by
// 21Vianet under both the names Microsoft documents for it.
func microsoftSignInHost(host string) bool {
	switch host {
	case "login.microsoftonline.com", "login.microsoftonline.us", "login.partner.microsoftonline.cn", "login.chinacloudapi.cn":
		return true
	}
	return false
}

// microsoftGraphHost reports whether host is one of Microsoft Graph's, which serves Entra ID's
// userinfo endpoint: the global service, US Government L4 and L5 (DoD), and China operated by
// 21Vianet.
func microsoftGraphHost(host string) bool {
	switch host {
	case "graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn":
		return true
	}
	return false
}

// MicrosoftEndpoint reports whether raw, the value of the provider configuration key key
// (Endpoints.Config's keys), is an https URL on one of Microsoft's hosts for it: a sign-in host,
// or for userInfoUrl also a Graph host; no user info, no port but 443.
func MicrosoftEndpoint(key, raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Opaque != "" || u.Port() != "" && u.Port() != "443" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	return microsoftSignInHost(host) || key == "userInfoUrl" && microsoftGraphHost(host)
}

// IdentityProviderMapper is a mapper of an identity provider.
type IdentityProviderMapper struct {
	// Name is the mapper's name, unique within its provider.
	Name string
	// Type is the mapper's kind.
	Type IdPMapperKind
	// Role is the realm role a hardcoded-role mapper grants.
	Role string
	// Claim is the token claim an attribute-importer reads.
	Claim string
	// Attribute is the user attribute an attribute-importer writes.
	Attribute string
	// SyncMode is the mapper's sync mode; empty means SyncInherit.
	SyncMode SyncMode
}

// IdPMapperKind is a kind of identity-provider mapper the files declare (the mapper's type).
type IdPMapperKind string

const (
	// HardcodedRole grants every brokered user a realm role.
	HardcodedRole IdPMapperKind = "hardcoded-role"
	// AttributeImporter copies a token claim into a user attribute.
	AttributeImporter IdPMapperKind = "attribute-importer"
)

// IdPMapperKinds are the kinds of identity-provider mapper roster manages, in a fixed order.
func IdPMapperKinds() []IdPMapperKind { return []IdPMapperKind{HardcodedRole, AttributeImporter} }

// ProviderID is Keycloak's id of the mapper type of kind k; "" for a kind roster does not know.
func (k IdPMapperKind) ProviderID() string {
	switch k {
	case HardcodedRole:
		return IdPMapperHardcodedRole
	case AttributeImporter:
		return IdPMapperAttributeImporter
	}
	return ""
}

// IdPMapperKindOf is the kind of a mapper of Keycloak's type providerID; false for a type
// roster does not manage.
func IdPMapperKindOf(providerID string) (IdPMapperKind, bool) {
	for _, k := range IdPMapperKinds() {
		if k.ProviderID() == providerID {
			return k, true
		}
	}
	return "", false
}

// SyncMode says when Keycloak applies an identity provider's mappers to a brokered user.
type SyncMode string

const (
	SyncInherit SyncMode = "INHERIT" // a mapper's: as its provider says
	SyncLegacy  SyncMode = "LEGACY"  // as before Keycloak 14
	SyncImport  SyncMode = "IMPORT"  // only when the user is first created
	SyncForce   SyncMode = "FORCE"   // at every login
)

// SyncModes are Keycloak's sync modes, in a fixed order.
func SyncModes() []SyncMode { return []SyncMode{SyncInherit, SyncLegacy, SyncImport, SyncForce} }

// Effective is the sync mode a mapper with mode s has under a provider with mode provider: the
// provider's when s is empty or SyncInherit.
func (s SyncMode) Effective(provider SyncMode) SyncMode {
	if s == "" || s == SyncInherit {
		return provider
	}
	return s
}

// Team grants projects to its members.
type Team struct {
	// Name is the team's key in the files.
	Name string
	// Members are the usernames of its members: lowercase, sorted, each a declared user.
	Members []string
	// Grants are the projects every member receives, normalised like a user's.
	Grants Grants
	// Pos is where the team is declared.
	Pos diag.Pos
}

// Grants are project grants as written in the files (a user's own, or a team's).
//
// In a loaded config both lists are normalised (NormalizeProjects): lowercase, sorted, unique.
type Grants struct {
	// Member are the projects the holder is a member of.
	Member []string
	// Admin are the projects the holder administers; they need not repeat in Member.
	Admin []string
}

// User is one person roster manages. Pointer and nil-slice fields are optional in the files:
// nil means "not declared", and roster leaves that field of the Keycloak user alone.
type User struct {
	// Username is the key, lowercase (Keycloak lowercases usernames).
	Username string
	// Email is the email address, lowercase (Keycloak lowercases emails).
	Email *string
	// FirstName and LastName are the user's names, verbatim.
	FirstName *string
	LastName  *string
	// Enabled says whether the user may sign in.
	Enabled *bool
	// Role is the owned realm role the user holds; never empty in a loaded config.
	Role Role
	// Projects are the user's own grants.
	Projects Grants
	// Teams are the names of the teams that list the user, sorted.
	Teams []string
	// External marks a guest: user_type=external.
	External bool
	// Access is the effective CodeMie access: Role, own and team grants merged, External.
	Access Access
	// Attributes are other attributes managed verbatim; keys not listed are left alone.
	Attributes map[string][]string
	// RequiredActions, when non-nil, is the exact set of required actions, sorted; a pointer
	// to an empty slice clears them.
	RequiredActions *[]string
	// InitialPassword is set only when roster creates the user.
	InitialPassword *InitialPassword
	// FederatedIdentities are links to identity-provider accounts, by provider alias.
	FederatedIdentities []FederatedIdentity
	// Pos is where the user is declared (the start of its list item).
	Pos diag.Pos
}

// SecretRef names where a secret comes from; the value itself never appears in the files.
// Exactly one field is set.
type SecretRef struct {
	// Env is the name of an environment variable holding the secret.
	Env string
	// File is the path of a file holding the secret, relative to the secrets directory the
	// operator names (package secret decides what a configuration may reach).
	File string
}

// String says where the secret comes from, as plans show it: "env NAME" or "file PATH".
func (r SecretRef) String() string {
	if r.Env != "" {
		return "env " + r.Env
	}
	return "file " + r.File
}

// InitialPassword references the password a user is created with.
type InitialPassword struct {
	SecretRef
	// Temporary makes Keycloak ask for a new password at first sign-in; the loader makes it
	// true unless the file says temporary: false.
	Temporary bool
}

// FederatedIdentity links a user to an account at an identity provider.
type FederatedIdentity struct {
	// Provider is the identity-provider alias.
	Provider string
	// UserID is the provider's subject (for Entra ID: the ID token's sub).
	UserID string
	// UserName is the user's name at the provider.
	UserName string
}
