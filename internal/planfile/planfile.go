// Package planfile writes and reads saved plans: what `roster plan --out FILE` records so that
// `roster apply FILE` does exactly what was reviewed, or nothing.
//
// A saved plan holds the desired-state files it was made from, the server and realm, the roster
// version, a fingerprint of the live realm the plan was computed from, the canonical change set
// (the typed changes apply executes) with its digest, the plan in roster's JSON format for
// people and tools, and a digest of all of it. It holds no secret: desired-state files only
// reference secrets.
//
// The digests are not signatures: whoever can write the file can recompute them. They make an
// edit that does not recompute them, or a damaged file, fail loudly. What keeps a forged file
// from doing harm is apply: it requires the files here to be the plan's, recomputes the change
// set from them and the live realm under its lock, and refuses unless it equals the recorded one.
package planfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

// FormatVersion identifies the saved-plan format; apply refuses any other.
const FormatVersion = "roster-plan/2"

// File is a saved plan.
type File struct {
	FormatVersion string `json:"format_version"`
	// RosterVersion is the version of roster that made the plan; apply refuses a plan made by
	// another version, which may compute or encode the change set differently.
	RosterVersion string `json:"roster_version"`
	Server        string `json:"server"`
	Realm         string `json:"realm"`
	// Sources are the desired-state files, by the path they were given as, sorted by path.
	Sources []Source `json:"sources"`
	// Dirs are the directories among the paths the plan was made from: a file added to one
	// since, or removed from it, makes the plan stale.
	Dirs []string `json:"dirs,omitempty"`
	// Prune, AllowMassRemoval and RotateSecrets are the plan options that came from flags.
	Prune            string `json:"prune,omitempty"`
	AllowMassRemoval bool   `json:"allow_mass_removal,omitempty"`
	RotateSecrets    bool   `json:"rotate_secrets,omitempty"`
	// LiveFingerprint is Fingerprint of the live state the plan was computed from.
	LiveFingerprint string `json:"live_fingerprint"`
	// ChangesDigest is Digest(Changes).
	ChangesDigest string `json:"changes_digest"`
	// Changes is the canonical change set (ChangeSet): what apply executes, and nothing else.
	Changes []Change `json:"changes"`
	// Plan is the plan in roster's JSON plan format, for people and tools that inspect the file;
	// apply renders the plan it recomputes and refuses when it differs from this copy.
	Plan json.RawMessage `json:"plan"`
	// Digest is a digest of every other field: Write sets it, Read checks it.
	Digest string `json:"digest"`
}

// Source is one desired-state file.
type Source struct {
	Path    string `json:"path"`
	Content []byte `json:"content"`
}

// Fingerprint is a digest of the realm's state as roster read it. Any change to it, by a person
// or by an earlier apply, makes a saved plan stale. Who read it is not part of it: a plan made
// with a read-only account applies with the write account.
func Fingerprint(live *model.Live) string {
	state := *live
	state.Identity = ""
	return digestOf(&state)
}

// digestOf is the SHA-256 of v's JSON encoding: struct fields in order, map keys sorted, so the
// same data always has the same digest.
func digestOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("planfile: %T does not marshal: %v", v, err)) // only plain data
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// fileDigest is the digest of every field of f but Digest.
func fileDigest(f *File) string {
	c := *f
	c.Digest = ""
	c.Plan = compact(f.Plan)
	return digestOf(&c)
}

// compact is raw JSON without insignificant white space, or raw itself when it is not JSON (the
// digest then fails to match, as it should).
func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// ReadSources reads the files with the given paths.
func ReadSources(paths []string) ([]Source, error) {
	sources := make([]Source, 0, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		sources = append(sources, Source{Path: filepath.ToSlash(p), Content: b})
	}
	sort.Slice(sources, func(i, j int) bool { return sources[i].Path < sources[j].Path })
	return sources, nil
}

// Write saves f to path, readable by the owner only (a plan describes people), with the secrets
// of the run masked. It sets the format version and both digests.
func Write(path string, f *File, secrets *redact.Secrets) error {
	Seal(f)
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := secrets.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("failed to save the plan: %w", err)
	}
	return nil
}

// Seal sets f's format version and digests from its content.
func Seal(f *File) {
	f.FormatVersion = FormatVersion
	if f.Changes == nil {
		f.Changes = []Change{}
	}
	f.ChangesDigest = Digest(f.Changes)
	f.Digest = fileDigest(f)
}

// ErrNotPlan means a file is not a saved plan.
var ErrNotPlan = errors.New("not a saved roster plan")

// DamagedError means a saved plan's content does not match its digests: it was edited, or
// damaged, after roster plan wrote it.
type DamagedError struct {
	// What names the part that does not match.
	What string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("the saved plan was edited or damaged since roster plan wrote it: %s", e.What)
}

// Hints say how to go on.
func (e *DamagedError) Hints() []string {
	return []string{"nothing was changed; make a new plan with roster plan --out, review it, and apply that file as it is"}
}

// VersionError means a saved plan was made by another version of roster than the one reading it.
type VersionError struct {
	// Made is the version that made the plan, Running the one reading it.
	Made, Running string
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("the plan was made by roster %s, and this is roster %s", e.Made, e.Running)
}

// Hints say how to go on.
func (e *VersionError) Hints() []string {
	return []string{"nothing was changed; apply the plan with roster " + e.Made + ", or make a new plan with this roster, " +
		"review it, and apply that; CI jobs pin one release for both"}
}

// Read loads a saved plan and checks that roster version made it, and that it matches its
// digests.
func Read(r io.Reader, version string) (*File, error) {
	var f File
	if err := json.NewDecoder(r).Decode(&f); err != nil || f.FormatVersion == "" {
		return nil, ErrNotPlan
	}
	if f.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("the saved plan has format %q, but this roster reads %q: make the plan again with this version",
			f.FormatVersion, FormatVersion)
	}
	if f.RosterVersion != version {
		return nil, &VersionError{Made: f.RosterVersion, Running: version}
	}
	if fileDigest(&f) != f.Digest {
		return nil, &DamagedError{What: "its digest does not match its content"}
	}
	if Digest(f.Changes) != f.ChangesDigest {
		return nil, &DamagedError{What: "its change set does not match the change set's digest"}
	}
	return &f, nil
}
