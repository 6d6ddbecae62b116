// Package model holds roster's view of CodeMie access in Keycloak: the desired state read from
// the YAML files (Config), the effective access CodeMie derives from a user's realm role and
// project attributes (Access), and the rules for encoding that access into Keycloak attributes.
//
// It does no I/O. Values leave the schema package already normalised: usernames, emails and
// project names lowercase, project lists sorted and de-duplicated, teams expanded into each
// member's Access.
package model
