package keycloak_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/redact"
)

// TestRetries puts a fault-injecting proxy in front of the real server: reads and logins survive
// transient failures, and a create is sent again only when a lookup proves it did not happen.
func TestRetries(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	cfg := realm.ServiceAccountConfig()
	cfg.URL = proxy.URL
	ctx := context.Background()

	token := "/realms/" + realm.Name + "/protocol/openid-connect/token"
	proxy.FailWith(http.MethodPost, token, 1, keycloaktest.ResetBefore)
	proxy.Fail(http.MethodPost, token, 1, http.StatusServiceUnavailable)
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial through a reset and a 503: %v", err)
	}
	if got := proxy.Seen(http.MethodPost, token); got != 3 {
		t.Errorf("the login reached the proxy %d times, want 3 (2 failures, 1 success)", got)
	}

	users := "/admin/realms/" + realm.Name + "/users"
	proxy.Fail(http.MethodGet, users, 2, http.StatusServiceUnavailable)
	proxy.Fail(http.MethodGet, "/admin/realms/"+realm.Name+"/users/profile", 1, http.StatusTooManyRequests)
	proxy.Fail(http.MethodGet, "/admin/realms/"+realm.Name+"/roles", 1, http.StatusInternalServerError)
	if _, err := c.ReadLive(ctx, keycloak.ReadOptions{}); err != nil {
		t.Fatalf("ReadLive through 4 transient failures: %v", err)
	}
	if got := proxy.Seen(http.MethodGet, users); got != 3 {
		t.Errorf("user listing reached the proxy %d times, want 3 (2 failures, 1 success)", got)
	}

	// Neither failure created the user, and the lookups say so: the create is sent again.
	proxy.Fail(http.MethodPost, users, 1, http.StatusBadGateway)
	proxy.FailWith(http.MethodPost, users, 1, keycloaktest.ResetBefore)
	if _, err := c.CreateUser(ctx, model.NewUser{Username: "twice", Enabled: true}); err != nil {
		t.Fatalf("CreateUser through a 502 and a reset: %v", err)
	}
	if got := proxy.Seen(http.MethodPost, users); got != 3 {
		t.Errorf("the create was sent %d times, want 3", got)
	}

	// The create took effect before the connection broke: the lookup finds the user, so the
	// create is not sent again and the failure is reported (apply then adopts the user).
	proxy.FailWith(http.MethodPost, users, 1, keycloaktest.ResetAfter)
	if _, err := c.CreateUser(ctx, model.NewUser{Username: "once", Enabled: true}); err == nil {
		t.Fatalf("CreateUser through a reset after forwarding succeeded; want the failure reported (sent %d)", proxy.Seen(http.MethodPost, users))
	}
	if got := proxy.Seen(http.MethodPost, users); got != 4 {
		t.Errorf("the create was sent %d times in all, want 4", got)
	}
	if _, found, err := c.FindUser(ctx, "once"); err != nil || !found {
		t.Errorf("FindUser(once) = %v, %v; want the user created before the reset", found, err)
	}
}

// TestVerboseLogsFullTimeAndRetries: -v logs a request's full time, the body read to its end
// included, and each retry with its attempt and cause. The slow body is a proxy's answer, since
// the real server cannot be made slow on demand.
func TestVerboseLogsFullTimeAndRetries(t *testing.T) {
	t.Parallel()
	realm := keycloaktest.NewRealm(t)
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	cfg := realm.ServiceAccountConfig()
	cfg.URL = proxy.URL
	// Requests run in parallel: redact.Writer serialises the writes; log is read afterwards.
	var log strings.Builder
	cfg.Log = redact.NewWriter(redact.New(), &log)
	ctx := context.Background()
	c, err := keycloak.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	users := "/admin/realms/" + realm.Name + "/users"
	roles := "/admin/realms/" + realm.Name + "/roles"
	proxy.Fail(http.MethodGet, users, 1, http.StatusServiceUnavailable)
	proxy.Answer(http.MethodGet, roles, 1, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		time.Sleep(time.Second)
		_, _ = w.Write([]byte(`[{"name": "developer"}]`))
	})
	if _, err := c.ReadLive(ctx, keycloak.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	out := log.String()
	retry := regexp.MustCompile(`(?m)^http: retry GET ` + regexp.QuoteMeta(users) + `: attempt 2 of 5 in \d+ms, after 503 Service Unavailable$`)
	if !retry.MatchString(out) {
		t.Errorf("no retry line for %s in the log:\n%s", users, out)
	}
	line := regexp.MustCompile(`(?m)^http: GET ` + regexp.QuoteMeta(roles) + ` 200 (\d+)ms \(headers (\d+)ms, body 23 bytes\)$`).FindStringSubmatch(out)
	if line == nil {
		t.Fatalf("no line for the slow %s in the log:\n%s", roles, out)
	}
	total, _ := strconv.Atoi(line[1])
	headers, _ := strconv.Atoi(line[2])
	if total < 1000 || headers >= total-500 {
		t.Errorf("logged %sms in all, %sms for the headers; want the body's 1000ms in the total only", line[1], line[2])
	}
}
