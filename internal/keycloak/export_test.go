package keycloak

import "time"

// SetLockTiming shortens the apply lock's lease and renewal period for a test; the returned
// function restores them.
func SetLockTiming(lease, renew time.Duration) (restore func()) {
	l, r := lockLease, lockRenew
	lockLease, lockRenew = lease, renew
	return func() { lockLease, lockRenew = l, r }
}
