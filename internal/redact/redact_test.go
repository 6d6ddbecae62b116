package redact

import (
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStringMasksEveryForm(t *testing.T) {
	t.Parallel()
	s := New()
	secret := `p&ss "w0rd"/+<x>`
	s.Add(secret, "abc", "tab\there") // "abc" is too short to mask
	s.AddBasic("roster app", secret)
	for _, in := range []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		`p\u0026ss \"w0rd\"/+\u003cx\u003e`,
		`p&amp;ss &#34;w0rd&#34;/+&lt;x&gt;`,
		`p&amp;ss "w0rd"/+&lt;x&gt;`, // escape.Markdown
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.StdEncoding.EncodeToString([]byte("roster app:" + secret)),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("roster app") + ":" + url.QueryEscape(secret))),
	} {
		got := s.String("before " + in + " after")
		if got != "before *** after" {
			t.Errorf("String(%q) = %q", in, got)
		}
	}
	if got := s.String(`escaped as tab\there`); got != "escaped as ***" { // escape.Text
		t.Errorf("the terminal-escaped form is not masked: %q", got)
	}
	if got := s.String("abc is short"); got != "abc is short" {
		t.Errorf("a value shorter than MinLen was masked: %q", got)
	}
	var none *Secrets
	none.Add(secret)
	if got := none.String(secret); got != secret {
		t.Errorf("nil set masked: %q", got)
	}
}

// TestWriterSplitSecret writes a secret in pieces, one byte per write, between ordinary lines:
// no piece reaches the output, and what cannot start a secret is not held back.
func TestWriterSplitSecret(t *testing.T) {
	t.Parallel()
	s := New()
	s.Add("s3cr3t-token")
	var out strings.Builder
	w := NewWriter(s, &out)
	w.Write([]byte("line one\nError: "))
	if got := out.String(); got != "line one\nError: " {
		t.Errorf("after the first write: %q; text that cannot start a secret must pass at once", got)
	}
	for _, b := range []byte("s3cr3t-token rejected\n") {
		w.Write([]byte{b})
	}
	w.Write([]byte("ends with s3cr"))
	if strings.Contains(out.String(), "s3cr") {
		t.Errorf("a piece of the secret passed: %q", out.String())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "line one\nError: *** rejected\nends with s3cr"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

func TestWriterSecretAddedLater(t *testing.T) {
	t.Parallel()
	s := New()
	var out strings.Builder
	w := NewWriter(s, &out)
	w.Write([]byte("token: "))
	s.Add("eyJhbGciOi.payload.sig")
	w.Write([]byte("eyJhbGciOi.payload.sig\n"))
	if want := "token: ***\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
}

// TestWriteFileOwnerOnly writes over a file readable by everyone: the result is 0600 and holds
// no secret.
func TestWriteFileOwnerOnly(t *testing.T) {
	t.Parallel()
	s := New()
	s.Add("client-secret-value")
	path := filepath.Join(t.TempDir(), "out.plan")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := s.WriteFile(path, []byte("secret: client-secret-value\n")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if info.Mode().Perm() != 0o600 || string(b) != "secret: ***\n" {
		t.Errorf("file %v %q, want -rw------- \"secret: ***\\n\"", info.Mode(), b)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file", len(entries))
	}
}
