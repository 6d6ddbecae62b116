package output

import (
	"fmt"
	"strings"
)

// Document is one of the JSON documents roster prints with --format json. The set is closed,
// and each document's format_version is defined here, once.
//
// Every document follows the same rules: consumers ignore fields they do not know; the minor
// version grows when fields are added, the major version when a field changes type or meaning,
// or disappears.
//
// A command given --format json that fails before it writes its document prints the failure
// document instead: format_version (the version of the document it replaces), failed: true,
// the error and the configuration's diagnostics. It is versioned with the document it replaces,
// so a consumer reads format_version first and then failed.
type Document int

// The documents.
const (
	// PlanDocument is the JSON plan: `roster plan --format json`, and the copy in a saved plan.
	//
	// 1.1 added the kinds "token_mapper", "identity_provider" and "identity_provider_mapper".
	// 1.2 added where each secret comes from (a field's source, an identity provider's
	// client_secret_source and a user's initial_password_source), prerequisites, and
	// service_account, refused and unknown to an access.
	// 1.3 added the action "rename" and files, the configuration files the plan was made from.
	// 1.4 added diagnostics and the failure document.
	// 2.0 made a field's before and after typed JSON values (a string, a boolean, a list of
	// strings, an identity link, or null when absent) instead of display text, and added the
	// field's type beside them.
	PlanDocument Document = iota + 1
	// ApplyDocument is the result of `roster apply --format json`.
	//
	// 1.1 added the action "rename", counted as changed, and not_verified.
	// 1.2 added diagnostics and the failure document.
	// 1.3 added error: the apply lock lost during the run or not released after it, which used
	// to follow the result as a second document.
	ApplyDocument
	// ValidateDocument is the result of `roster validate --format json`.
	//
	// 1.1 added files.
	ValidateDocument
	// AccessDocument is `roster access --format json` (from the files, the live realm, or
	// the difference of both).
	//
	// 1.1 added diagnostics and the failure document.
	AccessDocument
	// VerifyDocument is `roster access --verify --format json`.
	//
	// 1.1 added diagnostics and the failure document.
	VerifyDocument
	// DoctorDocument is `roster doctor --format json`.
	//
	// 1.1 added "for".
	// 1.2 added diagnostics and the failure document.
	DoctorDocument
)

var documents = [...]struct{ name, version string }{
	PlanDocument:     {"plan", "2.0"},
	ApplyDocument:    {"apply", "1.3"},
	ValidateDocument: {"validate", "1.1"},
	AccessDocument:   {"access", "1.1"},
	VerifyDocument:   {"access --verify", "1.1"},
	DoctorDocument:   {"doctor", "1.2"},
}

func (d Document) valid() bool { return d > 0 && int(d) < len(documents) }

// Version is the document's format_version.
func (d Document) Version() string {
	if !d.valid() {
		return ""
	}
	return documents[d].version
}

// String is the command that prints the document: "plan", "access --verify".
func (d Document) String() string {
	if !d.valid() {
		return fmt.Sprintf("Document(%d)", int(d))
	}
	return documents[d].name
}

// Major is the major part of the document's format_version: "2" for "2.0". A reader accepts a
// document whose major version is its own, whatever the minor.
func (d Document) Major() string {
	major, _, _ := strings.Cut(d.Version(), ".")
	return major
}

// ForCommand is the document the command named name prints with --format json; verify says
// whether access was given --verify. ok is false for a command without a JSON document.
func ForCommand(name string, verify bool) (d Document, ok bool) {
	switch name {
	case "plan":
		return PlanDocument, true
	case "apply":
		return ApplyDocument, true
	case "validate":
		return ValidateDocument, true
	case "access":
		if verify {
			return VerifyDocument, true
		}
		return AccessDocument, true
	case "doctor":
		return DoctorDocument, true
	}
	return 0, false
}
