package cli

import "time"

// The scripts run roster in this test binary: fix the time export writes in its header.
func init() {
	exportClock = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
}
