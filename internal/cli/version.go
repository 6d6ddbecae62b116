package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/iostreams"
)

// Version returns roster's version as recorded in the binary's build information: the module
// version for `go install`ed binaries and for builds of a git checkout (Go stamps a tag, or a
// pseudo-version naming the commit), else the VCS revision when the build recorded one, else
// "(devel)".
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return buildVersion(info)
}

func buildVersion(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, _, dirty := buildVCS(info)
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "(devel)"
	}
	if dirty {
		rev += "-dirty"
	}
	return "(devel) " + rev
}

// buildVCS returns the commit the binary was built from, the commit's time and whether the
// checkout had uncommitted changes, as the go command recorded them; "" when it did not (a
// `go install module@version` build, or -buildvcs=false).
func buildVCS(info *debug.BuildInfo) (revision, time string, modified bool) {
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			time = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return revision, time, modified
}

// versionText is what `roster version` prints: the version, then the commit and its date when the
// build recorded them. All of it comes from the commit, never from the build's clock, so two
// builds of one commit print the same.
func versionText(info *debug.BuildInfo) string {
	s := fmt.Sprintf("roster %s\n", buildVersion(info))
	rev, date, dirty := buildVCS(info)
	if rev != "" {
		if dirty {
			rev += " (with uncommitted changes)"
		}
		s += fmt.Sprintf("commit %s\n", rev)
	}
	if date != "" {
		s += fmt.Sprintf("date   %s\n", date)
	}
	return s
}

func newVersionCmd(ios *iostreams.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print roster's version, commit and commit date",
		Example: `  # The version CI installed; pin the same one for plan and apply
  roster version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			text := "roster (unknown)\n"
			if info, ok := debug.ReadBuildInfo(); ok {
				text = versionText(info)
			}
			_, err := fmt.Fprint(ios.Out, text)
			return err
		},
	}
}
