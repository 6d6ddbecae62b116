package operation

import (
	"context"
	"fmt"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
)

// Dial logs in to realm for CodeMie's reading cm and returns the server's side of it as the
// operation needs it: the operations that ask more of the server than Realm (access --verify's
// tokens, init's service accounts) or less (doctor, which logs in as one of its checks) take
// one. The CLI's dials with the connection flags and refuses the master realm unless told
// otherwise.
type Dial[C any] func(ctx context.Context, realm string, cm model.CodeMie) (C, error)

// readLive checks that realm exists and reads everything roster manages in it, as ro says:
// for the operations that read a realm no configuration names (export, access --live --realm).
func readLive(ctx context.Context, r Reader, realm string, ro keycloak.ReadOptions) (*model.Live, error) {
	info, err := r.ReadRealm(ctx)
	if err != nil {
		return nil, err
	}
	ro.Realm = &info
	live, err := r.ReadLive(ctx, ro)
	if err != nil {
		return nil, fmt.Errorf("failed to read realm %q: %w", realm, err)
	}
	return live, nil
}
