package scenario

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// The scenarios of this file need the production-like topology (make test-cluster): two Keycloak
// nodes on PostgreSQL behind HAProxy, which hands each request to the next node in turn, so a
// read right after a write usually lands on the other node.

// clusterRound is the desired state of round k of TestClusterConverge on a realm seeded with
// 200 owned users o000–o199: each round leaves out another 40 of them (prune deletes them; the
// next rounds create them again), moves a third of the emails to another domain, and gives every
// fourth user, another quarter each round, the admin role instead of developer.
func clusterRound(realm string, k int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT}\nusers:\n", realm)
	for i := range 200 {
		if (i+k*40)%200 < 40 {
			continue
		}
		name, domain := fmt.Sprintf("o%03d", i), "example.com"
		if i%3 == k%3 {
			domain = fmt.Sprintf("r%d.example.com", k)
		}
		if (i+k)%4 == 0 {
			fmt.Fprintf(&b, "  - {username: %s, email: %s@%s, role: admin}\n", name, name, domain)
		} else {
			fmt.Fprintf(&b, "  - {username: %s, email: %s@%s, role: developer, projects: {member: [%s]}}\n", name, name, domain, project(i+k))
		}
	}
	return b.String()
}

// TestClusterConverge applies six rounds of a few hundred changes each — creations, email and
// project updates, role changes, removals — through the load balancer. Every apply must succeed
// with no failed change (its read-back verification runs on whichever node HAProxy picks, so a
// lagging cache on the other node would show as a false "did not store"), and the plan after
// each must find nothing to do.
func TestClusterConverge(t *testing.T) {
	keycloaktest.RequireCluster(t)
	realm := scenarioRealm(t, 200, 20)
	r := newRoster(t, realm, realm.Server.URL)
	const rounds = 6
	var changes int
	start := time.Now()
	for k := range rounds {
		file := r.write("roster.yaml", clusterRound(realm.Name, k))
		began := time.Now()
		out, errOut, code := r.run("apply", "--auto-approve", "--prune", "delete", "--allow-mass-removal", file)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		summary := lines[len(lines)-1]
		t.Logf("round %d: exit %d in %s: %s", k, code, time.Since(began).Round(time.Millisecond), summary)
		if code != 0 || !strings.HasSuffix(summary, " 0 failed.") {
			t.Fatalf("round %d: apply exit %d, want 0 with no failed change\n%s%s", k, code, out, errOut)
		}
		changes += len(lines) - 1
		out, errOut, code = r.run("plan", "--prune", "delete", "--detailed-exitcode", file)
		if want := "Read roster.yaml\n\nNote: 20 users not managed by this file, left alone\n\nNo changes. The realm matches the configuration.\n"; code != 0 || out != want {
			t.Fatalf("round %d: plan after apply: exit %d\n%s%s", k, code, out, errOut)
		}
	}
	users := listUsers(t, realm)
	if dups := duplicates(users); len(dups) > 0 || len(users) != 160+20 {
		t.Errorf("%d users, duplicates %v; want 180, none", len(users), dups)
	}
	t.Logf("%d rounds, %d changes applied and verified through the load balancer in %s; false verification failures: 0",
		rounds, changes, time.Since(start).Round(time.Millisecond))
}

// TestClusterLockAcrossNodes is TestConcurrentApplies with each apply sent to its own node: the
// apply lock must hold across nodes, which share only the database.
func TestClusterLockAcrossNodes(t *testing.T) {
	c := keycloaktest.RequireCluster(t)
	realm := scenarioRealm(t, 100, 0)
	concurrentApplies(t, realm, c.Nodes[0].URL, c.Nodes[1].URL)
}

// TestNodeKilled starts the 300 changes of the fault scenario through the load balancer (behind
// a proxy that slows every request, so the run lasts), kills the first node with SIGKILL once
// 20 of the 60 email updates have landed, lets the run end, and re-runs apply through the node
// that survived: it must converge, with no duplicate and a plan with no changes. It leaves the
// cluster with one node, so `make test-cluster` runs it last.
func TestNodeKilled(t *testing.T) {
	const stopAt = 20
	c := keycloaktest.RequireCluster(t)
	realm := scenarioRealm(t, 200, 20)
	args := []string{"apply", "--auto-approve", "--prune", "delete", "--allow-mass-removal", "roster.yaml"}
	cmd, stdout, _ := startSlowApply(t, realm, args, stopAt)
	killed := time.Now()
	if err := c.Nodes[0].Kill(); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	t.Logf("node 1 killed after %d of 60 email updates; the run went on for %s and ended with exit %d (%v): %s",
		stopAt, time.Since(killed).Round(time.Millisecond), cmd.ProcessState.ExitCode(), err, lines[len(lines)-1])
	for _, l := range lines {
		if strings.Contains(l, ": failed to ") {
			t.Logf("killed run: %s", l)
		}
	}

	// The killed run may not have given its apply lock back: the load balancer can answer 503 for
	// a while (see docs/reliability.md), so the re-run waits for the lock's lease to run out.
	survivor := newRoster(t, realm, c.Nodes[1].URL)
	survivor.write("roster.yaml", faultFile(realm.Name))
	// The checks read through node 2 as well: the load balancer may have no ready node by then.
	rerunConverges(t, c.Nodes[1].On(realm), survivor, append([]string{args[0], "--lock-timeout", "3m"}, args[1:]...))

	// The realm is deleted through the load balancer, which has no node while the survivor
	// reports itself unready: wait for it (bounded), and say how long it took.
	deadline, unready := time.Now().Add(3*time.Minute), time.Duration(0)
	for {
		resp, err := http.Get(realm.Server.URL + "/realms/master")
		if err == nil {
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the load balancer had no ready node for 3 minutes after the re-run (%v)", err)
		}
		time.Sleep(time.Second)
		unready += time.Second
	}
	t.Logf("the load balancer answered after the re-run; it waited %s for a ready node", unready)
}

// TestClusterReadAfterWrite measures what read-back verification depends on: a user written
// through one node and read at once through the other. It writes an attribute 200 times,
// alternating the nodes, and counts the reads that do not show the value just written. Keycloak
// invalidates the other node's cache entry before the write returns, so there must be none.
func TestClusterReadAfterWrite(t *testing.T) {
	c := keycloaktest.RequireCluster(t)
	realm := scenarioRealm(t, 1, 0)
	ctx := t.Context()
	nodes := [2]*keycloaktest.Realm{c.Nodes[0].On(realm), c.Nodes[1].On(realm)}
	var users []struct {
		ID         string              `json:"id"`
		Attributes map[string][]string `json:"attributes"`
	}
	if err := nodes[0].Admin(ctx, "GET", "/users?exact=true&username=o000", nil, &users); err != nil || len(users) != 1 {
		t.Fatalf("find o000: %v (%d found)", err, len(users))
	}
	id := users[0].ID
	const writes = 200
	stale := 0
	for i := range writes {
		w, r := nodes[i%2], nodes[1-i%2]
		value := fmt.Sprintf("dept-w%d", i)
		if err := w.Admin(ctx, "PUT", "/users/"+id, map[string]any{"email": "o000@example.com",
			"attributes": map[string][]string{"applications": {"proj0"}, "roster_managed": {"true"}, "department": {value}}}, nil); err != nil {
			t.Fatal(err)
		}
		var u struct {
			Attributes map[string][]string `json:"attributes"`
		}
		if err := r.Admin(ctx, "GET", "/users/"+id, nil, &u); err != nil {
			t.Fatal(err)
		}
		if got := u.Attributes["department"]; len(got) != 1 || got[0] != value {
			stale++
			t.Errorf("write %d through node %d, read through node %d: department = %q, want [%s]", i, i%2+1, 2-i%2, got, value)
		}
	}
	t.Logf("%d writes through one node, each read at once through the other: %d stale reads", writes, stale)
}
