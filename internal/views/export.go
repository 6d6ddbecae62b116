package views

import (
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/operation"
)

// Export writes the configuration to out when the export goes to stdout; otherwise it says on
// errOut how many users it wrote.
func Export(out, errOut io.Writer, r operation.ExportResult) error {
	if r.Stdout != nil {
		_, err := out.Write(r.Stdout)
		return err
	}
	_, err := fmt.Fprintf(errOut, "Exported %s from realm %q.\n", operation.Plural(r.Users, "user"), r.Realm)
	return err
}
