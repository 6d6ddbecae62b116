package operation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
	"github.com/rosterhq/roster/internal/plan/render"
	"github.com/rosterhq/roster/internal/planfile"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

// Removal says what a plan does beyond the files: removing users, and rotating
// identity-provider secrets (plan's and apply's --prune, --allow-mass-removal, --rotate-secrets).
type Removal struct {
	// Prune is none, disable, delete, or "" for the file's settings.prune.
	Prune            string
	AllowMassRemoval bool
	RotateSecrets    bool
}

// String lists the flags as given, or says there are none.
func (r Removal) String() string {
	var flags []string
	if r.Prune != "" {
		flags = append(flags, "--prune "+r.Prune)
	}
	if r.AllowMassRemoval {
		flags = append(flags, "--allow-mass-removal")
	}
	if r.RotateSecrets {
		flags = append(flags, "--rotate-secrets")
	}
	if len(flags) == 0 {
		return "no --prune, --allow-mass-removal or --rotate-secrets"
	}
	return strings.Join(flags, " ")
}

// Options returns the options for plan.Build.
func (r Removal) Options() plan.Options {
	return plan.Options{Prune: model.Prune(r.Prune), AllowMassRemoval: r.AllowMassRemoval, RotateSecrets: r.RotateSecrets}
}

// PlanOptions are the inputs of Plan.
type PlanOptions struct {
	// Paths are the configuration's files and directories.
	Paths   []string
	Removal Removal
	// Secrets are what the operator exposed to the configuration; plan locates references
	// without reading them.
	Secrets secret.Source
	// watch sees the apply lock before the read (Planned.Watched), for apply.
	watch bool
}

// Planned is a plan together with what it was computed from.
type Planned struct {
	Config *model.Config
	// Warnings are the configuration's warnings (already given to Deps.Diagnostics).
	Warnings []diag.Diagnostic
	Info     keycloak.RealmInfo
	Live     *model.Live
	Plan     *plan.Plan
	Options  plan.Options
	// Realm is the realm the plan was read from.
	Realm Realm
	// Watched is the apply lock as seen right before the read, when the plan was made for
	// apply; nil otherwise.
	Watched *keycloak.Watch
}

// Plan loads the configuration, reads the live realm and diffs them. Errors in the
// configuration stop it.
func Plan(ctx context.Context, opts PlanOptions, deps Deps) (*Planned, error) {
	cfg, warnings, err := LoadConfig(opts.Paths, opts.Secrets, deps)
	if err != nil {
		return nil, err
	}
	return planConfig(ctx, cfg, warnings, opts.Removal.Options(), opts.watch, deps)
}

// planConfig reads the realm cfg names and plans cfg against it; with watch, it sees the apply
// lock first.
func planConfig(ctx context.Context, cfg *model.Config, warnings []diag.Diagnostic, popts plan.Options, watch bool, deps Deps) (*Planned, error) {
	pl, err := read(ctx, cfg, watch, deps)
	if err != nil {
		return nil, err
	}
	if pl.Plan, err = plan.Build(cfg, pl.Live, popts); err != nil {
		return nil, err
	}
	pl.Warnings, pl.Options = warnings, popts
	return pl, nil
}

// read logs in to the realm cfg names, checks that it exists, sees the apply lock (with watch),
// and reads what cfg manages in it.
func read(ctx context.Context, cfg *model.Config, watch bool, deps Deps) (*Planned, error) {
	done := deps.startRead(cfg.Realm)
	pl := &Planned{Config: cfg}
	var err error
	if pl.Realm, err = deps.Dial(ctx, cfg.Realm, cfg.Settings.CodeMie); err != nil {
		done(nil, err)
		return nil, err
	}
	if pl.Info, err = pl.Realm.ReadRealm(ctx); err != nil {
		done(nil, err)
		return nil, err
	}
	if watch {
		w, err := pl.Realm.Watch(ctx)
		if err != nil {
			done(nil, err)
			return nil, err
		}
		pl.Watched = &w
	}
	ro := keycloak.ReadOptionsFor(cfg)
	ro.Realm = &pl.Info
	if pl.Live, err = pl.Realm.ReadLive(ctx, ro); err != nil {
		err = fmt.Errorf("failed to read realm %q: %w", cfg.Realm, err)
	}
	done(pl.Live, err)
	return pl, err
}

// LoadConfig loads the desired state for an operation that goes on to talk to Keycloak. Every
// diagnostic goes to deps.Diagnostics; errors stop it, warnings are returned. Secret references
// are located but not read: a pull-request plan runs without the secrets, and apply reads each
// one before its first write.
func LoadConfig(paths []string, secrets secret.Source, deps Deps) (*model.Config, []diag.Diagnostic, error) {
	cfg, diags := schema.Load(paths, schema.Options{Secrets: secrets})
	deps.report(diags)
	if diags.HasErrors() {
		errs, _ := diags.Count()
		return nil, nil, WithHint(errors.New("the configuration is not valid: "+Plural(errs, "error")),
			"fix the problems above; `roster validate` checks the files without contacting Keycloak")
	}
	return cfg, Warnings(diags), nil
}

// Warnings returns the warnings among diags.
func Warnings(diags diag.List) []diag.Diagnostic {
	var warnings []diag.Diagnostic
	for _, d := range diags {
		if d.Severity == diag.Warning {
			warnings = append(warnings, d)
		}
	}
	return warnings
}

// SaveOptions say where and how Save writes a plan.
type SaveOptions struct {
	// Out is the file to write.
	Out string
	// Paths are the files and directories the plan was made from, as given.
	Paths   []string
	Removal Removal
	// Server is the Keycloak base URL the plan was made for; RosterVersion the version that
	// made it.
	Server, RosterVersion string
}

// Save writes pl to opts.Out for roster apply PLANFILE: the configuration's files, a
// fingerprint of the live realm, the change set and the plan as JSON, sealed.
func Save(pl *Planned, opts SaveOptions, deps Deps) error {
	sources, err := planfile.ReadSources(pl.Config.Files)
	if err != nil {
		return err
	}
	var dirs []string
	for _, p := range opts.Paths {
		if info, err := os.Stat(p); err == nil && info.IsDir() {
			dirs = append(dirs, filepath.ToSlash(filepath.Clean(p)))
		}
	}
	js, err := json.Marshal(render.NewJSONPlan(pl.Plan))
	if err != nil {
		return err
	}
	return planfile.Write(opts.Out, &planfile.File{
		RosterVersion:    opts.RosterVersion,
		Server:           opts.Server,
		Realm:            pl.Config.Realm,
		Sources:          sources,
		Dirs:             dirs,
		Prune:            opts.Removal.Prune,
		AllowMassRemoval: opts.Removal.AllowMassRemoval,
		RotateSecrets:    opts.Removal.RotateSecrets,
		LiveFingerprint:  planfile.Fingerprint(pl.Live),
		Changes:          planfile.ChangeSet(pl.Plan),
		Plan:             js,
	}, deps.Secrets)
}
