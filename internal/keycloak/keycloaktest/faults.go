package keycloaktest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// FaultProxy is a reverse proxy in front of the real server that answers chosen requests with an
// error status instead of forwarding them, to test what a real server cannot do on demand.
type FaultProxy struct {
	URL string

	mu    sync.Mutex
	rules []faultRule
	seen  map[string]int // requests seen, by "METHOD path"
}

type faultRule struct {
	method, path string
	times        int // how many more matching requests to fail
	status       int
}

// NewFaultProxy starts a proxy to the server, closed when the test ends.
func NewFaultProxy(t testing.TB, s *Server) *FaultProxy {
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{seen: make(map[string]int)}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status := p.fault(r); status != 0 {
			http.Error(w, http.StatusText(status), status)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Fail answers the next n requests with the method and URL path with status.
func (p *FaultProxy) Fail(method, path string, n, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, faultRule{method: method, path: path, times: n, status: status})
}

// Seen returns how many requests with the method and URL path reached the proxy.
func (p *FaultProxy) Seen(method, path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[method+" "+path]
}

func (p *FaultProxy) fault(r *http.Request) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[r.Method+" "+r.URL.Path]++
	for i := range p.rules {
		rule := &p.rules[i]
		if rule.times > 0 && rule.method == r.Method && rule.path == r.URL.Path {
			rule.times--
			return rule.status
		}
	}
	return 0
}
