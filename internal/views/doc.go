// Package views renders the results of operations (package operation) in the formats each
// command supports: text for people, JSON for programs, HTML for an access review. A view only
// formats; what to do, and when a result is a failure, is the operation's and the command's.
package views
