// Package escape makes values that roster does not control safe to print. Usernames, emails,
// names, attribute values, project names, identity-provider aliases and URLs, mapper names,
// server error text and file paths come from configuration files anyone with push rights
// writes, from Keycloak where users may write their own attributes, and from servers; printed
// as they are, they could forge the output around them.
//
// There is one function per output medium, and every renderer passes such values through it:
//
//   - Text, for the terminal, text files and YAML comments: no character that moves the cursor,
//     starts an escape sequence, ends a line or reorders text survives; each is written as its
//     Go escape (\n, \x1b, \u202e).
//   - Markdown, for prose in a pull-request comment: Text, then every character Markdown or
//     HTML would interpret is escaped, and words GitHub would turn into a link or a mention are
//     set in code spans.
//   - Code, for one value in a Markdown code span; Fence, for the fence of a code block whose
//     lines went through Text.
//
// A value made only of letters, digits, spaces and ordinary punctuation comes out unchanged by
// Text, so normal output looks the same as the value.
package escape
