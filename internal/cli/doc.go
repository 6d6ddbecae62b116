// Package cli is roster's command tree. Each command is an Options struct filled from flags
// and a run function that does the work through the library packages; Main maps the outcome to
// an exit code. It is the only package that knows every other one.
package cli
