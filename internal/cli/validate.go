package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

// ValidateOptions are the inputs of `roster validate`.
type ValidateOptions struct {
	IO           *iostreams.IOStreams
	Paths        []string
	Format       string // text | json
	Strict       bool
	CheckSecrets bool
	SecretsDir   string
}

func newValidateCmd(ios *iostreams.IOStreams, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check configuration files without contacting Keycloak",
		Long: `Check desired-state files without contacting Keycloak.

Each PATH is a YAML file or a directory, whose *.yaml and *.yml files (in any case)
are read in name order (subdirectories are not); a file there that looks meant as
YAML but is not named so (teams.yaml.bak) is an error. A file named twice is read
once. Objects may be spread over several files; a valid run lists the files read.
Every problem is reported at once as file:line:col: message.

Exit status: 0 when the configuration is valid, 1 when it has errors (or warnings,
with --strict).`,
		Example: `  roster validate examples/codemie-prod.yaml
  roster validate --strict --check-secrets --secrets-dir /run/secrets/roster config/
  roster validate --format json config/ | jq .diagnostics`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return withHint(errors.New("validate needs at least one file or directory"),
					"run 'roster validate config/' or 'roster validate roster.yaml'")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if opts.Format != "text" && opts.Format != "json" {
				return withHint(fmt.Errorf("unknown format %q", opts.Format), "use --format text or --format json")
			}
			if runF != nil {
				return runF(opts)
			}
			return runValidate(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "text", "output format: text or json")
	completeValues(cmd, "format", "text", "json")
	cmd.Flags().BoolVar(&opts.Strict, "strict", false, "fail on warnings too")
	cmd.Flags().BoolVar(&opts.CheckSecrets, "check-secrets", false,
		"check that every secret reference resolves: its environment variable is set, its file is in the secrets directory, neither is empty")
	addSecretsDirFlag(cmd.Flags(), &opts.SecretsDir)
	return cmd
}

func runValidate(opts *ValidateOptions) error {
	cfg, diags := schema.Load(opts.Paths, schema.Options{CheckSecrets: opts.CheckSecrets, Secrets: secret.FromEnv(opts.SecretsDir)})
	errs, warns := diags.Count()
	failed := errs > 0 || opts.Strict && warns > 0
	var err error
	if opts.Format == "json" {
		err = writeValidateJSON(opts.IO.Out, cfg, diags, !failed)
	} else {
		err = writeValidateText(opts.IO.Out, cfg, diags, failed, opts.Strict)
	}
	if err != nil {
		return err
	}
	if failed {
		return silentExit(ExitError)
	}
	return nil
}

func writeValidateText(w io.Writer, cfg *model.Config, diags diag.List, failed, strict bool) error {
	for _, d := range diags {
		if _, err := fmt.Fprintln(w, d.String()); err != nil {
			return err
		}
	}
	errs, warns := diags.Count()
	var err error
	switch {
	case failed && errs == 0:
		_, err = fmt.Fprintf(w, "%s (--strict fails on warnings).\n", plural(warns, "warning"))
	case failed:
		_, err = fmt.Fprintf(w, "%s, %s.\n", plural(errs, "error"), plural(warns, "warning"))
	default:
		for _, f := range cfg.Files {
			if _, err := fmt.Fprintf(w, "Read %s\n", escape.Text(f)); err != nil {
				return err
			}
		}
		c := countConfig(cfg)
		suffix := ""
		if warns > 0 {
			suffix = fmt.Sprintf(" (%s)", plural(warns, "warning"))
		}
		_, err = fmt.Fprintf(w, "Success! %s, %s, %s, %s%s.\n", plural(c.Files, "file"), plural(c.Users, "user"),
			plural(c.Teams, "team"), plural(c.Projects, "project"), suffix)
	}
	return err
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// configCounts summarise a valid configuration.
type configCounts struct {
	Files    int `json:"files"`
	Users    int `json:"users"`
	Teams    int `json:"teams"`
	Projects int `json:"projects"`
}

// countConfig counts the distinct projects the registry declares or any grant names.
func countConfig(cfg *model.Config) configCounts {
	projects := slices.Clone(cfg.Projects)
	for _, t := range cfg.Teams {
		projects = append(append(projects, t.Grants.Member...), t.Grants.Admin...)
	}
	for _, u := range cfg.Users {
		projects = append(projects, u.Access.Projects...)
	}
	return configCounts{Files: len(cfg.Files), Users: len(cfg.Users), Teams: len(cfg.Teams),
		Projects: len(model.NormalizeProjects(projects))}
}

type jsonValidate struct {
	FormatVersion string        `json:"format_version"`
	Valid         bool          `json:"valid"`
	ErrorCount    int           `json:"error_count"`
	WarningCount  int           `json:"warning_count"`
	Counts        *configCounts `json:"counts"` // null when the configuration has errors
	// Files are the files read, in load order, named as given; [] when the configuration has
	// errors.
	Files       []string    `json:"files"`
	Diagnostics []diag.JSON `json:"diagnostics"`
}

func writeValidateJSON(w io.Writer, cfg *model.Config, diags diag.List, valid bool) error {
	out := jsonValidate{FormatVersion: output.ValidateDocument.Version(), Valid: valid, Diagnostics: diags.JSON(), Files: []string{}}
	out.ErrorCount, out.WarningCount = diags.Count()
	if cfg != nil {
		c := countConfig(cfg)
		out.Counts = &c
		out.Files = append(out.Files, cfg.Files...)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
