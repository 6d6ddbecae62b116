package keycloak

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// loggingTransport writes one line per HTTP request to w: method, URL path, status (or the
// transport's error) and the request's full time, its answer's body read to the end included,
// with the time the headers took and the body's size. It never writes the query string,
// headers or bodies, which can carry usernames, tokens, passwords and client secrets.
type loggingTransport struct {
	base http.RoundTripper

	mu sync.Mutex
	w  io.Writer
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.printf("http: %s %s no answer: %s %dms\n", req.Method, req.URL.EscapedPath(), err, time.Since(start).Milliseconds())
		return resp, err
	}
	resp.Body = &loggedBody{ReadCloser: resp.Body, t: t, req: req, status: resp.StatusCode, start: start, headers: time.Since(start)}
	return resp, nil
}

func (t *loggingTransport) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, format, args...)
}

// loggedBody logs its request once the body is read to its end, fails, or is closed.
type loggedBody struct {
	io.ReadCloser
	t       *loggingTransport
	req     *http.Request
	status  int
	start   time.Time
	headers time.Duration
	n       int64
	once    sync.Once
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err != nil {
		b.log(err)
	}
	return n, err
}

func (b *loggedBody) Close() error {
	err := b.ReadCloser.Close()
	b.log(nil)
	return err
}

func (b *loggedBody) log(err error) {
	b.once.Do(func() {
		broke := ""
		if err != nil && err != io.EOF {
			broke = ", broke off: " + err.Error()
		}
		b.t.printf("http: %s %s %d %dms (headers %dms, body %d bytes%s)\n", b.req.Method, b.req.URL.EscapedPath(), b.status,
			time.Since(b.start).Milliseconds(), b.headers.Milliseconds(), b.n, broke)
	})
}

// logRetry writes, with -v, that a request is sent again: which attempt comes, why, and after
// how long a wait. The path's query string is left out, as from every line.
func (c *Client) logRetry(method, path string, next int, why error, wait time.Duration) {
	if c.cfg.Log == nil {
		return
	}
	path, _, _ = strings.Cut(path, "?")
	reason := "no answer"
	if s := statusOf(why); s != 0 {
		reason = fmt.Sprintf("%d %s", s, http.StatusText(s))
	}
	fmt.Fprintf(c.cfg.Log, "http: retry %s %s: attempt %d of %d in %dms, after %s\n", method, path, next, maxAttempts, wait.Milliseconds(), reason)
}
