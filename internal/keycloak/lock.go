package keycloak

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rosterhq/roster/internal/model"
)

// LockRole is the realm role that marks a realm as being applied to. Keycloak refuses a second
// role of one name (409), which makes creating it a mutual exclusion; its description says who
// holds it and until when. Live reads leave it out, so it never shows in a plan.
const LockRole = model.ApplyLockRole

// DefaultLockLease is how long an apply lock stays held after its holder's last renewal.
const DefaultLockLease = 2 * time.Minute

// LockedError is returned by TryLock when another run holds the realm's apply lock, or when
// the lock or its mark is a role roster did not make.
type LockedError struct {
	Realm   string
	Holder  string
	Expires time.Time // zero when the role's description is not roster's
	// Role is the role roster did not make: LockRole when empty.
	Role string
}

func (e *LockedError) role() string { return cmp.Or(e.Role, LockRole) }

func (e *LockedError) Error() string {
	if e.Role != "" && e.Role != LockRole {
		return fmt.Sprintf("realm %q has a role %s that roster did not make (%q)", e.Realm, e.Role, e.Holder)
	}
	if e.Expires.IsZero() {
		return fmt.Sprintf("realm %q is locked: it has a role %s that roster did not make (%q)", e.Realm, LockRole, e.Holder)
	}
	return fmt.Sprintf("realm %q is locked by another roster apply (%s)", e.Realm, e.Holder)
}

// Hints suggest how to go on.
func (e *LockedError) Hints() []string {
	if e.Expires.IsZero() {
		return []string{"delete the realm role " + e.role() + " if nothing uses it, or apply with --lock=false"}
	}
	return []string{fmt.Sprintf("wait for that apply to finish, or wait for the lock with --lock-timeout 10m; "+
		"if that run died, its lock expires at %s", e.Expires.UTC().Format(time.RFC3339))}
}

// MarkRole is the realm role whose description names the last apply that took the lock. A run
// that takes the lock marks the realm with it before its first write, so the mark changes with
// every apply that may have written (see Watch), and marks it settled when all its writes
// finished (HeldLock.Settle).
const MarkRole = model.ApplyMarkRole

// The mark's descriptions: taken by a run, then settled by it.
const (
	markTaken   = "Taken by roster apply: "
	markSettled = "Settled by roster apply: "
)

// markDescription is the mark of holder, in state (markTaken or markSettled).
func markDescription(state, holder string) string {
	return state + holder + " at " + time.Now().UTC().Format(time.RFC3339)
}

// watchSearch finds the lock and the mark in one listing of the realm roles.
const watchSearch = "roster-apply-"

// watchMost is how many roles the watch's listing may hold; with more, the lock could be among
// the roles left out, and the watch cannot vouch for the read.
const watchMost = 100

// Watch is the apply lock as one request saw it, just before a read: whether it was free, and
// the mark the last apply left. An apply that then takes the lock and finds the mark it saw
// knows that no other apply wrote since, if that mark was settled: none held the lock during
// the read, the last one finished its writes before it let the lock go, and any that took it
// later would have changed the mark before writing.
type Watch struct {
	// Free is whether no lock existed, held or expired.
	Free bool
	// Mark is the mark's description; "" when the realm has none.
	Mark string
	// Settled is whether the mark says that the run that left it finished all its writes.
	Settled bool
}

// QuietUntil reports whether no other apply can have written between w and the moment the
// lock was taken and found mark. A realm without a mark proves nothing: its mark may have been
// deleted (by hand, or by a tool that owns the realm's roles) after another apply wrote.
func (w Watch) QuietUntil(mark string) bool { return w.Free && w.Settled && mark == w.Mark }

// Watch reads the lock and the mark in a single request, so that both are as they were at one
// moment.
func (c *Client) Watch(ctx context.Context) (Watch, error) {
	w, _, _, err := c.lockRoles(ctx)
	if err != nil {
		return Watch{}, fmt.Errorf("failed to read the apply lock (realm roles %s and %s): %w", LockRole, MarkRole, err)
	}
	return w, nil
}

// lockRoles lists the lock, the mark and the locks given back in one request, and says whether
// the mark exists and which of the roles are locks roster gave back (released: their ids). The
// listing comes from Keycloak's database, not from its cache of roles.
func (c *Client) lockRoles(ctx context.Context) (w Watch, marked bool, released []string, err error) {
	var roles []roleRep
	q := url.Values{"search": {watchSearch}, "first": {"0"}, "max": {fmt.Sprint(watchMost)}}
	if _, err := c.do(ctx, http.MethodGet, "/roles?"+q.Encode(), nil, &roles); err != nil {
		return Watch{}, false, nil, err
	}
	w.Free = len(roles) < watchMost
	for _, r := range roles {
		switch {
		case r.Name == LockRole:
			w.Free = false
		case r.Name == MarkRole:
			w.Mark, marked = r.Description, true
			w.Settled = strings.HasPrefix(r.Description, markSettled)
		case givenBack(r.Name, r.Description):
			released = append(released, r.ID)
		}
	}
	return w, marked, released, nil
}

// HeldLock is an apply lock as its holder sees it: *Lock, or the lock of a fake realm in tests.
// TryLock returns it as an interface so that a fake can stand in for the client.
type HeldLock interface {
	// Lost is closed when the lock is lost; Err then says why.
	Lost() <-chan struct{}
	// Err returns the loss once the lock is lost, else nil.
	Err() error
	// Release gives the lock back and reports its loss.
	Release(ctx context.Context) error
	// QuietSince reports whether no other apply can have written since w was watched: the lock
	// was free then, and the mark found on taking it is the settled one w saw
	// (Watch.QuietUntil).
	QuietSince(w Watch) bool
	// Settle marks the realm settled: every write of this run has finished. Called before
	// Release only when none may still land; otherwise the next apply reads the realm again.
	Settle(ctx context.Context) error
}

// Lock is a held apply lock; Release gives it back. While it is held, the client fences its
// writes with it: a write is sent only while the holder can prove it still holds the lock, and
// fails with *LockLostError otherwise. The holder renews it every lease/4 and writes nothing once
// lease*3/4 has passed since the start of its last successful renewal: the last quarter is the
// margin for a write under way to land before another run may take the lock over.
type Lock struct {
	c      *Client
	id     string
	holder string
	desc   func() string
	lease  time.Duration

	stop chan struct{}
	done chan struct{}
	lost chan struct{} // closed when the lock is lost

	// before is the mark found on taking the lock, before this run marked the realm.
	before string
	// gathered is how many locks given back were there on taking the lock.
	gathered int
	// tag ends the holder's description, and names the lock once given back:
	// model.ApplyReleasedPrefix + tag.
	tag string

	mu         sync.Mutex
	validUntil time.Time // by the monotonic clock: no write may be under way past it
	err        *LockLostError
}

// LockLostError is a write refused because the apply lock can no longer be proven held: a
// renewal failed, or the holder was paused (or starved) past the point where another run may
// take the lock over. Nothing more is written.
type LockLostError struct {
	Realm string
	Why   string
}

func (e *LockLostError) Error() string {
	return fmt.Sprintf("lost the apply lock of realm %q: %s", e.Realm, e.Why)
}

// lockRequest marks the context of the lock's own requests, which its fence lets through.
type lockRequest struct{}

// TryLock takes the realm's apply lock for holder (a description such as "ops@ci-runner pid
// 42") with the given lease (DefaultLockLease when zero or less), once: while another run holds
// it, it returns *LockedError at once, and waiting is the caller's choice. A lock whose holder
// stopped renewing it is taken over. The lock is renewed in the background until Release, and
// from now on every write of c is fenced by it. Once it holds the lock, it marks the realm
// (MarkRole), remembering the mark it replaces for QuietSince.
func (c *Client) TryLock(ctx context.Context, holder string, lease time.Duration) (HeldLock, error) {
	l, err := c.takeLock(ctx, holder, lease)
	if err != nil {
		return nil, err
	}
	// Marked through the fence, like any write of the run, and before the first of them.
	if l.before, l.gathered, err = c.mark(ctx, l.holder); err != nil {
		return nil, errors.Join(err, l.Release(context.WithoutCancel(ctx)))
	}
	return l, nil
}

// mark marks the realm as taken by holder, and returns the mark it replaces ("" when there was
// none) and how many locks given back it found. A role of that name roster did not make is left
// alone, and the apply refused.
func (c *Client) mark(ctx context.Context, holder string) (string, int, error) {
	w, marked, released, err := c.lockRoles(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("failed to read the apply mark (realm role %s): %w", MarkRole, err)
	}
	if marked && !strings.HasPrefix(w.Mark, markTaken) && !strings.HasPrefix(w.Mark, markSettled) {
		return "", 0, &LockedError{Realm: c.cfg.Realm, Holder: w.Mark, Role: MarkRole}
	}
	rep := map[string]string{"name": MarkRole, "description": markDescription(markTaken, holder)}
	if marked {
		_, err = c.do(ctx, http.MethodPut, "/roles/"+url.PathEscape(MarkRole), rep, nil)
	} else {
		_, err = c.do(ctx, http.MethodPost, "/roles", rep, nil)
	}
	if err != nil {
		return "", 0, fmt.Errorf("failed to mark the realm as applied to (realm role %s): %w", MarkRole, err)
	}
	return w.Mark, len(released), nil
}

// QuietSince reports whether no other apply can have written since w was watched.
func (l *Lock) QuietSince(w Watch) bool { return w.QuietUntil(l.before) }

// Settle marks the realm settled, through the fence.
func (l *Lock) Settle(ctx context.Context) error {
	_, err := l.c.do(ctx, http.MethodPut, "/roles/"+url.PathEscape(MarkRole),
		map[string]string{"name": MarkRole, "description": markDescription(markSettled, l.holder)}, nil)
	return err
}

// takeLock is TryLock up to the mark.
func (c *Client) takeLock(ctx context.Context, holder string, lease time.Duration) (*Lock, error) {
	nonce := make([]byte, 6)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	if lease <= 0 {
		lease = DefaultLockLease
	}
	tag := hex.EncodeToString(nonce)
	holder = holder + " #" + tag
	describe := func() string { return lockDescription(holder, time.Now().Add(lease)) }
	ctx = context.WithValue(ctx, lockRequest{}, true)
	// Each attempt that finds no lock to report (a failed create, a lock released or taken over
	// between two requests) waits before the next, and there are at most maxAttempts.
	var wait time.Duration
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = backoff(attempt, nil)
		sent := time.Now()
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
			wait = backoff(attempt, presp)
			continue
		case IsNotFound(err):
			continue // released between the two requests
		case err != nil:
			return nil, fmt.Errorf("failed to read the apply lock (realm role %s): %w", LockRole, err)
		}
		who, expires, ok := parseLockDescription(role.Description)
		switch {
		case ok && who == holder:
			l := &Lock{c: c, id: role.ID, holder: holder, tag: tag, desc: describe, lease: lease, validUntil: sent.Add(lease),
				stop: make(chan struct{}), done: make(chan struct{}), lost: make(chan struct{})}
			c.fence.Store(l)
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
		}
		return nil, &LockedError{Realm: c.cfg.Realm, Holder: who, Expires: expires}
	}
	return nil, fmt.Errorf("failed to take the apply lock (realm role %s): other runs took and released it %d times in a row", LockRole, maxAttempts)
}

// check returns nil while a write sent now may land with the lock held, and the deadline the
// write must finish by; otherwise the loss, for good.
func (l *Lock) check() (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil && !time.Now().Before(l.validUntil.Add(-l.lease/4)) {
		l.loseLocked(fmt.Sprintf("no renewal succeeded for %s (the process was paused, or starved, or cut off from Keycloak)",
			time.Since(l.validUntil.Add(-l.lease)).Round(time.Second)))
	}
	if l.err != nil {
		return time.Time{}, l.err
	}
	return l.validUntil, nil
}

// loseLocked records the loss; l.mu must be held.
func (l *Lock) loseLocked(why string) {
	if l.err == nil {
		l.err = &LockLostError{Realm: l.c.cfg.Realm, Why: why}
		close(l.lost)
	}
}

// Lost is closed when the lock is lost; Err then says why.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// Err returns the *LockLostError once the lock is lost, else nil.
func (l *Lock) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		return nil
	}
	return l.err
}

// renew renews the lease every lease/4. A renewal is sent only while the lock is provably held,
// and a failed one loses the lock: after it another run may take the lock over at any moment.
func (l *Lock) renew() {
	defer close(l.done)
	t := time.NewTicker(l.lease / 4)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.lost:
			return
		case <-t.C:
		}
		until, err := l.check()
		if err != nil {
			return
		}
		sent := time.Now()
		ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), lockRequest{}, true), until)
		_, err = l.c.do(ctx, http.MethodPut, "/roles-by-id/"+url.PathEscape(l.id),
			map[string]string{"name": LockRole, "description": l.desc()}, nil)
		cancel()
		l.mu.Lock()
		if err != nil {
			l.loseLocked("renewing it failed: " + err.Error())
		} else if l.err == nil {
			l.validUntil = sent.Add(l.lease)
		}
		l.mu.Unlock()
	}
}

// releasedSwept is how many locks given back Release lets gather before it deletes them. Keycloak
// empties its cache of the realm's users whenever a realm role is deleted, and the next read of a
// large realm then loads every user from its database (16 s instead of 2.3 s for 10,000 users;
// docs/benchmarks.md): so a lock is given back by renaming it, and the renamed roles are deleted
// together, once in this many applies.
const releasedSwept = 10

// releasedPrefix begins the description of a lock given back.
const releasedPrefix = "Released by roster apply: "

// releasedName matches the name of a lock given back; its group is the tag of the run.
var releasedName = regexp.MustCompile(`^` + regexp.QuoteMeta(model.ApplyReleasedPrefix) + `([0-9a-f]{12})$`)

// givenBack reports whether a role is a lock roster gave back: its name is the released prefix and
// a run's tag, and its description, as Release wrote it, names a holder with that same tag.
func givenBack(name, description string) bool {
	m := releasedName.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	rest, ok := strings.CutPrefix(description, releasedPrefix)
	i := strings.LastIndex(rest, " at ")
	if !ok || i < 0 || !strings.HasSuffix(rest[:i], " #"+m[1]) {
		return false
	}
	_, err := time.Parse(time.RFC3339, rest[i+len(" at "):])
	return err == nil
}

// sweepTime bounds the sweep of the locks given back, so that giving the lock itself back keeps
// the rest of the time Release has.
const sweepTime = 3 * time.Second

// Release stops renewing the lock, stops fencing the client's writes with it, and gives it back
// by renaming it to model.ApplyReleasedPrefix and the run's tag, which frees the lock's name
// without deleting a role (by id: a lock another run took over has another id and stays). When
// releasedSwept locks given back or more were there on taking the lock, it first deletes those
// there are now (givenBack), within sweepTime and without retries; one it fails to delete is
// deleted by a later apply. A lock that was lost is deleted instead: a renewal whose answer was
// lost may still land and would rename a role given back into a lock again. So is one the rename
// fails on. It reports the loss of the lock.
func (l *Lock) Release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	l.c.fence.CompareAndSwap(l, nil)
	ctx = context.WithValue(ctx, lockRequest{}, true)
	path := "/roles-by-id/" + url.PathEscape(l.id)
	if l.Err() == nil {
		if l.gathered >= releasedSwept {
			l.sweep(ctx)
		}
		rep := map[string]string{"name": model.ApplyReleasedPrefix + l.tag,
			"description": releasedPrefix + l.holder + " at " + time.Now().UTC().Format(time.RFC3339)}
		if _, err := l.c.do(ctx, http.MethodPut, path, rep, nil); err == nil || IsNotFound(err) {
			return nil
		}
	}
	// Lost, or the rename failed: deleted, as a lock taken over is.
	if _, err := l.c.do(ctx, http.MethodDelete, path, nil, nil); err != nil && !IsNotFound(err) {
		return errors.Join(fmt.Errorf("failed to release the apply lock (realm role %s): %w", LockRole, err), l.Err())
	}
	return l.Err()
}

// sweep deletes the locks given back, listed again (only roles that still are one), stopping at
// the first failure or after sweepTime.
func (l *Lock) sweep(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, sweepTime)
	defer cancel()
	_, _, released, err := l.c.lockRoles(ctx)
	if err != nil {
		return
	}
	for _, id := range released {
		if _, err := l.c.send(ctx, http.MethodDelete, "/roles-by-id/"+url.PathEscape(id), nil, nil, false); err != nil && !IsNotFound(err) {
			return
		}
	}
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
