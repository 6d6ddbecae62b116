package redact

import (
	"io"
	"sync"
)

// Writer masks the secrets of a set in everything written through it. A secret may arrive in
// pieces over several writes, so Writer holds back the end of a write when it may be the start
// of a secret, until the next write or Flush settles it: text that cannot start a secret passes
// on at once. Writer is safe for concurrent use.
type Writer struct {
	s *Secrets
	w io.Writer

	mu   sync.Mutex
	held string
}

// NewWriter returns a Writer that masks s's secrets on their way to w.
func NewWriter(s *Secrets, w io.Writer) *Writer { return &Writer{s: s, w: w} }

// Write masks p's secrets and writes all of it that cannot be the start of a secret. It reports
// len(p) when the underlying write succeeds.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	text := w.s.String(w.held + string(p))
	keep := 0
	if w.s != nil {
		keep = w.s.pending(text)
	}
	w.held = text[len(text)-keep:]
	if out := text[:len(text)-keep]; out != "" {
		if _, err := io.WriteString(w.w, out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what Write held back: at the end of the output, or before waiting for input,
// it is not the start of a secret after all.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.held == "" {
		return nil
	}
	held := w.held
	w.held = ""
	_, err := io.WriteString(w.w, held)
	return err
}
