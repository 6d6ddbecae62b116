package keycloaktest

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultProxy is a reverse proxy in front of the real server that disturbs chosen requests, to
// test what a real server cannot do on demand: it answers them with an error status instead of
// forwarding them (Fail), or, once Inject is called, disturbs a seeded random share of all
// requests with error statuses, connection resets before or after forwarding, and latency.
type FaultProxy struct {
	URL string

	target *url.URL
	rp     *httputil.ReverseProxy

	mu     sync.Mutex
	rules  []faultRule
	seen   map[string]int // requests seen, by "METHOD path"
	log    []Request
	random *Faults
	rng    *rand.Rand
	counts map[Fault]int
}

type faultRule struct {
	method, path string
	times        int // how many more matching requests to disturb
	fault        Fault
	answer       http.HandlerFunc // answers instead of fault when set
}

// Fault is one way the proxy disturbs a request.
type Fault string

// The faults Inject draws from. ResetAfter is the one that matters most: the server carried the
// request out, but the client sees a broken connection and cannot tell whether it did.
const (
	Status500   Fault = "500"
	Status502   Fault = "502"
	Status503   Fault = "503"
	Status429   Fault = "429"
	ResetBefore Fault = "reset before forwarding"
	ResetAfter  Fault = "reset after forwarding"
	Latency     Fault = "latency"
)

// AllFaults lists the faults in the order reports show them.
var AllFaults = []Fault{Status500, Status502, Status503, Status429, ResetBefore, ResetAfter, Latency}

// Faults configures random fault injection.
type Faults struct {
	// Seed makes the sequence of decisions reproducible (the order requests arrive in still
	// varies with concurrency).
	Seed uint64
	// Rate is the share of requests, 0 to 1, answered with an error status or a reset, drawn
	// evenly from the six kinds.
	Rate float64
	// LatencyRate is the share of the other requests delayed by up to MaxLatency.
	LatencyRate float64
	MaxLatency  time.Duration
	// Only, when set, limits injection to requests whose URL path it accepts.
	Only func(r *http.Request) bool
}

// NewFaultProxy starts a proxy to the server, closed when the test ends.
func NewFaultProxy(t testing.TB, s *Server) *FaultProxy {
	p, stop, err := StartFaultProxy(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return p
}

// StartFaultProxy starts a proxy to the server, for callers without a testing.TB (CLI
// scripts); stop closes it.
func StartFaultProxy(s *Server) (p *FaultProxy, stop func(), err error) {
	target, err := url.Parse(s.URL)
	if err != nil {
		return nil, nil, err
	}
	p = &FaultProxy{target: target, rp: httputil.NewSingleHostReverseProxy(target),
		seen: make(map[string]int), counts: make(map[Fault]int)}
	// Requests cut off when a client is killed are expected here, not worth a log line.
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = srv.URL
	return p, srv.Close, nil
}

// EndlessPages answers a page of a listing, first and max, with max rows never sent before:
// a broken or hostile server, or a proxy in front of one, whose listing never ends, though no
// row repeats. Each row carries the fields the listings roster reads are keyed by (id, name,
// alias), so it serves for users, role members, roles and identity providers alike.
func EndlessPages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	first, _ := strconv.Atoi(q.Get("first"))
	size, err := strconv.Atoi(q.Get("max"))
	if err != nil || size < 1 || size > 1000 {
		size = 100 // Keycloak's default page
	}
	rows := make([]map[string]any, size)
	for i := range rows {
		name := fmt.Sprintf("endless-%07d", first+i)
		rows[i] = map[string]any{"id": name, "username": name, "name": name, "alias": name, "enabled": true}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rows)
}

// Fail answers the next n requests with the method and URL path with status.
func (p *FaultProxy) Fail(method, path string, n, status int) {
	p.FailWith(method, path, n, Fault(fmt.Sprint(status)))
}

// FailWith disturbs the next n requests with the method and URL path with the fault (a status
// or a reset).
func (p *FaultProxy) FailWith(method, path string, n int, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, faultRule{method: method, path: path, times: n, fault: f})
}

// Tamper forwards the next n requests with the method and URL path, and passes on the server's
// answer with its body replaced by rewrite(body): a proxy or a broken server that shortens,
// empties or repeats a listing while answering 200.
func (p *FaultProxy) Tamper(method, path string, n int, rewrite func(body []byte) []byte) {
	p.Answer(method, path, n, func(w http.ResponseWriter, r *http.Request) { p.forwardRewritten(w, r, rewrite) })
}

// Delay holds the next n requests with the method and URL path for d (or until the client gives
// up on them) before forwarding them: a server or network that stalls.
func (p *FaultProxy) Delay(method, path string, n int, d time.Duration) {
	p.Answer(method, path, n, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
			p.rp.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	})
}

// Answer lets answer handle the next n requests with the method and URL path instead of the
// server: to play a server that echoes the request in its error page, redirects, or never ends
// its answer.
func (p *FaultProxy) Answer(method, path string, n int, answer http.HandlerFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, faultRule{method: method, path: path, times: n, answer: answer})
}

// Inject starts disturbing requests at random as f says; a zero Faults stops it.
func (p *FaultProxy) Inject(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f.Rate == 0 && f.LatencyRate == 0 {
		p.random = nil
		return
	}
	p.random = &f
	p.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// Request is a request as it reached the proxy.
type Request struct {
	Method, Path string
	At           time.Time
}

// Requests returns every request that reached the proxy, in the order they came.
func (p *FaultProxy) Requests() []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

// Seen returns how many requests with the method and URL path reached the proxy.
func (p *FaultProxy) Seen(method, path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[method+" "+path]
}

// Injected returns how many requests each fault has disturbed so far.
func (p *FaultProxy) Injected() map[Fault]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[Fault]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

// Summary describes the injected faults in one line, e.g. "97 faults (500: 17, ...) and 40 delays".
func (p *FaultProxy) Summary() string {
	counts := p.Injected()
	var parts []string
	total := 0
	for _, f := range AllFaults {
		if f == Latency {
			continue
		}
		total += counts[f]
		parts = append(parts, fmt.Sprintf("%s: %d", f, counts[f]))
	}
	return fmt.Sprintf("%d faults (%s) and %d delays", total, strings.Join(parts, ", "), counts[Latency])
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	fault, answer, delay := p.decide(r)
	if delay > 0 {
		time.Sleep(delay)
	}
	if answer != nil {
		answer(w, r)
		return
	}
	switch fault {
	case "":
		p.rp.ServeHTTP(w, r)
	case ResetBefore:
		reset(w)
	case ResetAfter:
		p.forwardThenReset(w, r)
	default:
		var status int
		fmt.Sscan(string(fault), &status)
		http.Error(w, http.StatusText(status), status)
	}
}

// decide picks what happens to the request: a fault (or "" to forward it) or an answer of the
// test's, and a delay.
func (p *FaultProxy) decide(r *http.Request) (Fault, http.HandlerFunc, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen[r.Method+" "+r.URL.Path]++
	p.log = append(p.log, Request{Method: r.Method, Path: r.URL.Path, At: time.Now()})
	for i := range p.rules {
		rule := &p.rules[i]
		if rule.times > 0 && rule.method == r.Method && rule.path == r.URL.Path {
			rule.times--
			return rule.fault, rule.answer, 0
		}
	}
	f := p.random
	if f == nil || (f.Only != nil && !f.Only(r)) {
		return "", nil, 0
	}
	if x := p.rng.Float64(); x < f.Rate {
		kinds := slices.DeleteFunc(slices.Clone(AllFaults), func(k Fault) bool { return k == Latency })
		k := kinds[int(x/f.Rate*float64(len(kinds)))%len(kinds)]
		p.counts[k]++
		return k, nil, 0
	}
	if f.MaxLatency > 0 && p.rng.Float64() < f.LatencyRate {
		p.counts[Latency]++
		return "", nil, time.Duration(p.rng.Int64N(int64(f.MaxLatency)))
	}
	return "", nil, 0
}

// forward sends the request to the server as it came. Like the reverse proxy it keeps the
// client's Host header: Keycloak checks tokens against the host they were issued for.
func (p *FaultProxy) forward(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.target.Scheme, p.target.Host
	return http.DefaultTransport.RoundTrip(out)
}

// forwardThenReset sends the request to the server, waits for the whole answer, and then
// breaks the client's connection instead of passing the answer on.
func (p *FaultProxy) forwardThenReset(w http.ResponseWriter, r *http.Request) {
	if resp, err := p.forward(r); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	reset(w)
}

// forwardRewritten sends the request to the server and passes on its answer, the body replaced
// by rewrite(body).
func (p *FaultProxy) forwardRewritten(w http.ResponseWriter, r *http.Request, rewrite func([]byte) []byte) {
	resp, err := p.forward(r)
	if err != nil {
		reset(w)
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		reset(w)
		return
	}
	body = rewrite(body)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// reset closes the client's connection abruptly (TCP RST), without an answer.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}
