package keycloak

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

// Config says which server and realm to talk to, and how to log in. Set either ClientSecret
// (client credentials of a service account) or Username and Password (password grant).
type Config struct {
	// URL is the server's base URL, e.g. https://keycloak.example.com (no /admin suffix).
	URL string
	// Realm is the realm roster manages.
	Realm string
	// AuthRealm is the realm to log in to. Default: master for a password login, Realm for a
	// service account.
	AuthRealm string
	// ClientID is the client to log in through. Default: admin-cli for a password login.
	ClientID string
	// ClientSecret selects client-credentials login.
	ClientSecret string
	// Username and Password select a password-grant login.
	Username, Password string
	// Timeout bounds each HTTP request (default 30s).
	Timeout time.Duration
	// CAFile adds the PEM certificates in this file to the system's trusted roots.
	CAFile string
	// InsecureSkipTLSVerify turns off certificate verification; only for throwaway servers.
	InsecureSkipTLSVerify bool
	// Transport, when set, carries every request instead of a transport built from the TLS
	// settings above (tests wrap one to count or disturb requests).
	Transport http.RoundTripper
	// Log, when set, receives a line per HTTP request: method, path, status and duration, never
	// query strings, headers or bodies (roster --verbose).
	Log io.Writer
	// CodeMie names the realm roles that stand for model.RoleAdmin and model.RoleDeveloper and
	// CodeMie's client (settings.codemie; the zero value is CodeMie's defaults).
	CodeMie model.CodeMie
	// Secrets, when set, learns every secret the client holds or obtains — the client secret or
	// password, the Basic credentials made of them, and each access and refresh token as it
	// arrives — so that the output masks them wherever they appear, server answers included.
	Secrets *redact.Secrets
}

// Client is a logged-in connection to one realm's Admin API. It is safe for concurrent use.
type Client struct {
	hc    *http.Client
	cfg   Config
	realm string // path-escaped Realm

	mu      sync.Mutex
	token   string
	renewAt time.Time
	since   time.Time // when the first token was issued, by the server's clock

	roles    roleRefs
	defaults creationDefaults
	fence    atomic.Pointer[Lock] // the apply lock that fences writes, while one is held

	listingBytes int64           // the most answer bytes one listing reads: maxListingBytes, less in tests
	answers      *limitTransport // bounds every answer at MaxAnswer (less in tests)

	// pageTook, when set, is how long a page of a listing took as its page sizer sees it, from
	// the page and the time measured: tests give the time their server was told to take, so
	// that the sizes a listing asks for do not depend on how busy the machine is.
	pageTook func(first, size int, took time.Duration) time.Duration
}

// Dial checks the configuration, logs in and returns a client for cfg.Realm.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	c, err := Open(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := c.accessToken(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// Open checks the configuration and returns a client for cfg.Realm that has not logged in yet:
// for `roster doctor`, which looks at the server before it tries the credentials. Requests log
// in when they need to.
func Open(cfg Config) (*Client, error) {
	if err := cfg.complete(); err != nil {
		return nil, err
	}
	transport := cfg.Transport
	if transport == nil {
		tlsConfig, err := cfg.tlsConfig()
		if err != nil {
			return nil, err
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = tlsConfig
		// apply talks to one host from many goroutines; keeping only Go's default of 2 idle
		// connections would open a new one for most requests.
		t.MaxIdleConnsPerHost = 64
		transport = t
	}
	answers := &limitTransport{base: transport, max: MaxAnswer}
	transport = answers
	if cfg.Log != nil {
		transport = &loggingTransport{base: transport, w: cfg.Log}
	}
	hc := &http.Client{Transport: transport, Timeout: cfg.Timeout, CheckRedirect: sameOriginRedirects}
	return &Client{hc: hc, cfg: cfg, realm: url.PathEscape(cfg.Realm), listingBytes: maxListingBytes, answers: answers}, nil
}

func (cfg *Config) complete() error {
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL == "":
		return errors.New("no Keycloak server given: set --server or KEYCLOAK_URL")
	case checkScheme(cfg.URL) != nil:
		return checkScheme(cfg.URL)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("server URL %q is not an http(s) URL like https://keycloak.example.com", withoutUserInfo(cfg.URL))
	case u.User != nil:
		u.User = nil
		return &URLCredentialsError{URL: u.String()}
	case cfg.Realm == "":
		return errors.New("no realm given: set realm in the configuration or --realm")
	}
	password := cfg.Username != "" || cfg.Password != ""
	secret := cfg.ClientSecret != ""
	switch {
	case password && secret:
		return errors.New("both a password and a client secret are set: use one kind of credential")
	case secret && cfg.ClientID == "":
		return errors.New("a client secret needs its client id: set --client-id or KEYCLOAK_CLIENT_ID")
	case password && (cfg.Username == "" || cfg.Password == ""):
		return errors.New("a password login needs both a username and a password")
	case !password && !secret:
		return errors.New("no credentials given: set KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET " +
			"(service account) or KEYCLOAK_USER and KEYCLOAK_PASSWORD (administrator)")
	}
	if cfg.AuthRealm == "" {
		cfg.AuthRealm = "master"
		if secret {
			cfg.AuthRealm = cfg.Realm
		}
	}
	if cfg.ClientID == "" {
		cfg.ClientID = "admin-cli"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	cfg.Secrets.Add(cfg.ClientSecret, cfg.Password)
	cfg.Secrets.AddBasic(cfg.ClientID, cfg.ClientSecret)
	return nil
}

// withoutUserInfo masks what may be credentials in a URL that does not parse: whatever lies
// between the scheme and the last @.
func withoutUserInfo(raw string) string {
	at := strings.LastIndex(raw, "@")
	if at < 0 {
		return raw
	}
	start := strings.Index(raw, "://") + len("://")
	if start < len("://") || start > at {
		start = 0
	}
	return raw[:start] + "***" + raw[at:]
}

// URLCredentialsError refuses a server URL with credentials in it (https://user:pass@host):
// they would end up in logs and saved plans, and roster never sends them.
type URLCredentialsError struct {
	URL string // the URL without its credentials
}

func (e *URLCredentialsError) Error() string {
	return fmt.Sprintf("the server URL carries credentials (user:password@ before %s): roster does not use them", e.URL)
}

// Hints says where credentials go instead.
func (e *URLCredentialsError) Hints() []string {
	return []string{fmt.Sprintf("set KEYCLOAK_URL or --server to %s and log in with KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET, "+
		"or KEYCLOAK_USER and KEYCLOAK_PASSWORD", e.URL)}
}

func (cfg *Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipTLSVerify} //nolint:gosec // only when asked
	if cfg.CAFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(cfg.CAFile)
	if err != nil {
		return nil, fmt.Errorf("failed to read the CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the CA file %s holds no PEM certificate", cfg.CAFile)
	}
	tc.RootCAs = pool
	return tc, nil
}

// Identity is the username Keycloak knows the logged-in principal by: the administrator's
// username, or service-account-<client id> for a service account. roster never changes it.
func (c *Client) Identity() string {
	if c.cfg.ClientSecret != "" {
		return "service-account-" + strings.ToLower(c.cfg.ClientID)
	}
	return strings.ToLower(c.cfg.Username)
}

// Realm returns the name of the realm the client manages.
func (c *Client) Realm() string { return c.cfg.Realm }

// accessToken returns a valid access token, logging in again when the current one is within the
// last fifth of its lifetime. Logging in again rather than refreshing keeps one code path for both
// kinds of credential (service-account logins get no refresh token by default).
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && time.Now().Before(c.renewAt) {
		return c.token, nil
	}
	var (
		jwt *tokens
		err error
	)
	for attempt := 1; ; attempt++ {
		jwt, err = c.login(ctx)
		if err == nil || attempt == maxAttempts || !loginTransient(err) || ctx.Err() != nil {
			break
		}
		if sleep(ctx, backoff(attempt, nil)) != nil {
			break
		}
	}
	if err != nil {
		return "", c.loginError(ctx, err)
	}
	c.cfg.Secrets.Add(jwt.AccessToken, jwt.RefreshToken, jwt.IDToken)
	lifetime := time.Duration(jwt.ExpiresIn) * time.Second
	if iat, ok := issuedAt(jwt.AccessToken); ok && c.since.IsZero() {
		c.since = time.Unix(iat, 0).UTC()
	}
	c.token = jwt.AccessToken
	c.renewAt = time.Now().Add(lifetime - lifetime/5)
	return c.token, nil
}

// Since is when the client first logged in, by the server's clock (to the second), or zero when
// it has not yet or the token did not say: whatever this run creates, Keycloak records as
// created at or after it. The server's clock is compared with the server's, so the local clock
// does not matter.
func (c *Client) Since() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.since
}

// loginTransient reports whether a failed login may succeed when repeated: the connection
// broke, or the server answered with a status that says so. Logging in twice does no harm.
func loginTransient(err error) bool {
	var refusal *loginRefusal
	if errors.As(err, &refusal) {
		return retryStatus(refusal.status)
	}
	var ae *AnswerError
	var re *redirectError
	return !untrusted(err) && !tooLarge(err) && !errors.As(err, &re) && !errors.As(err, &ae)
}

// untrusted reports whether the request failed because the server's certificate is not
// trusted.
func untrusted(err error) bool {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &verify)
}

func (c *Client) loginError(ctx context.Context, err error) error {
	var refusal *loginRefusal
	var ae *AnswerError
	switch {
	case errors.As(err, &refusal):
	case tooLarge(err):
		return fmt.Errorf("failed to log in to realm %q: %w", c.cfg.AuthRealm, &TooLargeError{Limit: MaxAnswer})
	case errors.As(err, &ae):
		return fmt.Errorf("failed to log in to realm %q: %w", c.cfg.AuthRealm, ae)
	default:
		return c.unreachable(ctx, "reach "+c.cfg.URL, err)
	}
	if e := c.urlProblem(ctx, refusal.status); e != nil {
		return e
	}
	e := &ConnError{Op: fmt.Sprintf("log in to realm %q as %s", c.cfg.AuthRealm, c.Principal()), Err: errors.New(refusal.message)}
	switch refusal.status {
	case http.StatusUnauthorized, http.StatusBadRequest:
		e.Hint = "check the credentials, and that the login realm is right (--auth-realm)"
	case http.StatusNotFound:
		e.Hint = fmt.Sprintf("realm %q does not exist on this server: check the realm name in the configuration, or --auth-realm", c.cfg.AuthRealm)
	}
	return e
}

// transportCause returns the context's error when the request failed because the context ended.
func transportCause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// ConnError means roster could not reach the server or the server refused its credentials. The
// CLI exits 3 on it, so that a drift job tells breakage from drift.
type ConnError struct {
	Op   string // what roster tried, e.g. `log in to realm "master" as user "admin"`
	Err  error
	Hint string
	// BadURL is set when the server URL is at fault: something answers there, but not Keycloak
	// at its base URL (a path such as /admin or /auth).
	BadURL bool
}

func (e *ConnError) Error() string { return fmt.Sprintf("failed to %s: %v", e.Op, e.Err) }
func (e *ConnError) Unwrap() error { return e.Err }

// Hints returns the suggested fix, if any.
func (e *ConnError) Hints() []string {
	if e.Hint == "" {
		return nil
	}
	return []string{e.Hint}
}

// sameOriginRedirects follows redirects only to the same scheme and host (port included), so
// that a misconfigured proxy cannot send the bearer token, password or client secret to another
// server, nor in clear text over http to the same one.
func sameOriginRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("stopped after 5 redirects")
	}
	from, to := via[0].URL, req.URL
	if to.Scheme != from.Scheme || to.Host != from.Host {
		return &redirectError{from: origin(from), to: origin(to)}
	}
	return nil
}

// origin is scheme://host of u, without credentials, path or query.
func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// redirectError is a refused redirect to another origin; repeating the request would not help.
type redirectError struct{ from, to string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("refusing to follow a redirect from %s to %s: roster sends its credentials only to the server it was given; "+
		"point roster at the address the server redirects to, if that is the server", e.from, e.to)
}
