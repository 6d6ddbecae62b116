// Package schema reads roster's desired-state YAML files into a normalised model.Config.
//
// Loading runs in three passes, each reporting every problem it finds as a positioned
// diag.Diagnostic rather than stopping at the first:
//
//  1. YAML: each file is parsed with go.yaml.in/yaml/v3's node API so every value keeps its
//     line and column. Traps YAML is known for are reported here: duplicate keys, several
//     documents in a file, tabs, empty files, alias bombs and alias cycles, files over MaxFileSize.
//  2. Shape: each file is checked against the embedded JSON Schema (roster.schema.json, draft
//     2020-12), and each schema error is mapped back to the YAML node it concerns and reworded
//     (unknown fields with did-you-mean, wrong types with a quoting hint, bad enums). Unquoted
//     scalars that other YAML tools read differently (yes, 017, dates) are flagged too.
//  3. Meaning: the files are merged and the rules of Keycloak and CodeMie are applied
//     (duplicates across files, username and email rules, project names, team members, the
//     2048-character attribute limit, plaintext passwords, …). Then the model is built.
//
// The loader never panics, whatever the input; FuzzLoad holds it to that.
package schema
