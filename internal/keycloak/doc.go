// Package keycloak is roster's adapter to the Keycloak Admin REST API: it logs in with either an
// administrator's password or a service account's client credentials, keeps the token fresh, and
// reads and writes the objects roster manages. It maps transport and HTTP failures to typed errors
// so that the CLI can tell "the server is unreachable or refused us" from other failures.
package keycloak
