package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/export"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
	"github.com/rosterhq/roster/internal/schema"
)

type exportOptions struct {
	connect        connectOptions
	Realm          string
	Roles          []string
	Projects       []string
	Adopt          bool
	OwnerAttribute string
	Out            string
	Split          string
	codemie        codemieFlags
}

// exportClock is when the export says it read the realm; tests fix it.
var exportClock = time.Now

func newExportCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --realm REALM",
		Short: "Write a configuration file from the users of a live realm",
		Long: `Export reads a live realm and writes a desired-state file that roster validates and
that plans to "No changes" against the same realm: the realm's unmanaged-attribute
policy and the roles admin and developer as found, and every user holding admin or
developer with their role, projects (decoded as CodeMie decodes them), external flag,
email, names, enabled (written only when false), other attributes and
identity-provider links, sorted by username.

Left out, and counted in the header comment: service accounts, users from user
storage (LDAP, …), which roster never changes, and users without admin or developer
(listed by name): they cannot sign in to CodeMie, and declaring them would grant
access, since the format requires a role.

With --adopt every exported user declares roster's ownership marker, so the next
apply marks them as owned and prune may act on them once they leave the files.

` + connectHelp,
		Example: `  # Adopt an existing realm: export, review, plan (No changes), commit
  roster export --realm codemie-prod --out roster.yaml
  roster plan roster.yaml

  # One file per project, owned by roster from the next apply on
  roster export --realm codemie-prod --adopt --split access/

  # Only the administrators of payments-ai and the platform admins
  roster export --realm codemie-prod --project payments-ai --role admin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.check(); err != nil {
				return err
			}
			return runExport(cmd.Context(), ios, opts)
		},
	}
	opts.connect.addFlags(cmd.Flags())
	opts.codemie.addFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&opts.Realm, "realm", "", "the realm to export (required)")
	completeFromFiles(cmd, "realm", realmsOf)
	f.StringSliceVar(&opts.Roles, "role", nil, "export only users holding this role: admin or developer (repeatable)")
	completeValues(cmd, "role", "admin", "developer")
	f.StringSliceVar(&opts.Projects, "project", nil, "export only users who open this project (repeatable)")
	f.BoolVar(&opts.Adopt, "adopt", false, "declare roster's ownership marker on every exported user")
	f.StringVar(&opts.OwnerAttribute, "owner-attribute", model.DefaultOwnerAttribute, "the ownership marker --adopt declares (settings.ownerAttribute)")
	f.StringVar(&opts.Out, "out", "", "write to this file instead of stdout")
	f.StringVar(&opts.Split, "split", "", "write a directory: realm.yaml, admins.yaml, project-P.yaml per project, no-project.yaml")
	return cmd
}

func (o *exportOptions) check() error {
	if o.Realm == "" {
		return withHint(errors.New("no realm given"), "name the realm to export, e.g. roster export --realm codemie-prod")
	}
	if o.Out != "" && o.Split != "" {
		return withHint(errors.New("--out and --split cannot be combined"), "use --out FILE for one file or --split DIR for a directory")
	}
	for _, r := range o.Roles {
		if !slices.Contains(model.OwnedRoles(), model.Role(r)) {
			return withHint(fmt.Errorf("unknown role %q", r), "use --role admin or --role developer")
		}
	}
	for i, p := range o.Projects {
		o.Projects[i] = strings.ToLower(strings.TrimSpace(p))
	}
	return nil
}

func runExport(ctx context.Context, ios *iostreams.IOStreams, opts *exportOptions) error {
	readAt := exportClock()
	// Links cost a request per linked user (LinkedOnly); service accounts never have any worth
	// exporting.
	cm, err := opts.codemie.model()
	if err != nil {
		return err
	}
	_, _, live, err := opts.connect.read(ctx, opts.Realm, keycloak.ReadOptions{
		LinksFor: func(u string) bool { return !strings.HasPrefix(u, "service-account-") }, LinkedOnly: true,
		IdentityProviders: true, CodeMie: cm})
	if err != nil {
		return err
	}
	roles := make([]model.Role, len(opts.Roles))
	for i, r := range opts.Roles {
		roles[i] = model.Role(r)
	}
	e := export.Build(live, export.Options{
		Roles: roles, Projects: opts.Projects, Adopt: opts.Adopt, OwnerAttribute: opts.OwnerAttribute,
		Server: opts.connect.config(opts.Realm).URL, Time: readAt,
	})
	var files []export.File
	if opts.Split != "" {
		files, err = e.Split()
	} else {
		var data []byte
		data, err = e.Single()
		files = []export.File{{Name: cmp.Or(opts.Out, "(stdout)"), Data: data}}
	}
	if err != nil {
		return err
	}
	cfg, err := checkExport(ios, files)
	if err != nil {
		return err
	}
	warnMisread(ios, cfg, e.Warnings)
	switch {
	case opts.Split != "":
		if err := writeSplit(opts.Split, files, ios.Secrets); err != nil {
			return err
		}
	case opts.Out != "":
		if err := ios.Secrets.WriteFile(opts.Out, files[0].Data); err != nil {
			return fmt.Errorf("failed to write the export: %w", err)
		}
	default:
		_, err := ios.Out.Write(files[0].Data)
		return err
	}
	fmt.Fprintf(ios.ErrOut, "Exported %s from realm %q.\n", plural(len(e.Users), "user"), opts.Realm)
	return nil
}

// checkExport loads what export wrote, as plan will: a user the realm holds but the format
// cannot express (an invalid project name, say) must not go unnoticed.
func checkExport(ios *iostreams.IOStreams, files []export.File) (*model.Config, error) {
	in := make([]schema.File, len(files))
	for i, f := range files {
		in[i] = schema.File{Name: f.Name, Data: f.Data}
	}
	cfg, diags := schema.LoadFiles(in, schema.Options{})
	if !diags.HasErrors() {
		return cfg, nil
	}
	for _, d := range diags {
		fmt.Fprintln(ios.ErrOut, d)
	}
	return nil, withHint(errors.New("the exported configuration would not validate; nothing was written"),
		"the realm holds values the format refuses: fix them in Keycloak, or narrow the export with --role or --project")
}

// warnMisread prints, as validate's warnings at the user's place in the exported files, each
// user CodeMie reads differently from the export's declaration.
func warnMisread(ios *iostreams.IOStreams, cfg *model.Config, warnings []export.Warning) {
	for _, w := range warnings {
		d := diag.Diagnostic{Severity: diag.Warning, Message: fmt.Sprintf("user %q: %s", w.Username, w.Message)}
		for _, u := range cfg.Users {
			if u.Username == w.Username {
				d.Pos = u.Pos
			}
		}
		fmt.Fprintln(ios.ErrOut, d)
	}
}

// writeSplit writes files into dir, refusing a directory that already holds configuration. The
// files, and the directory when it is new, are for their owner only: they describe people.
func writeSplit(dir string, files []export.File, secrets *redact.Secrets) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", dir, err)
	}
	if m, _ := schema.DirFiles(dir); len(m) > 0 {
		return withHint(fmt.Errorf("directory %s already holds configuration (%s)", dir, filepath.Base(m[0])),
			"export into an empty or new directory, then move the files")
	}
	for _, f := range files {
		if err := secrets.WriteFile(filepath.Join(dir, f.Name), f.Data); err != nil {
			return fmt.Errorf("failed to write the export: %w", err)
		}
	}
	return nil
}
