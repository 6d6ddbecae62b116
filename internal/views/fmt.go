package views

import (
	"bytes"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/operation"
)

// Fmt writes the name of each file fmt changed (or would change), or its change as a unified
// diff when fmt computed one.
func Fmt(w io.Writer, r operation.FmtResult) error {
	for _, f := range r.Files {
		var err error
		if f.Diff != nil {
			d := f.Diff
			if !bytes.HasSuffix(d, []byte("\n")) {
				d = append(d, '\n')
			}
			_, err = w.Write(d)
		} else {
			_, err = fmt.Fprintln(w, f.Name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
