package cli

import (
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/internal/schema"
)

// completeValues makes the shell complete flag with values, and never with file names.
func completeValues(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		return withPrefix(values, prefix), cobra.ShellCompDirectiveNoFileComp
	})
}

// completeFromFiles makes the shell complete flag with what pick finds in the configuration
// files the command line names, or, when it names none, in the *.yaml and *.yml files of the
// current directory: realms for --realm, usernames for --username.
func completeFromFiles(cmd *cobra.Command, flag string, pick func(f *fileSummary) []string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, func(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			args = []string{"."}
		}
		var values []string
		for _, f := range summarize(args) {
			values = append(values, pick(&f)...)
		}
		slices.Sort(values)
		return withPrefix(slices.Compact(values), prefix), cobra.ShellCompDirectiveNoFileComp
	})
}

func realmsOf(f *fileSummary) []string { return []string{f.Realm} }

func usernamesOf(f *fileSummary) []string {
	names := make([]string, len(f.Users))
	for i, u := range f.Users {
		names[i] = strings.ToLower(u.Username) // roster stores usernames lowercase
	}
	return names
}

// fileSummary is what completion reads from a configuration file. Files that do not read are
// skipped: completion must work while the configuration is being written.
type fileSummary struct {
	Realm string `yaml:"realm"`
	Users []struct {
		Username string `yaml:"username"`
	} `yaml:"users"`
}

func summarize(paths []string) []fileSummary {
	var out []fileSummary
	for _, p := range paths {
		names := []string{p}
		if info, err := os.Stat(p); err != nil {
			continue
		} else if info.IsDir() {
			names, _ = schema.DirFiles(p)
		}
		for _, name := range names {
			if info, err := os.Stat(name); err != nil || info.Size() > schema.MaxFileSize {
				continue
			}
			data, err := os.ReadFile(name)
			if err != nil {
				continue
			}
			var f fileSummary
			if yaml.Unmarshal(data, &f) == nil {
				out = append(out, f)
			}
		}
	}
	return out
}

// withPrefix keeps the values that start with prefix and that a shell can take as one
// candidate: a value from a file with white space or a control character in it could otherwise
// add candidates or descriptions of its own.
func withPrefix(values []string, prefix string) []string {
	var out []string
	for _, v := range values {
		if v != "" && strings.HasPrefix(v, prefix) && !strings.ContainsFunc(v, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || !unicode.IsPrint(r)
		}) {
			out = append(out, v)
		}
	}
	return out
}
