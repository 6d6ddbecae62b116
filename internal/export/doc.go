// Package export turns a live realm (model.Live) into desired-state YAML that roster's loader
// accepts and that plans to "No changes" against the same realm: the users holding admin or
// developer, with their role, projects decoded the way CodeMie decodes them, external flag,
// names, enabled, other attributes and identity-provider links.
//
// It does no I/O: the caller reads the realm and writes the files.
package export
