package operation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/layout"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/schema"
	"github.com/rosterhq/roster/internal/secret"
)

// FmtOptions are what roster fmt is asked.
type FmtOptions struct {
	Paths []string
	// Check changes nothing; Diff computes each change as a unified diff.
	Check, Diff bool
	// Secrets are the secret references the configuration may name.
	Secrets secret.Source
}

// Validate refuses a run without files.
func (o *FmtOptions) Validate() error {
	if len(o.Paths) == 0 {
		return WithHint(errors.New("no configuration given"), "name the files or directories to format, e.g. roster fmt access/")
	}
	return nil
}

// FmtFile is a file not in the canonical layout.
type FmtFile struct {
	Name string
	// Diff is the change as a unified diff, with FmtOptions.Diff.
	Diff []byte
}

// FmtResult are the files fmt found not in the canonical layout, and rewrote unless Check.
type FmtResult struct {
	Check bool
	Files []FmtFile
}

// Fmt rewrites the configuration's files into the canonical layout, after proving that the
// layout keeps what they declare. Why the configuration does not load goes to diags. With
// Check, files not in the layout are an error, returned with the result that lists them.
func Fmt(opts FmtOptions, diags io.Writer) (FmtResult, error) {
	res := FmtResult{Check: opts.Check}
	sopts := schema.Options{Secrets: opts.Secrets}
	cfg, ds := schema.Load(opts.Paths, sopts)
	if ds.HasErrors() {
		for _, d := range ds {
			if d.Severity == diag.Error {
				fmt.Fprintln(diags, d)
			}
		}
		return res, WithHint(errors.New("nothing was formatted: the configuration does not load"),
			"fix the problems above (roster validate lists them), then run roster fmt again")
	}
	files := make([]schema.File, len(cfg.Files))
	formatted := make([]schema.File, len(cfg.Files))
	for i, name := range cfg.Files {
		data, err := os.ReadFile(name)
		if err != nil {
			return res, fmt.Errorf("cannot read %s: %w", name, err)
		}
		out, err := layout.Format(data)
		if err != nil {
			return res, fmt.Errorf("%s: %w; nothing was formatted", name, err)
		}
		files[i] = schema.File{Name: name, Data: data}
		formatted[i] = schema.File{Name: name, Data: out}
	}
	// The formatted files must mean exactly what the files meant.
	after, ds := schema.LoadFiles(formatted, sopts)
	if ds.HasErrors() || !sameMeaning(after, cfg) {
		return res, errors.New("the canonical layout would change what the configuration means; nothing was formatted (please report this)")
	}

	for i, f := range files {
		out := formatted[i].Data
		if bytes.Equal(f.Data, out) {
			continue
		}
		ff := FmtFile{Name: f.Name}
		if opts.Diff {
			ff.Diff = diff.Diff(f.Name, f.Data, f.Name+" (formatted)", out)
		}
		if !opts.Check {
			if err := writeKeepingMode(f.Name, out); err != nil {
				return res, err
			}
		}
		res.Files = append(res.Files, ff)
	}
	if opts.Check && len(res.Files) > 0 {
		verb := "are"
		if len(res.Files) == 1 {
			verb = "is"
		}
		return res, WithHint(fmt.Errorf("%s %s not in the canonical layout", Plural(len(res.Files), "file"), verb),
			"run roster fmt on them (--diff shows the changes)")
	}
	return res, nil
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
