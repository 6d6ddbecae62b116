package operation

import (
	"errors"
	"fmt"
	"os"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/plan/render"
	"github.com/rosterhq/roster/internal/planfile"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

// ShowOptions are the inputs of Show.
type ShowOptions struct {
	// Path is the saved plan.
	Path string
	// RosterVersion is this roster's version; a plan made by another is refused.
	RosterVersion string
}

// Shown is a saved plan, read back.
type Shown struct {
	Saved *planfile.File
	// Plan is the plan the file shows for review.
	Plan *plan.Plan
	// Warnings are those of the configuration the plan was saved with.
	Warnings diag.List
}

// Show reads a plan saved with roster plan --out, offline. A file edited since roster wrote it,
// or made by another version, is refused as apply refuses it; so is a plan that cannot be read
// back (what cannot be shown as text is not passed on as JSON either).
func Show(opts ShowOptions) (*Shown, error) {
	f, err := os.Open(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the plan: %w", err)
	}
	defer f.Close()
	saved, err := planfile.Read(f, opts.RosterVersion)
	if errors.Is(err, planfile.ErrNotPlan) {
		return nil, WithHint(fmt.Errorf("%s is %w", opts.Path, err), "save a plan with roster plan --out FILE; configuration files are shown by roster plan itself")
	}
	if err != nil {
		return nil, err
	}
	p, err := render.ReadJSON(saved.Plan)
	if err != nil {
		return nil, fmt.Errorf("cannot show the saved plan: %w", err)
	}
	return &Shown{Saved: saved, Plan: p, Warnings: savedWarnings(saved)}, nil
}

// savedWarnings are the warnings of the configuration a plan was saved with: validating the
// saved files again, offline, finds them.
func savedWarnings(saved *planfile.File) diag.List {
	files := make([]schema.File, len(saved.Sources))
	for i, s := range saved.Sources {
		files[i] = schema.File{Name: s.Path, Data: s.Content}
	}
	_, diags := schema.LoadFiles(files, schema.Options{Secrets: secret.FromEnv("")})
	return Warnings(diags)
}
