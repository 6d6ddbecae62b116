package model

import (
	"strings"
	"time"
)

// Live is a realm as roster reads it from Keycloak: the parts roster manages and the facts it
// needs to stay away from what it must not touch.
type Live struct {
	// Realm is the realm's name.
	Realm string
	// Policy is the user-profile unmanaged-attribute policy; PolicyDisabled when Keycloak's
	// field is absent.
	Policy Policy
	// ProfileAttributes are the attributes the realm's user profile declares, each with whether
	// users may edit it themselves (its edit permission names user). Who may edit an attribute
	// it does not declare depends on Policy.
	ProfileAttributes map[string]bool
	// Roles are the realm roles that exist, sorted by name.
	Roles []RealmRole
	// Users are every user of the realm, service accounts included, sorted by username.
	Users []LiveUser
	// ClientScope is the client scope that holds the token mappers, read only when the
	// configuration declares tokenMappers; nil when not read or when the scope does not exist.
	ClientScope *LiveClientScope
	// IdentityProviders are the realm's identity providers with their mappers, sorted by alias;
	// read only when the configuration declares identityProviders.
	IdentityProviders []LiveIdentityProvider
	// Login are the realm's login settings that decide which users Keycloak accepts.
	Login LoginSettings
	// Identity is the username roster logged in as (an administrator or
	// service-account-<client>); roster never changes that user.
	Identity string
	// CodeMie is how CodeMie reads the realm (settings.codemie, or the defaults).
	CodeMie CodeMie
	// Client is CodeMie's client with the token mappers that reach it; nil when it was not read
	// or the realm has no client CodeMie.ClientID.
	Client *LiveCodeMieClient
	// ClientUnread, when not empty, says why roster could not read CodeMie's client.
	ClientUnread string
}

// LiveCodeMieClient is CodeMie's client as Keycloak stores it.
type LiveCodeMieClient struct {
	// ID is Keycloak's id of the client; ClientID its clientId.
	ID, ClientID string
	// DefaultScopes are the names of the client's default client scopes, sorted.
	DefaultScopes []string
	// Mapping holds the client's own protocol mappers and those of its default client scopes;
	// each mapper's Scope says where it sits.
	Mapping TokenMapping
}

// Mapping is the token mapping that reaches CodeMie's client. Without the client (not read, or
// absent) roster cannot know it and reads users as under RecommendedMapping; plan reports the
// missing client.
func (l *Live) Mapping() TokenMapping {
	if l.Client == nil {
		return RecommendedMapping()
	}
	return l.Client.Mapping
}

// Access is what CodeMie grants u today: CodeMie's reading of the access token u gets.
func (l *Live) Access(u LiveUser) Access {
	return l.CodeMie.ReadStored(l.Mapping(), u.Roles, u.Attributes, u.Enabled)
}

// LoginSettings are the realm settings (Realm settings → Login in the admin console) that
// decide whether Keycloak accepts a user or a rename.
type LoginSettings struct {
	// EditUsernameAllowed lets usernames change; without it Keycloak refuses a rename, from the
	// admin API too (400 error-user-attribute-read-only).
	EditUsernameAllowed bool
	// DuplicateEmailsAllowed lets several users share an email.
	DuplicateEmailsAllowed bool
	// LoginWithEmailAllowed lets users sign in with their email; Keycloak then refuses a
	// username that is another user's email.
	LoginWithEmailAllowed bool
}

// LiveUser is a Keycloak user. Strings are as Keycloak stores them (it lowercases usernames and
// emails); absent optional fields are empty.
type LiveUser struct {
	ID        string
	Username  string
	Email     string
	FirstName string
	LastName  string
	Enabled   bool
	// Attributes are all attributes the server returned, values as stored.
	Attributes map[string][]string
	// RequiredActions are the pending required actions, sorted.
	RequiredActions []string
	// Roles are the owned realm roles (admin, developer) mapped directly to the user.
	Roles []Role
	// FederationLink is the user-storage provider (LDAP, …) the user comes from; empty for
	// local users. roster never changes such users.
	FederationLink string
	// FederatedIdentities are the user's identity-provider links, sorted by provider. They are
	// read only for users whose configuration declares links; nil otherwise.
	FederatedIdentities []FederatedIdentity
	// Created is when Keycloak created the user, by the server's clock; zero when unknown.
	Created time.Time
}

// IsUserField reports whether name, in any letter case, is one of the fields of a Keycloak user
// (username, email, firstName, lastName, emailVerified), which Keycloak's user profile keeps
// apart from attributes: roster never reads or writes such a name as an attribute.
func IsUserField(name string) bool {
	switch strings.ToLower(name) {
	case "username", "email", "firstname", "lastname", "emailverified":
		return true
	}
	return false
}

// IsServiceAccount reports whether the user is a client's service account; roster never
// changes those.
func (u LiveUser) IsServiceAccount() bool {
	return strings.HasPrefix(u.Username, "service-account-")
}

// UserEditable reports whether users can change their own attribute name through Keycloak's
// account console and account API when the unmanaged-attribute policy is p.
func (l *Live) UserEditable(name string, p Policy) bool {
	if userEdit, declared := l.ProfileAttributes[name]; declared {
		return userEdit
	}
	return p.UserWrites()
}
