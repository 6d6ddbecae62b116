package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/views"
)

type exportOptions struct {
	connect connectOptions
	codemie codemieFlags
	operation.ExportOptions
}

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

func runExport(ctx context.Context, ios *iostreams.IOStreams, opts *exportOptions) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	cm, err := opts.codemie.model()
	if err != nil {
		return err
	}
	opts.CodeMie, opts.Server = cm, opts.connect.config(opts.Realm).URL
	deps := opts.connect.deps(ctx, ios)
	deps.Clock = clockOf(ctx)
	res, err := operation.Export(ctx, opts.ExportOptions, deps)
	if err != nil {
		return classify(err)
	}
	return views.Export(ios.Out, ios.ErrOut, res)
}
