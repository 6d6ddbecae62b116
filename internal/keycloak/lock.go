package keycloak

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/model"
)

// LockRole is the realm role that marks a realm as being applied to. Keycloak refuses a second
// role of one name (409), which makes creating it a mutual exclusion; its description says who
// holds it and until when. Live reads leave it out, so it never shows in a plan.
const LockRole = model.ApplyLockRole

// Lock timing: a holder renews its lease every lockRenew; a holder that died stops renewing, and
// its lock is free lockLease after the last renewal. Variables only so that tests can shorten them.
var (
	lockLease = 2 * time.Minute
	lockRenew = 30 * time.Second
	lockPoll  = 2 * time.Second
)

// LockedError is returned by Lock when another run holds the realm's apply lock.
type LockedError struct {
	Realm   string
	Holder  string
	Expires time.Time // zero when the lock's description is not roster's
}

func (e *LockedError) Error() string {
	if e.Expires.IsZero() {
		return fmt.Sprintf("realm %q is locked: it has a role %s that roster did not make (%q)", e.Realm, LockRole, e.Holder)
	}
	return fmt.Sprintf("realm %q is locked by another roster apply (%s)", e.Realm, e.Holder)
}

// Hints suggest how to go on.
func (e *LockedError) Hints() []string {
	if e.Expires.IsZero() {
		return []string{"delete the realm role " + LockRole + " if nothing uses it, or apply with --lock=false"}
	}
	return []string{fmt.Sprintf("wait for that apply to finish, or wait for the lock with --lock-timeout 10m; "+
		"if that run died, its lock expires at %s", e.Expires.UTC().Format(time.RFC3339))}
}

// Lock is a held apply lock; Release gives it back.
type Lock struct {
	c    *Client
	id   string
	desc func() string

	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	err  error // the last renewal's failure
}

// Lock takes the realm's apply lock for holder (a description such as "ops@ci-runner pid 42"),
// waiting up to timeout while another run holds it. A lock whose holder stopped renewing it
// is taken over. The lock is renewed in the background until Release.
func (c *Client) Lock(ctx context.Context, holder string, timeout time.Duration) (*Lock, error) {
	nonce := make([]byte, 6)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	holder = holder + " #" + hex.EncodeToString(nonce)
	describe := func() string { return lockDescription(holder, time.Now().Add(lockLease)) }
	deadline := time.Now().Add(timeout)
	for attempt := 1; ; attempt++ {
		presp, perr := c.do(ctx, http.MethodPost, "/roles", map[string]string{"name": LockRole, "description": describe()}, nil)
		// Whatever the answer, the role tells who holds the lock: a create whose answer was lost
		// may have made it ours.
		var role struct {
			ID          string `json:"id"`
			Description string `json:"description"`
		}
		_, err := c.do(ctx, http.MethodGet, "/roles/"+url.PathEscape(LockRole), nil, &role)
		switch {
		case IsNotFound(err) && perr != nil && !IsConflict(perr):
			// The create failed and made nothing. A create is not retried inside (see do), but
			// this one is safe to repeat: the name makes a second lock impossible.
			if attempt == maxAttempts || !transient(presp, perr) {
				return nil, fmt.Errorf("failed to take the apply lock (realm role %s): %w", LockRole, perr)
			}
			if err := sleep(ctx, backoff(attempt, presp)); err != nil {
				return nil, err
			}
			continue
		case IsNotFound(err):
			continue // released between the two requests
		case err != nil:
			return nil, fmt.Errorf("failed to read the apply lock (realm role %s): %w", LockRole, err)
		}
		who, expires, ok := parseLockDescription(role.Description)
		switch {
		case ok && who == holder:
			l := &Lock{c: c, id: role.ID, desc: describe, stop: make(chan struct{}), done: make(chan struct{})}
			go l.renew()
			return l, nil
		case !ok:
			return nil, &LockedError{Realm: c.cfg.Realm, Holder: role.Description}
		case time.Now().After(expires):
			// Its holder stopped renewing it. Deleting by id takes over only this lock: if
			// another run took it over first, the role has a new id and the delete finds nothing.
			if _, err := c.do(ctx, http.MethodDelete, "/roles-by-id/"+url.PathEscape(role.ID), nil, nil); err != nil && !IsNotFound(err) {
				return nil, fmt.Errorf("failed to take over the expired apply lock: %w", err)
			}
			continue
		case !time.Now().Before(deadline):
			return nil, &LockedError{Realm: c.cfg.Realm, Holder: who, Expires: expires}
		}
		if err := sleep(ctx, min(lockPoll, time.Until(deadline))); err != nil {
			return nil, err
		}
	}
}

func (l *Lock) renew() {
	defer close(l.done)
	t := time.NewTicker(lockRenew)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), lockRenew)
		_, err := l.c.do(ctx, http.MethodPut, "/roles-by-id/"+url.PathEscape(l.id),
			map[string]string{"name": LockRole, "description": l.desc()}, nil)
		cancel()
		l.mu.Lock()
		l.err = err
		l.mu.Unlock()
	}
}

// Release stops renewing the lock and deletes it. It reports a renewal that failed last, since
// another run may then have taken the lock over.
func (l *Lock) Release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	if _, err := l.c.do(ctx, http.MethodDelete, "/roles-by-id/"+url.PathEscape(l.id), nil, nil); err != nil && !IsNotFound(err) {
		return fmt.Errorf("failed to release the apply lock (realm role %s): %w", LockRole, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return fmt.Errorf("renewing the apply lock failed, so another run may have taken it over: %w", l.err)
	}
	return nil
}

const lockPrefix = "Held by roster apply: "

func lockDescription(holder string, expires time.Time) string {
	return lockPrefix + holder + "; expires " + expires.UTC().Format(time.RFC3339)
}

func parseLockDescription(d string) (holder string, expires time.Time, ok bool) {
	rest, ok := strings.CutPrefix(d, lockPrefix)
	if !ok {
		return "", time.Time{}, false
	}
	i := strings.LastIndex(rest, "; expires ")
	if i < 0 {
		return "", time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, rest[i+len("; expires "):])
	if err != nil {
		return "", time.Time{}, false
	}
	return rest[:i], t, true
}
