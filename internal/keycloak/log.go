package keycloak

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// loggingTransport writes one line per HTTP request to w: method, URL path, status (or the
// transport's error) and duration. It never writes the query string, headers or bodies, which
// can carry usernames, tokens, passwords and client secrets.
type loggingTransport struct {
	base http.RoundTripper

	mu sync.Mutex
	w  io.Writer
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(req)
	took := time.Since(start).Milliseconds()
	outcome := ""
	if err != nil {
		outcome = "no answer: " + err.Error()
	} else {
		outcome = fmt.Sprint(resp.StatusCode)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "http: %s %s %s %dms\n", req.Method, req.URL.EscapedPath(), outcome, took)
	return resp, err
}
