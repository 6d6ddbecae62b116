// Package operation holds what roster's commands do, without the command line: each operation
// (Plan, Apply, Validate, Show, …) takes an Options value of plain data and its dependencies
// (Deps: the Keycloak realm behind a narrow interface, the clock, the prompter, the progress
// display, where diagnostics go) and returns a typed result. It never formats output: package
// views renders results, and package cli parses flags, fills Options and wires the real
// dependencies in. Tests run the operations against keycloakfake's in-memory realm.
package operation
