package keycloaktest

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// UpstreamIdP makes the realm act as an OpenID Connect provider for another realm of the same
// server: a confidential client with the given id and secret that accepts any redirect, whose
// tokens carry the extra string claims given, and a user who signs in with a password. It
// returns the issuer URL; endpoints are below issuer + "/protocol/openid-connect".
func (r *Realm) UpstreamIdP(ctx context.Context, clientID, secret string, claims map[string]string, username, password string) (string, error) {
	var mappers []map[string]any
	for name, value := range claims {
		mappers = append(mappers, map[string]any{"name": name, "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
			"config": map[string]string{"claim.name": name, "claim.value": value, "jsonType.label": "String",
				"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"}})
	}
	if err := r.Admin(ctx, http.MethodPost, "/clients", map[string]any{"clientId": clientID, "secret": secret,
		"publicClient": false, "standardFlowEnabled": true, "redirectUris": []string{"*"}, "protocolMappers": mappers}, nil); err != nil {
		return "", err
	}
	if err := r.Admin(ctx, http.MethodPost, "/users", map[string]any{"username": username, "enabled": true,
		"email": username + "@upstream.example", "emailVerified": true, "firstName": "Up", "lastName": "Stream",
		"credentials": []map[string]any{{"type": "password", "value": password, "temporary": false}}}, nil); err != nil {
		return "", err
	}
	return r.Server.URL + "/realms/" + r.Name, nil
}

// NewBroker prepares a brokered sign-in into realm: another realm stands in for Entra ID (see
// UpstreamIdP), with the client codemie-broker (secret) and the user ent (password Up-pa55)
// whose tokens carry claims; realm gets a public client codemie-e2e to sign in through
// (BrokeredSignIn). It returns the stand-in and its issuer URL.
func NewBroker(t testing.TB, realm *Realm, secret string, claims map[string]string) (*Realm, string) {
	t.Helper()
	ctx := context.Background()
	upstream := NewRealm(t)
	issuer, err := upstream.UpstreamIdP(ctx, "codemie-broker", secret, claims, "ent", "Up-pa55")
	if err != nil {
		t.Fatal(err)
	}
	if err := realm.Admin(ctx, http.MethodPost, "/clients", map[string]any{"clientId": "codemie-e2e", "publicClient": true,
		"standardFlowEnabled": true, "redirectUris": []string{"http://localhost/callback"}}, nil); err != nil {
		t.Fatal(err)
	}
	return upstream, issuer
}

// BrokeredSignIn signs in to the realm through the identity provider with the alias, as a
// browser would: the realm's login redirects to the provider's login form, which takes the
// username and password, and the first-login flow's profile review form, if shown, is
// submitted as it comes. clientID must be a client of the realm whose redirect URIs allow
// http://localhost/callback. It returns when the realm redirects to the client.
func (r *Realm) BrokeredSignIn(ctx context.Context, clientID, alias, username, password string) error {
	const callback = "http://localhost/callback"
	hc := &http.Client{Jar: &plainJar{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	next := r.Server.URL + "/realms/" + r.Name + "/protocol/openid-connect/auth?" + url.Values{"client_id": {clientID},
		"response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {callback}, "kc_idp_hint": {alias}}.Encode()
	var form url.Values
	for range 20 {
		var resp *http.Response
		var err error
		if form == nil {
			req, rerr := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
			if rerr != nil {
				return rerr
			}
			resp, err = hc.Do(req)
		} else {
			req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, next, strings.NewReader(form.Encode()))
			if rerr != nil {
				return rerr
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err = hc.Do(req)
		}
		if err != nil {
			return fmt.Errorf("brokered sign-in: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		form = nil
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			if strings.HasPrefix(loc, callback) {
				if strings.Contains(loc, "error=") {
					return fmt.Errorf("brokered sign-in: %s", loc)
				}
				return nil
			}
			next = loc
			continue
		}
		page := string(body)
		m := formAction.FindStringSubmatch(page)
		if resp.StatusCode != http.StatusOK || m == nil {
			return fmt.Errorf("brokered sign-in: %s at %s: %s", resp.Status, next, pageText(page))
		}
		next = html.UnescapeString(m[1])
		switch {
		case strings.Contains(page, `name="password"`):
			form = url.Values{"username": {username}, "password": {password}}
		case strings.Contains(page, `name="firstName"`):
			form = url.Values{}
			for _, f := range inputValue.FindAllStringSubmatch(page, -1) {
				form.Set(f[1], html.UnescapeString(f[2]))
			}
		default:
			return fmt.Errorf("brokered sign-in: unexpected page at %s: %s", next, pageText(page))
		}
	}
	return fmt.Errorf("brokered sign-in: too many steps")
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	inputValue = regexp.MustCompile(`<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"`)
	tags       = regexp.MustCompile(`(?s)<script.*?</script>|<style.*?</style>|<[^>]+>`)
	spaces     = regexp.MustCompile(`\s+`)
)

// pageText is the visible text of an HTML page, shortened, for error messages.
func pageText(page string) string {
	s := strings.TrimSpace(spaces.ReplaceAllString(tags.ReplaceAllString(page, " "), " "))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// plainJar keeps cookies by name and path and sends them to the one test server, Secure ones
// included: Keycloak marks its login cookies Secure, and the test server speaks plain HTTP. The
// path matters: each realm sets cookies of the same names below /realms/{realm}/.
type plainJar struct {
	mu      sync.Mutex
	cookies map[[2]string]*http.Cookie
}

func (j *plainJar) SetCookies(_ *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cookies == nil {
		j.cookies = map[[2]string]*http.Cookie{}
	}
	for _, c := range cookies {
		path := c.Path
		if path == "" {
			path = "/"
		}
		key := [2]string{c.Name, path}
		if c.MaxAge < 0 {
			delete(j.cookies, key)
			continue
		}
		j.cookies[key] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
}

func (j *plainJar) Cookies(u *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for key, c := range j.cookies {
		if strings.HasPrefix(u.Path, key[1]) || strings.TrimSuffix(key[1], "/") == u.Path {
			out = append(out, c)
		}
	}
	return out
}
