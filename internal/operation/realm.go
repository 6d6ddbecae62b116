package operation

import (
	"context"
	"fmt"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

// Loader loads the desired state from paths. It reports the configuration's diagnostics itself
// (the CLI prints them on stderr and keeps them for its JSON output) and fails when any is an
// error.
type Loader interface {
	Load(ctx context.Context, paths []string) (*model.Config, error)
}

// LiveReader reads what roster manages in a realm; *keycloak.Client implements it.
type LiveReader interface {
	ReadRealm(ctx context.Context) (keycloak.RealmInfo, error)
	ReadLive(ctx context.Context, opts keycloak.ReadOptions) (*model.Live, error)
}

// Dial logs in to realm for CodeMie's reading cm and returns the server's side of it. The CLI's
// dials with the connection flags and refuses the master realm unless told otherwise.
type Dial[C any] func(ctx context.Context, realm string, cm model.CodeMie) (C, error)

// FileWriter writes a file roster produces: for its owner only, with the run's secrets masked;
// *redact.Secrets implements it.
type FileWriter interface {
	WriteFile(path string, data []byte) error
}

// readLive checks that realm exists and reads everything roster manages in it: the one way
// every operation that looks at a realm starts.
func readLive(ctx context.Context, r LiveReader, realm string, ro keycloak.ReadOptions) (*model.Live, error) {
	if _, err := r.ReadRealm(ctx); err != nil {
		return nil, err
	}
	live, err := r.ReadLive(ctx, ro)
	if err != nil {
		return nil, fmt.Errorf("failed to read realm %q: %w", realm, err)
	}
	return live, nil
}

// HintError is an error with lines that suggest a fix; the CLI prints them after the error.
type HintError struct {
	Err   error
	Lines []string
}

func (e *HintError) Error() string   { return e.Err.Error() }
func (e *HintError) Unwrap() error   { return e.Err }
func (e *HintError) Hints() []string { return e.Lines }

// withHint attaches hints to err.
func withHint(err error, hints ...string) error { return &HintError{Err: err, Lines: hints} }
