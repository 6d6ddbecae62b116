package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

const applyUsers = 1000

// BenchmarkApplyCreate measures `roster apply` creating 1,000 users at parallelism 8 — read-back
// verification included — against a raw loop making the fewest requests for the same result
// with single creates (create each user with its attributes, then map its role) at the same
// parallelism, each in a fresh realm of the same server. It runs apply as the CLI's default
// does (batches of 50) and with --batch-size 1 (single creates, like the raw loop).
func BenchmarkApplyCreate(b *testing.B) {
	bin := rosterBin(b)
	rawCreate(b) // warm the server up; not measured
	for _, batch := range []int{50, 1} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			var rosterWall, rawWall time.Duration
			first := true
			for b.Loop() {
				// Alternate which side goes first, so neither always meets a fresher server.
				if first {
					rosterWall += rosterCreate(b, bin, batch)
					rawWall += rawCreate(b)
				} else {
					rawWall += rawCreate(b)
					rosterWall += rosterCreate(b, bin, batch)
				}
				first = !first
			}
			row := rates(b, rosterWall, rawWall)
			row.batch = batch
			report.create = append(report.create, row)
		})
	}
}

// rates reports the users per second of roster and of the raw loop from their total walls over
// b.N runs of applyUsers users each.
func rates(b *testing.B, rosterWall, rawWall time.Duration) createRow {
	loops := float64(b.N)
	row := createRow{users: applyUsers, roster: applyUsers / (rosterWall.Seconds() / loops), raw: applyUsers / (rawWall.Seconds() / loops)}
	b.ReportMetric(row.roster, "roster-users/s")
	b.ReportMetric(row.raw, "raw-users/s")
	b.ReportMetric(row.roster/row.raw, "roster/raw")
	return row
}

// prepared returns a fresh realm with the policy and roles CodeMie needs, as apply would leave
// them, so both sides do the same user work.
func prepared(b testing.TB) *keycloaktest.Realm {
	return keycloaktest.NewCodeMieRealm(b)
}

func rosterCreate(b *testing.B, bin string, batch int) time.Duration {
	realm := prepared(b)
	var yaml strings.Builder
	fmt.Fprintf(&yaml, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm.Name)
	for i := range applyUsers {
		fmt.Fprintf(&yaml, "  - {username: user%04d, email: user%04d@example.com, role: developer, projects: {member: [p%d], admin: [t%d]}}\n", i, i, i%37, i%11)
	}
	return timedApply(b, bin, realm, yaml.String(), fmt.Sprintf("Apply complete: %d added", applyUsers), "--batch-size", fmt.Sprint(batch))
}

// timedApply runs `roster apply --auto-approve --parallelism 8` with the extra arguments on the
// file content in realm, checks that its output says want, and returns its wall time.
func timedApply(b *testing.B, bin string, realm *keycloaktest.Realm, content, want string, extra ...string) time.Duration {
	file := filepath.Join(b.TempDir(), "roster.yaml")
	check(b, os.WriteFile(file, []byte(content), 0o644))
	cmd := exec.Command(bin, append(append([]string{"apply", "--auto-approve", "--parallelism", "8"}, extra...), file)...)
	cmd.Env = append(os.Environ(), "KEYCLOAK_URL="+realm.Server.URL, "KEYCLOAK_CLIENT_ID="+realm.ClientID,
		"KEYCLOAK_CLIENT_SECRET="+realm.ClientSecret)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil || !strings.Contains(out.String(), want) {
		b.Fatalf("roster apply: %v\n%s", err, tail(out.String()))
	}
	return wall
}

// rawSender logs in as the realm's service account and returns a function that sends one
// request to the realm's admin API with that token, failing the benchmark on a status of 300 or
// more; the caller closes the body.
func rawSender(b *testing.B, ctx context.Context, realm *keycloaktest.Realm) func(method, path string, body any) *http.Response {
	token, err := realm.Server.GoCloak().LoginClient(ctx, realm.ClientID, url.QueryEscape(realm.ClientSecret), realm.Name)
	check(b, err)
	base := realm.Server.URL + "/admin/realms/" + realm.Name
	return func(method, path string, body any) *http.Response {
		data, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+token.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		check(b, err)
		if resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %s", method, path, resp.Status)
		}
		return resp
	}
}

func rawCreate(b *testing.B) time.Duration {
	realm := prepared(b)
	ctx := context.Background()
	start := time.Now()
	send := rawSender(b, ctx, realm)
	resp := send(http.MethodGet, "/roles/developer", nil)
	var role map[string]any
	check(b, json.NewDecoder(resp.Body).Decode(&role))
	resp.Body.Close()

	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range work {
				resp := send(http.MethodPost, "/users", map[string]any{
					"username": fmt.Sprintf("user%04d", i), "email": fmt.Sprintf("user%04d@example.com", i), "enabled": true,
					// The same attributes roster writes, its ownership marker included.
					"attributes": map[string][]string{"applications": {fmt.Sprintf("p%d,t%d", i%37, i%11)}, "applications_admin": {fmt.Sprintf("t%d", i%11)}, "roster_managed": {"true"}},
				})
				resp.Body.Close()
				id := resp.Header.Get("Location")[strings.LastIndexByte(resp.Header.Get("Location"), '/')+1:]
				send(http.MethodPost, "/users/"+id+"/role-mappings/realm", []map[string]any{{"id": role["id"], "name": "developer"}}).Body.Close()
			}
		})
	}
	for i := range applyUsers {
		work <- i
	}
	close(work)
	wg.Wait()
	return time.Since(start)
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}
