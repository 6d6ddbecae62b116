package operation

import (
	"context"
	"errors"
	"fmt"

	"github.com/rosterhq/roster/internal/doctor"
)

// DoctorOptions are what roster doctor is asked.
type DoctorOptions struct {
	// Paths are the configuration to check against; none checks CodeMie's defaults in Realm.
	Paths []string
	Realm string
	// For is the job the credentials are for.
	For doctor.Job
}

// Validate refuses options that name no realm or an unknown job.
func (o *DoctorOptions) Validate() error {
	switch {
	case o.For != doctor.JobPlan && o.For != doctor.JobApply && o.For != doctor.JobVerify:
		return withHint(fmt.Errorf("unknown job %q", o.For), "use --for plan, --for apply or --for verify")
	case len(o.Paths) > 0 && o.Realm != "":
		return withHint(errors.New("--realm applies only without files"), "the files name their realm")
	case len(o.Paths) == 0 && o.Realm == "":
		return withHint(errors.New("no realm given"), "name the files to check against, or the realm with --realm REALM")
	}
	return nil
}

// DoctorDeps are what doctor needs besides its options.
type DoctorDeps struct {
	Load Loader
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
		cfg, err := deps.Load.Load(ctx, opts.Paths)
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
