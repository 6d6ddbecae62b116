package operation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/export"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
	"github.com/rosterhq/roster/internal/schema"
)

// ExportOptions are what roster export is asked.
type ExportOptions struct {
	Realm string
	// Roles and Projects narrow the export to the users holding one of the roles and opening
	// one of the projects; empty means all.
	Roles    []string
	Projects []string
	// Adopt declares the ownership marker OwnerAttribute on every exported user.
	Adopt          bool
	OwnerAttribute string
	// Out is the file to write, Split the directory; neither means stdout.
	Out, Split string
	// CodeMie is how CodeMie reads the realm (the --codemie-* flags).
	CodeMie model.CodeMie
	// Server is the server's URL, which the export's header names.
	Server string
}

// Validate refuses options that cannot be exported, and lowercases the projects as the format
// names them.
func (o *ExportOptions) Validate() error {
	if o.Realm == "" {
		return WithHint(errors.New("no realm given"), "name the realm to export, e.g. roster export --realm codemie-prod")
	}
	if o.Out != "" && o.Split != "" {
		return WithHint(errors.New("--out and --split cannot be combined"), "use --out FILE for one file or --split DIR for a directory")
	}
	for _, r := range o.Roles {
		if !slices.Contains(model.OwnedRoles(), model.Role(r)) {
			return WithHint(fmt.Errorf("unknown role %q", r), "use --role admin or --role developer")
		}
	}
	for i, p := range o.Projects {
		o.Projects[i] = strings.ToLower(strings.TrimSpace(p))
	}
	return nil
}

// ExportResult is what export did.
type ExportResult struct {
	Realm string
	// Users is how many users the export declares.
	Users int
	// Stdout is the export when it goes to stdout, nil when it was written to files.
	Stdout []byte
	// Written are the files written, in order.
	Written []string
}

// Export reads the realm and writes the configuration that declares its users, after loading
// it as plan will: a user the realm holds but the format cannot express stops the export
// before anything is written. It uses deps.Dial, deps.Clock (when it read the realm, for the
// header), deps.Secrets (masked in the files it writes, which are for their owner only) and
// deps.Diagnostics (why the export would not load, the users CodeMie reads differently from
// their declaration).
func Export(ctx context.Context, opts ExportOptions, deps Deps) (ExportResult, error) {
	res := ExportResult{Realm: opts.Realm}
	readAt := deps.clock().Now()
	r, err := deps.Dial(ctx, opts.Realm, opts.CodeMie)
	if err != nil {
		return res, err
	}
	// Links cost a request per linked user (LinkedOnly); service accounts never have any worth
	// exporting.
	live, err := readLive(ctx, r, opts.Realm, keycloak.ReadOptions{
		LinksFor: func(u string) bool { return !strings.HasPrefix(u, "service-account-") }, LinkedOnly: true,
		IdentityProviders: true, CodeMie: opts.CodeMie})
	if err != nil {
		return res, err
	}
	roles := make([]model.Role, len(opts.Roles))
	for i, r := range opts.Roles {
		roles[i] = model.Role(r)
	}
	e := export.Build(live, export.Options{
		Roles: roles, Projects: opts.Projects, Adopt: opts.Adopt, OwnerAttribute: opts.OwnerAttribute,
		Server: opts.Server, Time: readAt,
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
		return res, err
	}
	cfg, err := checkExport(deps, files)
	if err != nil {
		return res, err
	}
	deps.report(misread(cfg, e.Warnings))
	res.Users = len(e.Users)
	switch {
	case opts.Split != "":
		res.Written, err = writeSplit(deps.Secrets, opts.Split, files)
	case opts.Out != "":
		if err = deps.Secrets.WriteFile(opts.Out, files[0].Data); err != nil {
			err = fmt.Errorf("failed to write the export: %w", err)
		} else {
			res.Written = []string{opts.Out}
		}
	default:
		res.Stdout = files[0].Data
	}
	return res, err
}

// checkExport loads what export wrote, as plan will: a user the realm holds but the format
// cannot express (an invalid project name, say) must not go unnoticed.
func checkExport(deps Deps, files []export.File) (*model.Config, error) {
	in := make([]schema.File, len(files))
	for i, f := range files {
		in[i] = schema.File{Name: f.Name, Data: f.Data}
	}
	cfg, ds := schema.LoadFiles(in, schema.Options{})
	if !ds.HasErrors() {
		return cfg, nil
	}
	deps.report(ds)
	return nil, WithHint(errors.New("the exported configuration would not validate; nothing was written"),
		"the realm holds values the format refuses: fix them in Keycloak, or narrow the export with --role or --project")
}

// misread returns, as validate's warnings at the user's place in the exported files, each user
// CodeMie reads differently from the export's declaration.
func misread(cfg *model.Config, warnings []export.Warning) diag.List {
	var l diag.List
	for _, w := range warnings {
		d := diag.Diagnostic{Severity: diag.Warning, Message: fmt.Sprintf("user %q: %s", w.Username, w.Message)}
		for _, u := range cfg.Users {
			if u.Username == w.Username {
				d.Pos = u.Pos
			}
		}
		l = append(l, d)
	}
	return l
}

// writeSplit writes files into dir, refusing a directory that already holds configuration. The
// files, and the directory when it is new, are for their owner only: they describe people.
func writeSplit(w *redact.Secrets, dir string, files []export.File) ([]string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create %s: %w", dir, err)
	}
	if m, _ := schema.DirFiles(dir); len(m) > 0 {
		return nil, WithHint(fmt.Errorf("directory %s already holds configuration (%s)", dir, filepath.Base(m[0])),
			"export into an empty or new directory, then move the files")
	}
	var written []string
	for _, f := range files {
		name := filepath.Join(dir, f.Name)
		if err := w.WriteFile(name, f.Data); err != nil {
			return written, fmt.Errorf("failed to write the export: %w", err)
		}
		written = append(written, name)
	}
	return written, nil
}
