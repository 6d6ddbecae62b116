package keycloaktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// This file is the tests' own plain HTTP access to the server, apart from roster's client: what a
// test sets up or inspects must not depend on the code under test.

// call sends a request with a bearer token (none when token is ""), body as JSON when non-nil,
// and decodes a success answer into result when non-nil. An answer of 300 or more is an error
// that carries the status and body. It returns the answer's headers.
func call(ctx context.Context, token, method, target string, body, result any) (http.Header, error) {
	var content io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		content = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, content)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return exchange(req, result)
}

// exchange sends req and decodes a success answer into result when non-nil. An answer of 500 is
// asked again, up to serverErrorAttempts in all, whatever the request: Keycloak answers it to a
// request of the master administrator while another test deletes its realm (the
// administrator's composite role still lists the deleted realm's roles in the cache:
// "IllegalStateException: Not found in database", keycloak/keycloak#12003 and #41109). That
// check fails before the request does anything, and the tests' setup must not fail on it. Any
// other 500 rolls back Keycloak's transaction, so sending the request again does not do twice
// what the first attempt did.
func exchange(req *http.Request, result any) (http.Header, error) {
	var (
		resp *http.Response
		data []byte
		err  error
	)
	for attempt := 1; ; attempt++ {
		resp, data, err = roundTrip(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusInternalServerError || attempt == serverErrorAttempts {
			break
		}
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}
	if resp.StatusCode >= 300 {
		return resp.Header, fmt.Errorf("%s: %s", resp.Status, data)
	}
	if result != nil && len(data) > 0 {
		if err := json.Unmarshal(data, result); err != nil {
			return resp.Header, fmt.Errorf("decode the answer: %w", err)
		}
	}
	return resp.Header, nil
}

// serverErrorAttempts is how many times exchange sends a request Keycloak answers with 500.
const serverErrorAttempts = 4

// roundTrip sends req once and reads the whole answer.
func roundTrip(req *http.Request) (*http.Response, []byte, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp, data, err
}

// TokenAnswer is the token endpoint's answer.
type TokenAnswer struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token"`
	ExpiresIn   int    `json:"expires_in"`
}

// requestToken posts form to the token endpoint of realm, with Basic client authentication when
// clientSecret is set (id and secret form-encoded first, as OAuth 2 requires).
func (s *Server) requestToken(ctx context.Context, realm string, form url.Values, clientID, clientSecret string) (TokenAnswer, error) {
	var tok TokenAnswer
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		s.URL+"/realms/"+url.PathEscape(realm)+"/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tok, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	}
	_, err = exchange(req, &tok)
	return tok, err
}

// AdminRequest sends an Admin API request as the master administrator; path is below
// /admin/realms (e.g. /master/users). It returns the answer's headers (Location, for a create).
func (s *Server) AdminRequest(ctx context.Context, method, path string, body, result any) (http.Header, error) {
	token, err := s.Token(ctx)
	if err != nil {
		return nil, err
	}
	h, err := call(ctx, token, method, s.URL+"/admin/realms"+path, body, result)
	if err != nil {
		return h, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return h, nil
}

// Info is what /admin/serverinfo says about the server.
type Info struct {
	// Version is Keycloak's version, JavaVersion the Java it runs on.
	Version, JavaVersion string
	// Heap is the heap the JVM may grow to, in bytes (0 when the server does not say).
	Heap int64
}

// ServerInfo returns the server's versions and heap, from /admin/serverinfo.
func (s *Server) ServerInfo(ctx context.Context) (Info, error) {
	token, err := s.Token(ctx)
	if err != nil {
		return Info{}, err
	}
	var info struct {
		SystemInfo struct {
			Version     string `json:"version"`
			JavaVersion string `json:"javaVersion"`
		} `json:"systemInfo"`
		MemoryInfo struct {
			Total int64 `json:"total"`
		} `json:"memoryInfo"`
	}
	if _, err := call(ctx, token, http.MethodGet, s.URL+"/admin/serverinfo", nil, &info); err != nil {
		return Info{}, fmt.Errorf("GET /admin/serverinfo: %w", err)
	}
	return Info{Version: info.SystemInfo.Version, JavaVersion: info.SystemInfo.JavaVersion, Heap: info.MemoryInfo.Total}, nil
}

// ServiceAccountToken logs in as the realm's service account and returns its access token.
func (r *Realm) ServiceAccountToken(ctx context.Context) (string, error) {
	tok, err := r.Server.requestToken(ctx, r.Name, url.Values{"grant_type": {"client_credentials"}}, r.ClientID, r.ClientSecret)
	if err != nil {
		return "", fmt.Errorf("log in to realm %s as client %s: %w", r.Name, r.ClientID, err)
	}
	return tok.AccessToken, nil
}

// IDFromLocation is the last path segment of a create's Location header: the new object's id.
func IDFromLocation(h http.Header) (string, error) {
	loc := h.Get("Location")
	if loc == "" {
		return "", fmt.Errorf("the create's answer has no Location header")
	}
	return url.PathUnescape(loc[strings.LastIndex(loc, "/")+1:])
}
