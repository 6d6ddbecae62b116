// Package planfile writes and reads saved plans: what `roster plan --out FILE` records so that
// `roster apply FILE` can refuse to act when the realm or the configuration changed since.
//
// A saved plan holds the desired-state files it was made from (so apply needs nothing else),
// the server and realm, the roster version, and a fingerprint of the live objects the plan was
// computed from. It holds no secret: desired-state files only reference secrets.
package planfile

import (
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
const FormatVersion = "roster-plan/1"

// File is a saved plan.
type File struct {
	FormatVersion string `json:"format_version"`
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
	// Plan is the plan in roster's JSON plan format, for people and tools that inspect the file;
	// apply recomputes the plan and never trusts this copy.
	Plan json.RawMessage `json:"plan"`
}

// Source is one desired-state file.
type Source struct {
	Path    string `json:"path"`
	Content []byte `json:"content"`
}

// Fingerprint is a digest of everything roster read from the realm. Any change to it, by a
// person or by an earlier apply, makes a saved plan stale.
func Fingerprint(live *model.Live) string {
	b, err := json.Marshal(live) // struct fields in order, map keys sorted: deterministic
	if err != nil {
		panic(fmt.Sprintf("planfile: live state does not marshal: %v", err)) // only plain data
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
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
// of the run masked.
func Write(path string, f *File, secrets *redact.Secrets) error {
	f.FormatVersion = FormatVersion
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := secrets.WriteFile(path, append(b, '\n')); err != nil {
		return fmt.Errorf("failed to save the plan: %w", err)
	}
	return nil
}

// ErrNotPlan means a file is not a saved plan.
var ErrNotPlan = errors.New("not a saved roster plan")

// Read loads a saved plan.
func Read(r io.Reader) (*File, error) {
	var f File
	if err := json.NewDecoder(r).Decode(&f); err != nil || f.FormatVersion == "" {
		return nil, ErrNotPlan
	}
	if f.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("the saved plan has format %q, but this roster reads %q: make the plan again with this version",
			f.FormatVersion, FormatVersion)
	}
	return &f, nil
}
