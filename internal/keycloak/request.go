package keycloak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// APIError is an error answer of the Admin API, with Keycloak's own message and, for user-profile
// validation failures, every field-level error.
type APIError struct {
	Method string
	Path   string // below /admin/realms/{realm}, or the realm's own path
	Status int
	// Message is Keycloak's errorMessage / error_description, or the HTTP status text.
	Message string
	// Fields are the user-profile validation errors: field plus message key (params joined).
	Fields []string
}

func (e *APIError) Error() string {
	msg := e.Message
	if len(e.Fields) > 0 {
		msg = strings.Join(e.Fields, "; ")
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, msg)
}

// StatusCode returns the answer's HTTP status.
func (e *APIError) StatusCode() int { return e.Status }

// Hints suggests a fix for the failures a user can cause by configuration.
func (e *APIError) Hints() []string {
	if e.Status == http.StatusBadRequest && len(e.Fields) > 0 {
		return []string{"Keycloak's user profile refused the fields named: correct them in the configuration; applying again unchanged cannot help"}
	}
	if e.Status == http.StatusForbidden {
		return []string{"the account roster logs in with lacks a realm-management role; it needs " +
			"manage-users, view-users, view-realm, manage-realm, manage-identity-providers, and view-clients " +
			"and manage-clients when the configuration declares tokenMappers; `roster doctor` names the missing ones"}
	}
	return nil
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports whether err is a 409 answer.
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

func statusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// errorBody covers both error shapes Keycloak answers with: ErrorRepresentation (errorMessage,
// field, params, errors) and OAuth's {error, error_description}.
type errorBody struct {
	ErrorMessage     string      `json:"errorMessage"`
	Field            string      `json:"field"`
	Params           []any       `json:"params"`
	Errors           []errorBody `json:"errors"`
	Error            string      `json:"error"`
	ErrorDescription string      `json:"error_description"`
}

func (b errorBody) field() string {
	var params []string
	for _, p := range b.Params {
		if s := fmt.Sprint(p); s != b.Field {
			params = append(params, s)
		}
	}
	s := b.ErrorMessage
	if b.Field != "" {
		s = b.Field + ": " + s
	}
	if len(params) > 0 {
		s += " (" + strings.Join(params, ", ") + ")"
	}
	return s
}

// do sends one Admin API request for the managed realm. path is below /admin/realms/{realm} and
// must already be escaped. body, when non-nil, is sent as JSON; result, when non-nil, receives
// the decoded answer. Requests that are safe to repeat (GET, PUT, DELETE) are retried on
// transient failures; a POST only on 429 and 503, the answers by which a server says it did not
// carry the request out, since after any other failure it may have taken effect.
func (c *Client) do(ctx context.Context, method, path string, body, result any) (*answer, error) {
	return c.send(ctx, method, path, body, result, method != http.MethodPost)
}

// Retry policy for transient failures: 429, 500, 502, 503, 504 and transport errors.
const (
	maxAttempts  = 5
	firstBackoff = 200 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

func (c *Client) send(ctx context.Context, method, path string, body, result any, retry bool) (*answer, error) {
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, method, path, body, result)
		if method == http.MethodDelete && attempt > 1 && IsNotFound(err) {
			// An earlier attempt failed without a clear answer and did delete it.
			return resp, nil
		}
		if attempt == maxAttempts || !transient(resp, err) || ctx.Err() != nil || (!retry && !refused(err)) {
			return resp, err
		}
		wait := backoff(attempt, resp)
		c.logRetry(method, "/admin/realms/"+c.realm+path, attempt+1, err, wait)
		if werr := sleep(ctx, wait); werr != nil {
			return resp, err
		}
	}
}

func (c *Client) attempt(ctx context.Context, method, path string, body, result any) (*answer, error) {
	token, err := c.accessToken(ctx)
	if err != nil {
		return nil, err
	}
	if l := c.fence.Load(); l != nil && method != http.MethodGet && ctx.Value(lockRequest{}) == nil {
		// As late as possible before the write leaves: the lock must still be provably held,
		// and the write is cut off before another run could take the lock over.
		until, err := l.check()
		if err != nil {
			return nil, err
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, until)
		defer cancel()
	}
	header := http.Header{"Authorization": {"Bearer " + token}, "Accept": {"application/json"}}
	var content io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		header.Set("Content-Type", "application/json")
		content = bytes.NewReader(data)
	}
	a, sent, err := c.exchange(ctx, method, c.adminURL(path), header, content)
	shown := path
	if shown == "" {
		shown = "/admin/realms/" + c.realm // the realm itself
	}
	if err != nil {
		var ue *url.Error // the URL is in Op already
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("the answer broke off before its end (%w)", err)
		}
		return nil, c.transportError(ctx, method, shown, err, sent)
	}
	if a.status == http.StatusUnauthorized {
		return a, &ConnError{Op: fmt.Sprintf("%s %s", method, shown), Err: errors.New("401 Unauthorized"),
			Hint: "the server did not accept roster's token: check that the login realm and client are right"}
	}
	if a.status >= http.StatusBadRequest {
		return a, c.apiError(method, shown, a)
	}
	if result != nil && len(a.body) > 0 {
		if err := json.Unmarshal(a.body, result); err != nil {
			return a, &AnswerError{Method: method, Path: shown, Status: a.status, ContentType: a.contentType(),
				Server: c.cfg.URL, Err: err}
		}
	}
	return a, nil
}

// answer is a server's answer, its body read to the end.
type answer struct {
	status     int
	statusLine string // "404 Not Found"
	header     http.Header
	body       []byte
}

func (a *answer) contentType() string {
	if ct := a.header.Get("Content-Type"); ct != "" {
		return ct
	}
	return "no content type"
}

// exchange sends one request and reads its answer to the end, within the client's timeout, its
// answer limit and its redirect policy. It fails only when no whole answer came: the error is
// then the *url.Error of the request, or the error that broke the body off; sent then says
// whether the whole request was written to the connection that failed, so that the server may
// be at work on it.
func (c *Client) exchange(ctx context.Context, method, target string, header http.Header, body io.Reader) (a *answer, sent bool, err error) {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		// A redirect, or the transport sending the request again on another connection, starts
		// over: what counts is the last connection's.
		GetConn:      func(string) { wrote.Store(false) },
		WroteRequest: func(info httptrace.WroteRequestInfo) { wrote.Store(info.Err == nil) },
	})
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, false, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, wrote.Load(), err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, true, err
	}
	return &answer{status: resp.StatusCode, statusLine: resp.Status, header: resp.Header, body: data}, true, nil
}

// transportError is the error of a request that got no usable answer: an answer too large to
// read (an error like any other), or none at all (a *ConnError). sent says whether the whole
// request was written to the connection (exchange).
func (c *Client) transportError(ctx context.Context, method, path string, err error, sent bool) error {
	if tooLarge(err) {
		return fmt.Errorf("%s %s: %w", method, path, &TooLargeError{Limit: MaxAnswer})
	}
	e := &ConnError{Op: fmt.Sprintf("reach %s (%s %s)", c.cfg.URL, method, path), Err: transportCause(ctx, err)}
	var timeout interface{ Timeout() bool }
	if sent && ctx.Err() == nil && errors.As(err, &timeout) && timeout.Timeout() {
		// Keycloak had the request and did not answer it within the client's own limit (not
		// the caller's deadline, Ctrl-C or the lock's fence): a large realm read while
		// Keycloak's cache does not hold its users can take that long (docs/troubleshooting.md).
		e.Hint = fmt.Sprintf("Keycloak sent no whole answer within %s, the time a request may take (--timeout): "+
			"a realm of many users read while Keycloak's cache does not hold them can take longer, "+
			"so raise it, for instance to --timeout %s; otherwise check whether Keycloak is overloaded",
			shortDuration(c.cfg.Timeout), shortDuration(max(2*time.Minute, 2*c.cfg.Timeout)))
	}
	return e
}

// shortDuration writes d as a flag takes it, without the zero units time.Duration adds: 2m, not
// 2m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// AnswerError is a success answer whose body is not the JSON the Admin API sends: the URL names
// something other than Keycloak (a login page of a proxy, a web server), or the answer was
// mangled on the way.
type AnswerError struct {
	Method, Path string
	Status       int
	ContentType  string
	Server       string
	Err          error
}

func (e *AnswerError) Error() string {
	return fmt.Sprintf("%s %s: the server answered %d with a body that is not the expected JSON (%s): %v",
		e.Method, e.Path, e.Status, e.ContentType, e.Err)
}

func (e *AnswerError) Unwrap() error { return e.Err }

// Hints says what to check.
func (e *AnswerError) Hints() []string {
	return []string{fmt.Sprintf("check that %s is Keycloak's base URL and that nothing between roster and Keycloak rewrites its answers", e.Server)}
}

// transient reports whether a failed attempt may succeed when repeated.
func transient(resp *answer, err error) bool {
	if err == nil {
		return false
	}
	var ce *ConnError
	var re *redirectError
	if errors.As(err, &ce) && resp == nil {
		return !errors.As(err, &re) // no answer: connection refused, reset, timeout; not a refused redirect
	}
	return retryStatus(statusOf(err))
}

// retryStatus reports whether an answer with the status may be followed by a success when the
// request is repeated. 500 is among them: Keycloak answers it for passing trouble such as a
// lost database connection, and repeating a request that is safe to repeat costs little.
func retryStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// refused reports whether the server said it did not carry the request out (429 or 503), so
// that even a request that is not safe to repeat may be sent again.
func refused(err error) bool {
	s := statusOf(err)
	return s == http.StatusTooManyRequests || s == http.StatusServiceUnavailable
}

// backoff is the wait before attempt+1: exponential with full jitter, or the server's
// Retry-After (in seconds) when it sends one.
func backoff(attempt int, resp *answer) time.Duration {
	if resp != nil {
		if s, err := strconv.Atoi(resp.header.Get("Retry-After")); err == nil && s >= 0 {
			return min(time.Duration(s)*time.Second, maxBackoff)
		}
	}
	ceiling := min(firstBackoff<<(attempt-1), maxBackoff)
	return ceiling/2 + rand.N(ceiling/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (c *Client) adminURL(path string) string {
	return strings.TrimRight(c.cfg.URL, "/") + "/admin/realms/" + c.realm + path
}

func (c *Client) apiError(method, path string, resp *answer) error {
	e := &APIError{Method: method, Path: path, Status: resp.status, Message: http.StatusText(resp.status)}
	var b errorBody
	if json.Unmarshal(resp.body, &b) == nil {
		switch {
		case len(b.Errors) > 0:
			for _, f := range b.Errors {
				e.Fields = append(e.Fields, f.field())
			}
		case b.Field != "":
			e.Fields = []string{b.field()}
		case b.ErrorMessage != "":
			e.Message = b.ErrorMessage
		case b.ErrorDescription != "":
			e.Message = b.ErrorDescription
		case b.Error != "":
			e.Message = b.Error
		}
	}
	return e
}
