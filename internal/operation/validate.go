package operation

import (
	"slices"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

// ValidateOptions are the inputs of Validate.
type ValidateOptions struct {
	Paths []string
	// Strict fails on warnings too.
	Strict bool
	// CheckSecrets reads every secret reference through Secrets, instead of only locating it.
	CheckSecrets bool
	Secrets      secret.Source
}

// Validated is what Validate found.
type Validated struct {
	// Config is the configuration; nil when it has errors.
	Config *model.Config
	Diags  diag.List
	// Failed is true when the configuration has errors, or warnings under Strict.
	Failed bool
	Strict bool
	// Counts summarise a valid configuration.
	Counts Counts
}

// Counts summarise a valid configuration.
type Counts struct {
	Files    int `json:"files"`
	Users    int `json:"users"`
	Teams    int `json:"teams"`
	Projects int `json:"projects"`
}

// Validate checks the configuration's files without contacting Keycloak.
func Validate(opts ValidateOptions) *Validated {
	cfg, diags := schema.Load(opts.Paths, schema.Options{CheckSecrets: opts.CheckSecrets, Secrets: opts.Secrets})
	errs, warns := diags.Count()
	v := &Validated{Config: cfg, Diags: diags, Failed: errs > 0 || opts.Strict && warns > 0, Strict: opts.Strict}
	if cfg != nil {
		v.Counts = count(cfg)
	}
	return v
}

// count counts the distinct projects the registry declares or any grant names.
func count(cfg *model.Config) Counts {
	projects := slices.Clone(cfg.Projects)
	for _, t := range cfg.Teams {
		projects = append(append(projects, t.Grants.Member...), t.Grants.Admin...)
	}
	for _, u := range cfg.Users {
		projects = append(projects, u.Access.Projects...)
	}
	return Counts{Files: len(cfg.Files), Users: len(cfg.Users), Teams: len(cfg.Teams),
		Projects: len(model.NormalizeProjects(projects))}
}
