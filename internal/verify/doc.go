// Package verify proves, user by user, what CodeMie will grant: it asks Keycloak for the tokens
// it would issue to each user through CodeMie's client (the Admin API's evaluate-scopes
// examples, no password needed), applies CodeMie's reading of their claims (model), and compares
// the result with the access roster says the user has, from the files or from its model of the
// live realm. A difference comes with its likely causes, read off the realm's prerequisites:
// a missing mapper, a single-valued mapper over several stored values, a mapper on a scope the
// client does not get by default, a user-profile policy that drops the attribute.
//
// `roster access --verify` verifies every user (or a sample, or one); `roster doctor` a sample
// covering each CodeMie role present.
package verify
