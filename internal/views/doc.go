// Package views renders the results of the operations (package operation) in the formats each
// command supports (output.Format): text for people, markdown for a pull-request comment, JSON
// for scripts. Data goes to stdout; the lines that accompany it (an invitation's failure beside a
// JSON result) to stderr. Views compute nothing: they format what the operation returned, and
// call the renderers of the plan (internal/plan/render) and of apply's result where those exist.
package views
