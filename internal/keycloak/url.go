package keycloak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// This file tells a wrong server URL from wrong credentials. A URL ending in /admin or /auth, or
// one pointing at a realm, reaches Keycloak but not its token endpoint, and the login then fails
// with an answer (401, 404) that reads like a credentials or realm problem.

// urlHint is where --server and KEYCLOAK_URL are named in advice.
const urlHint = "--server or KEYCLOAK_URL"

// checkScheme refuses a URL without http:// or https://, naming the fix. A URL with
// credentials in it is left to the refusal of its own, which never shows them.
func checkScheme(raw string) error {
	if strings.Contains(raw, "://") || strings.Contains(raw, "@") {
		return nil
	}
	return fmt.Errorf("server URL %q has no scheme: set %s to https://%s (or http://%s for a server without TLS)",
		raw, urlHint, raw, raw)
}

// urlProblem explains a login that the server answered with an error, when the URL is at fault:
// it names the problem and the URL to use instead. It returns nil when the URL looks right, and
// the answer is then about the credentials or the login realm.
func (c *Client) urlProblem(ctx context.Context, status int) *ConnError {
	u, err := url.Parse(c.baseURL())
	if err != nil {
		return nil
	}
	path := u.Path
	base := func(cut int) string {
		b := *u
		b.Path, b.RawPath = path[:cut], ""
		return b.String()
	}
	problem := func(what, fix string) *ConnError {
		return &ConnError{Op: "reach Keycloak at " + c.cfg.URL, Err: errors.New(what), Hint: fix, BadURL: true}
	}
	useBase := func(b string) string {
		hint := fmt.Sprintf("set %s to %s, the server's base URL", urlHint, b)
		if c.isKeycloak(ctx, b) {
			hint += " (Keycloak answers there)"
		}
		return hint
	}

	if c.isKeycloak(ctx, c.baseURL()) {
		return nil // Keycloak answers at the URL: the credentials or the login realm are wrong
	}
	if i := segment(path, "admin"); i >= 0 {
		return problem("the URL ends in "+path[i:]+", a path of Keycloak's Admin API, which roster adds itself", useBase(base(i)))
	}
	if i := segment(path, "realms"); i >= 0 {
		what := "the URL points at " + path[i:] + ", a realm's path, not at the server"
		return problem(what, useBase(base(i))+"; the realm comes from the configuration (or --realm), the login realm from --auth-realm")
	}
	if status != http.StatusNotFound {
		return nil
	}
	if strings.HasSuffix(path, "/auth") {
		b := base(len(path) - len("/auth"))
		if c.isKeycloak(ctx, b) {
			return problem("Keycloak does not answer under /auth: since Keycloak 17 it serves at the root, without /auth",
				fmt.Sprintf("set %s to %s (Keycloak answers there); /auth belongs in the URL only when the server runs with --http-relative-path=/auth", urlHint, b))
		}
	}
	return problem("nothing at this URL answers as Keycloak (GET /realms/master: 404 Not Found)",
		fmt.Sprintf("set %s to the URL Keycloak's welcome page and console are under, e.g. https://keycloak.example.com, with no path unless the server runs with --http-relative-path", urlHint))
}

// segment returns where path's first segment named name begins (at its slash), or -1.
func segment(path, name string) int {
	for i := 0; i < len(path); {
		j := strings.IndexByte(path[i+1:], '/')
		end := len(path)
		if j >= 0 {
			end = i + 1 + j
		}
		if path[i] == '/' && path[i+1:end] == name {
			return i
		}
		if j < 0 {
			break
		}
		i = end
	}
	return -1
}

// isKeycloak reports whether base is a Keycloak server's base URL: GET {base}/realms/master,
// which needs no login, answers with the master realm's public description.
func (c *Client) isKeycloak(ctx context.Context, base string) bool {
	resp, _, err := c.exchange(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/realms/master", nil, nil)
	if err != nil || resp.status != http.StatusOK {
		return false
	}
	var realm struct {
		Realm string `json:"realm"`
	}
	return json.Unmarshal(resp.body, &realm) == nil && realm.Realm == "master"
}

// unreachable is the error for a request that got no answer, with a hint when the cause says
// what to fix in the URL.
func (c *Client) unreachable(ctx context.Context, op string, err error) *ConnError {
	e := &ConnError{Op: op, Err: transportCause(ctx, err)}
	msg := e.Err.Error()
	u, _ := url.Parse(c.baseURL())
	switch {
	case untrusted(e.Err):
		e.Hint = "roster verifies the server's TLS certificate: if a private CA signed it, pass that CA's PEM file with --ca-file"
	case strings.Contains(msg, "connection refused") && u != nil:
		e.Hint = fmt.Sprintf("nothing listens at %s: check the host and port in %s (Keycloak listens on 8080 for http and 8443 for https unless configured otherwise) and that Keycloak is running",
			u.Host, urlHint)
	case strings.Contains(msg, "no such host") && u != nil:
		e.Hint = fmt.Sprintf("the host name %s does not resolve: check %s", u.Hostname(), urlHint)
	case strings.Contains(msg, "server gave HTTP response to HTTPS client") && u != nil:
		e.Hint = fmt.Sprintf("the server speaks plain http at %s: write http:// in %s, or use the https port", u.Host, urlHint)
	}
	return e
}
