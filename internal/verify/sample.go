package verify

import (
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// DefaultSample is how many users doctor verifies: enough to cover every CodeMie role, few
// enough to stay quick on a realm of thousands.
const DefaultSample = 30

// Kinds are the CodeMie role levels a sample covers, in a fixed order. Each call returns a new
// slice.
func Kinds() []string {
	return []string{"Admin", "Project Admin", "Regular User", "External User", "cannot sign in"}
}

// KindOf is the CodeMie role level an access stands for, one of Kinds.
func KindOf(a model.Access) string {
	switch {
	case a.Disabled || a.Role == "":
		return "cannot sign in"
	case a.External:
		return "External User"
	case a.Role == model.RoleAdmin:
		return "Admin"
	case len(a.Admin) > 0:
		return "Project Admin"
	}
	return "Regular User"
}

// Sample picks n of the subjects: one of each CodeMie role level present first, then the others
// in turn, so that a small sample still covers every level. It is deterministic (it goes by
// username) and keeps the subjects' order; n <= 0 or n >= len(subjects) keeps them all.
func Sample(subjects []Subject, n int) []Subject {
	if n <= 0 || n >= len(subjects) {
		return subjects
	}
	var order []string
	groups := map[string][]int{}
	for i, s := range subjects {
		k := KindOf(s.Want)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	var picked []int
	for round := 0; len(picked) < n; round++ {
		for _, k := range order {
			if round < len(groups[k]) && len(picked) < n {
				picked = append(picked, groups[k][round])
			}
		}
	}
	slices.Sort(picked)
	out := make([]Subject, len(picked))
	for i, p := range picked {
		out[i] = subjects[p]
	}
	return out
}

// Find returns the subject named username (ignoring case).
func Find(subjects []Subject, username string) (Subject, bool) {
	i := slices.IndexFunc(subjects, func(s Subject) bool { return strings.EqualFold(s.Username, username) })
	if i < 0 {
		return Subject{}, false
	}
	return subjects[i], true
}
