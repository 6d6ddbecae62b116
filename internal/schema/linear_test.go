package schema

import (
	"runtime"
	"testing"
)

// TestLoadIsLinear catches a return to loading that grows faster than the file, without
// timing anything: what loading 2,000 more users costs, in allocations and in bytes allocated,
// must stay the same from 2,000 to 4,000 users as from 4,000 to 8,000. A cost quadratic in the
// users doubles that margin; a linear one keeps it (within the slack of maps and slices growing
// by steps). A scan that allocates nothing (a lookup in a list instead of a set) escapes it;
// BenchmarkValidate in internal/bench shows those as wall per doubling.
func TestLoadIsLinear(t *testing.T) {
	type cost struct{ allocs, bytes float64 }
	measure := func(n int) cost {
		files := []File{{Name: "users.yaml", Data: generateConfig(n)}}
		load := func() {
			if cfg, diags := LoadFiles(files, Options{}); cfg == nil {
				t.Fatalf("%d users: %v", n, diags[:min(len(diags), 5)])
			}
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		load()
		runtime.ReadMemStats(&after)
		return cost{allocs: float64(after.Mallocs - before.Mallocs), bytes: float64(after.TotalAlloc - before.TotalAlloc)}
	}
	compiledSchema() // compiled once, before any measure
	c2, c4, c8 := measure(2000), measure(4000), measure(8000)
	// The margin per user of each step: the fixed part (projects, teams) cancels out.
	first := cost{(c4.allocs - c2.allocs) / 2000, (c4.bytes - c2.bytes) / 2000}
	second := cost{(c8.allocs - c4.allocs) / 4000, (c8.bytes - c4.bytes) / 4000}
	t.Logf("per user from 2,000 to 4,000: %.0f allocations, %.0f bytes; from 4,000 to 8,000: %.0f allocations, %.0f bytes",
		first.allocs, first.bytes, second.allocs, second.bytes)
	if second.allocs > 1.1*first.allocs {
		t.Errorf("allocations per user grow with the file: %.0f from 2,000 to 4,000 users, %.0f from 4,000 to 8,000", first.allocs, second.allocs)
	}
	if second.bytes > 1.25*first.bytes {
		t.Errorf("bytes allocated per user grow with the file: %.0f from 2,000 to 4,000 users, %.0f from 4,000 to 8,000", first.bytes, second.bytes)
	}
}
