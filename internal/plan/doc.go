// Package plan computes what roster must change in a Keycloak realm so that CodeMie grants
// exactly the access a configuration declares, and holds that answer as data.
//
// Build compares a desired model.Config with the realm as read (model.Live) and returns a Plan:
// an ordered list of Changes, each with an Address, an Action, typed before and after values,
// the per-field differences people read, and what the change means in CodeMie's terms. The
// order of Plan.Changes is the order apply performs them in.
//
// The package does no I/O and holds no secret values: an initial password appears only as the
// model.SecretRef that names where it comes from, and as a Sensitive field in the differences.
// Renderers (package render) read a Plan and never diff again; apply reads only Action and the
// kind-specific "what" of each Change (PolicyChange.After, RoleChange.After, and UserChange's
// New, Patch, AddRoles, RemoveRoles and Links), never the explanations (Fields, Access, Reason,
// Notes, Warnings).
package plan
