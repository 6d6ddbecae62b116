package operation

import (
	"context"
	"errors"
	"fmt"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/secret"
)

// DoctorOptions are what roster doctor is asked.
type DoctorOptions struct {
	// Paths are the configuration to check against; none checks CodeMie's defaults in Realm.
	Paths []string
	Realm string
	// For is the job the credentials are for.
	For doctor.Job
	// Secrets are what the operator exposed to the configuration: references are located, not
	// read.
	Secrets secret.Source
}

// Validate refuses options that name no realm or an unknown job.
func (o *DoctorOptions) Validate() error {
	switch {
	case o.For != doctor.JobPlan && o.For != doctor.JobApply && o.For != doctor.JobVerify:
		return WithHint(fmt.Errorf("unknown job %q", o.For), "use --for plan, --for apply or --for verify")
	case len(o.Paths) > 0 && o.Realm != "":
		return WithHint(errors.New("--realm applies only without files"), "the files name their realm")
	case len(o.Paths) == 0 && o.Realm == "":
		return WithHint(errors.New("no realm given"), "name the files to check against, or the realm with --realm REALM")
	}
	return nil
}

// DoctorDeps are what doctor needs besides its options.
type DoctorDeps struct {
	// Diagnostics receives the configuration's diagnostics (Deps.Diagnostics).
	Diagnostics func(diag.List)
	// Open returns the server for realm without logging in: logging in is one of the checks.
	Open Dial[doctor.Target]
}

// DoctorResult is doctor's report with what it examined.
type DoctorResult struct {
	Server, Realm string
	For           doctor.Job
	Report        doctor.Report
}

// Doctor checks a server and realm for the configuration (or CodeMie's defaults) and the job.
// It changes nothing.
func Doctor(ctx context.Context, opts DoctorOptions, deps DoctorDeps) (DoctorResult, error) {
	realm, want := opts.Realm, doctor.Defaults()
	if len(opts.Paths) > 0 {
		cfg, _, err := LoadConfig(opts.Paths, opts.Secrets, Deps{Diagnostics: deps.Diagnostics})
		if err != nil {
			return DoctorResult{}, err
		}
		realm, want = cfg.Realm, doctor.FromConfig(cfg)
	}
	want.Job = opts.For
	t, err := deps.Open(ctx, realm, want.CodeMie)
	if err != nil {
		return DoctorResult{}, err
	}
	return DoctorResult{Server: t.URL(), Realm: t.Realm(), For: want.Job, Report: doctor.Run(ctx, t, want)}, nil
}
