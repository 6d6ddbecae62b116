// Package scenario holds the reliability scenarios of docs/reliability.md: end-to-end tests that
// run the roster binary against a real Keycloak, some through a fault-injecting proxy, and check
// that it converges, never duplicates a user, never loses an attribute it does not own, and
// never prints or writes a secret. The package has no code of its own; the tests log the
// figures the document quotes (go test -v -run 'Test' ./internal/scenario).
package scenario
