// Package bench holds roster's end-to-end benchmarks against a real Keycloak (run by
// `make bench`, not by `make test`). They seed a realm with thousands of users through partial
// import and measure the built roster binary as a user runs it: requests (through a counting
// reverse proxy in front of the server), wall time and peak memory (the child's max RSS), next to
// the floor — a minimal loop fetching the same pages.
package bench
