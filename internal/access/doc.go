// Package access answers "who can do what" in CodeMie, from the desired state (model.Config) or
// from the live realm (model.Live), with CodeMie's own resolution rules (model.Access): a
// project in applications_admin, alone or in both attributes, makes a Project Admin. It lists a
// realm, one user or one project, compares the two sources (Diff), and renders text or JSON.
//
// It does no I/O beyond writing to the io.Writer it is given.
package access
