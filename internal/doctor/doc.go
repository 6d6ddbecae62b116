// Package doctor checks that a Keycloak server and realm are ready for roster and CodeMie: the
// server answers, the credentials work and hold the realm-management roles roster needs, the
// user-profile policy lets administrators write CodeMie's attributes, the realm roles, token
// mappers and identity providers exist, and the clocks agree. Run gathers the findings as data
// (a Check each, with the fix); the CLI renders them.
package doctor
