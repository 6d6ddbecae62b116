package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/rogpeppe/go-internal/diff"
	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/layout"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

type fmtOptions struct {
	Paths      []string
	Check      bool
	Diff       bool
	SecretsDir string
}

func newFmtCmd(ios *iostreams.IOStreams) *cobra.Command {
	opts := &fmtOptions{}
	cmd := &cobra.Command{
		Use:   "fmt PATH...",
		Short: "Rewrite configuration files into the canonical layout",
		Long: `Fmt rewrites configuration files in roster's canonical layout, keeping every comment
and value, and prints the name of each file it changed. Directories contribute their
*.yaml and *.yml files, as for validate.

The layout: keys in the order of docs/format.md, two spaces of indentation, short
lists of plain values on one line ([a, b]), secret references as {env: ...}, every
other mapping one key per line, values quoted only where YAML needs it, one space
before a comment that ends a line, and blank lines between entries kept where the
file has them (docs/format.md#canonical-layout).

Fmt changes nothing when the configuration does not load (roster validate shows why):
a file split over several files is formatted by naming all of them, or their
directory. Running fmt twice gives the same files.

--check changes nothing: it lists the files that are not in the canonical layout and
exits 1 if there are any, for CI. --diff prints the changes as a unified diff instead
of the file names (and, without --check, still makes them).`,
		Example: `  # Format every configuration file in access/
  roster fmt access/

  # In CI: fail when a file is not formatted, and show how
  roster fmt --check --diff access/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			if len(args) == 0 {
				return withHint(errors.New("no configuration given"), "name the files or directories to format, e.g. roster fmt access/")
			}
			return runFmt(ios, opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Check, "check", false, "change nothing; list the files that are not formatted and exit 1 if any")
	f.BoolVar(&opts.Diff, "diff", false, "print the changes as a unified diff")
	addSecretsDirFlag(f, &opts.SecretsDir)
	return cmd
}

func runFmt(ios *iostreams.IOStreams, opts *fmtOptions) error {
	sopts := schema.Options{Secrets: secret.FromEnv(opts.SecretsDir)}
	cfg, diags := schema.Load(opts.Paths, sopts)
	if diags.HasErrors() {
		for _, d := range diags {
			if d.Severity == diag.Error {
				fmt.Fprintln(ios.ErrOut, d)
			}
		}
		return withHint(errors.New("nothing was formatted: the configuration does not load"),
			"fix the problems above (roster validate lists them), then run roster fmt again")
	}
	files := make([]schema.File, len(cfg.Files))
	formatted := make([]schema.File, len(cfg.Files))
	for i, name := range cfg.Files {
		data, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", name, err)
		}
		out, err := layout.Format(data)
		if err != nil {
			return fmt.Errorf("%s: %w; nothing was formatted", name, err)
		}
		files[i] = schema.File{Name: name, Data: data}
		formatted[i] = schema.File{Name: name, Data: out}
	}
	// The formatted files must mean exactly what the files meant.
	after, diags := schema.LoadFiles(formatted, sopts)
	if diags.HasErrors() || !sameMeaning(after, cfg) {
		return errors.New("the canonical layout would change what the configuration means; nothing was formatted (please report this)")
	}

	var unformatted []string
	for i, f := range files {
		out := formatted[i].Data
		if bytes.Equal(f.Data, out) {
			continue
		}
		unformatted = append(unformatted, f.Name)
		if opts.Diff {
			d := diff.Diff(f.Name, f.Data, f.Name+" (formatted)", out)
			if !bytes.HasSuffix(d, []byte("\n")) {
				d = append(d, '\n')
			}
			if _, err := ios.Out.Write(d); err != nil {
				return err
			}
		} else {
			fmt.Fprintln(ios.Out, f.Name)
		}
		if !opts.Check {
			if err := writeKeepingMode(f.Name, out); err != nil {
				return err
			}
		}
	}
	if opts.Check && len(unformatted) > 0 {
		verb := "are"
		if len(unformatted) == 1 {
			verb = "is"
		}
		return withHint(fmt.Errorf("%s %s not in the canonical layout", plural(len(unformatted), "file"), verb),
			"run roster fmt on them (--diff shows the changes)")
	}
	return nil
}

// writeKeepingMode replaces a file's content through a file beside it, so that an interrupted
// fmt leaves either the old or the new content, and keeps its permissions. A symbolic link
// stays one: its target is rewritten.
func writeKeepingMode(name string, data []byte) error {
	name, err := filepath.EvalSymlinks(name)
	if err != nil {
		return err
	}
	info, err := os.Stat(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", name, err)
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("cannot write %s: %w", name, err)
	}
	return nil
}

// sameMeaning reports whether two configurations declare the same, wherever in their files they
// do it: they are compared as JSON without the positions (every field named Pos).
func sameMeaning(a, b *model.Config) bool {
	va, erra := withoutPositions(a)
	vb, errb := withoutPositions(b)
	return erra == nil && errb == nil && reflect.DeepEqual(va, vb)
}

func withoutPositions(cfg *model.Config) (any, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			delete(v, "Pos")
			for _, e := range v {
				strip(e)
			}
		case []any:
			for _, e := range v {
				strip(e)
			}
		}
	}
	strip(v)
	return v, nil
}
