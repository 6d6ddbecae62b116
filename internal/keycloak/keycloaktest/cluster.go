package keycloaktest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Cluster is the production-like topology `scripts/keycloak.sh` starts with TOPOLOGY=cluster:
// two Keycloak nodes on one PostgreSQL database, behind HAProxy. The Server of FromEnv is the
// load balancer; Nodes are the nodes themselves, for tests that must reach one of them.
type Cluster struct {
	Nodes []Node
}

// Node is one Keycloak node of the cluster.
type Node struct {
	URL string
	// PID leads the node's process group (kc.sh and the JVM it starts).
	PID int
}

// RequireCluster returns the cluster the environment describes (KEYCLOAK_TOPOLOGY=cluster,
// KEYCLOAK_NODE_URLS, KEYCLOAK_NODE_PIDS, as `keycloak.sh env` prints them). Without one the
// test skips, or fails under ROSTER_CLUSTER=require (as `make test-cluster` sets).
func RequireCluster(t testing.TB) *Cluster {
	t.Helper()
	Require(t)
	c, err := clusterFromEnv()
	if err != nil {
		if os.Getenv("ROSTER_CLUSTER") == "require" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return c
}

func clusterFromEnv() (*Cluster, error) {
	if os.Getenv("KEYCLOAK_TOPOLOGY") != "cluster" {
		return nil, fmt.Errorf("cluster test needs the cluster topology: run `make test-cluster`, or `make keycloak-up TOPOLOGY=cluster` and the variables `scripts/keycloak.sh env` prints with TOPOLOGY=cluster")
	}
	urls, pids := strings.Fields(os.Getenv("KEYCLOAK_NODE_URLS")), strings.Fields(os.Getenv("KEYCLOAK_NODE_PIDS"))
	if len(urls) < 2 || len(pids) != len(urls) {
		return nil, fmt.Errorf("KEYCLOAK_NODE_URLS=%q and KEYCLOAK_NODE_PIDS=%q: want two or more nodes, a PID for each", urls, pids)
	}
	c := &Cluster{}
	for i, u := range urls {
		pid, err := strconv.Atoi(pids[i])
		if err != nil || pid <= 1 {
			return nil, fmt.Errorf("KEYCLOAK_NODE_PIDS: %q is not a process ID", pids[i])
		}
		c.Nodes = append(c.Nodes, Node{URL: u, PID: pid})
	}
	return c, nil
}

// Kill sends SIGKILL to the node's whole process group: the node dies at once, as when its
// machine fails.
func (n Node) Kill() error {
	if err := syscall.Kill(-n.PID, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill the Keycloak node at %s (process group %d): %w", n.URL, n.PID, err)
	}
	return nil
}

// On returns the realm as seen through the node alone: the same realm and credentials, with an
// administrator logged in on the node itself (a token names the address it was issued at, and a
// node refuses one issued through the load balancer's).
func (n Node) On(r *Realm) *Realm {
	s := &Server{URL: n.URL, AdminUser: r.Server.AdminUser, AdminPassword: r.Server.AdminPassword}
	on := *r
	on.Server = s
	return &on
}
