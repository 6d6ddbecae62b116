package views

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/diag"
)

// JSONDocument writes the JSON object write renders to w with diags appended as its last
// member, "diagnostics": every JSON output carries the configuration's warnings and errors with
// their positions.
func JSONDocument(w io.Writer, diags diag.List, write func(io.Writer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	doc := bytes.TrimRight(b.Bytes(), " \n")
	if len(doc) < 2 || doc[len(doc)-1] != '}' {
		return errors.New("internal error: a JSON output is not an object")
	}
	list, err := json.MarshalIndent(diags.JSON(), "  ", "  ")
	if err != nil {
		return err
	}
	body := bytes.TrimRight(doc[:len(doc)-1], " \n")
	sep := ","
	if bytes.Equal(bytes.TrimSpace(body), []byte("{")) {
		sep = ""
	}
	_, err = fmt.Fprintf(w, "%s%s\n  \"diagnostics\": %s\n}\n", body, sep, list)
	return err
}

// JSONValue writes v, a JSON object, indented, with diags.
func JSONValue(w io.Writer, diags diag.List, v any) error {
	return JSONDocument(w, diags, func(w io.Writer) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}
