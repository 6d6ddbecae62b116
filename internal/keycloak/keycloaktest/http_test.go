package keycloaktest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestCallAsksAgainAfter500 pins the setup's answer to Keycloak's passing 500: the request is sent
// again with its whole body, and a 500 that persists is still an error.
func TestCallAsksAgainAfter500(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		failures int32
		wantErr  string
	}{
		{failures: 2},
		{failures: serverErrorAttempts, wantErr: "500 Internal Server Error: not found in database"},
	} {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if string(body) != `{"name":"developer"}` {
				t.Errorf("attempt %d: body %q", calls.Load()+1, body)
			}
			if calls.Add(1) <= tc.failures {
				http.Error(w, "not found in database", http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusCreated)
		}))
		_, err := call(context.Background(), "token", http.MethodPost, srv.URL, map[string]string{"name": "developer"}, nil)
		srv.Close()
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%d failures: got %v, want %q", tc.failures, err, tc.wantErr)
		}
		if want := min(tc.failures+1, serverErrorAttempts); calls.Load() != want {
			t.Errorf("%d failures: %d attempts, want %d", tc.failures, calls.Load(), want)
		}
	}
}
