package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/redact"
	"github.com/rosterhq/roster/internal/views"
)

// syncBuffer is a buffer one goroutine writes while another reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPromptInterrupted interrupts apply (as Ctrl-C or SIGTERM do, by ending its context) while
// it waits at the confirmation prompt, holding the realm's apply lock, with nobody answering:
// apply must end at once, change nothing, and release the lock.
func TestPromptInterrupted(t *testing.T) {
	realm := keycloaktest.NewCodeMieRealm(t)
	t.Setenv("KEYCLOAK_URL", realm.Server.URL)
	t.Setenv("KEYCLOAK_CLIENT_ID", realm.ClientID)
	t.Setenv("KEYCLOAK_CLIENT_SECRET", realm.ClientSecret)
	t.Setenv("KEYCLOAK_USER", "")
	file := filepath.Join(t.TempDir(), "roster.yaml")
	config := fmt.Sprintf("version: 1\nrealm: %s\nusers:\n  - {username: ann, role: developer, projects: {member: [alpha]}}\n", realm.Name)
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	ios, _, out, _ := iostreams.Test()
	ios.SetTTY(true)
	stdin, unanswered := io.Pipe() // a terminal nobody types on
	defer unanswered.Close()
	ios.In = stdin
	errOut := &syncBuffer{}
	ios.ErrOut = redact.NewWriter(ios.Secrets, errOut)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runApply(ctx, ios, &applyOptions{Paths: []string{file}, Parallelism: 1, BatchSize: 1, Lock: true, Format: output.NewFlag(views.ApplyFormats...)})
	}()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(errOut.String(), "Enter a value: "); {
		if time.Now().After(deadline) {
			t.Fatalf("no prompt after a minute; stderr:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !lockHeld(t, realm) {
		t.Fatalf("apply asks without holding the lock")
	}
	cancel()
	start := time.Now()
	select {
	case err := <-done:
		if err == nil || err.Error() != "apply cancelled: nothing was changed" {
			t.Errorf("apply returned %v, want the cancellation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("apply still waits for an answer 10s after the interrupt; stdout:\n%s", out.String())
	}
	t.Logf("apply ended %s after the interrupt", time.Since(start).Round(time.Millisecond))
	if lockHeld(t, realm) {
		t.Errorf("the apply lock is still held after the cancellation")
	}
	var n int
	if err := realm.Admin(context.Background(), "GET", "/users/count?username=ann&exact=true", nil, &n); err != nil || n != 0 {
		t.Errorf("users named ann: %d (%v), want none", n, err)
	}
}

// lockHeld reports whether the realm's apply lock role exists.
func lockHeld(t *testing.T, realm *keycloaktest.Realm) bool {
	t.Helper()
	err := realm.Admin(context.Background(), "GET", "/roles/"+keycloak.LockRole, nil, nil)
	if err != nil && !strings.Contains(err.Error(), "404") {
		t.Fatal(err)
	}
	return err == nil
}
