package layout

import (
	"bytes"
	"testing"
)

// Format never panics, and what it returns it returns again when given it.
func FuzzFormat(f *testing.F) {
	for _, s := range []string{
		"version: 1\nrealm: x # r\nusers:\n  - {username: a, role: admin}\n",
		"a: &x [1, 2]\nb: *x\n<<: {c: 1}\n",
		"# c\n\nusers:\n  - # h\n    username: b\n\n  - username: c\n",
		"k: |\n  # text\n  more\n",
		"[1, {a: b}, [c]]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Format(data)
		if err != nil {
			return
		}
		again, err := Format(out)
		if err != nil {
			t.Fatalf("Format of its own output: %v\n%s", err, out)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("not idempotent:\n%s\n---\n%s", out, again)
		}
	})
}
