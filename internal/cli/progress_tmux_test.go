package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// tmuxPath returns tmux, installed by scripts/tmux.sh when missing. In CI a missing tmux fails
// the test; elsewhere it is skipped, loudly.
func tmuxPath(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("../../scripts/tmux.sh").Output()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("scripts/tmux.sh could not install tmux: %v", err)
		}
		t.Skip("SKIPPED: the terminal tests of apply's progress need tmux: run scripts/tmux.sh (they run in CI)")
	}
	return strings.TrimSpace(string(out))
}

// TestApplyProgressOnTerminal runs roster apply in a tmux pane against the real Keycloak,
// creating a few hundred users, and reads the screen while it runs: the phases show, the
// users' count rises while they are written (not only after the read-back), and colour follows
// NO_COLOR.
func TestApplyProgressOnTerminal(t *testing.T) {
	tmux := tmuxPath(t)
	bin := filepath.Join(t.TempDir(), "roster")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/roster").CombinedOutput(); err != nil {
		t.Fatalf("building roster: %v\n%s", err, out)
	}
	for _, noColor := range []bool{false, true} {
		t.Run(fmt.Sprintf("NO_COLOR=%v", noColor), func(t *testing.T) {
			r := keycloaktest.NewCodeMieRealm(t)
			dir := t.TempDir()
			const users = 300
			var cfg strings.Builder
			fmt.Fprintf(&cfg, "version: 1\nrealm: %s\nusers:\n", r.Name)
			for i := range users {
				fmt.Fprintf(&cfg, "  - {username: user%03d, role: developer, projects: {member: [payments]}}\n", i)
			}
			writeFile(t, filepath.Join(dir, "roster.yaml"), cfg.String())
			env := fmt.Sprintf("export KEYCLOAK_URL=%q KEYCLOAK_CLIENT_ID=%q KEYCLOAK_CLIENT_SECRET=%q TERM=xterm-256color\n",
				r.Server.URL, r.ClientID, r.ClientSecret)
			if noColor {
				env += "export NO_COLOR=1\n"
			} else {
				env += "unset NO_COLOR\n"
			}
			// One user per request, two at a time: slow enough to watch the count rise.
			writeFile(t, filepath.Join(dir, "run.sh"), env+
				bin+" apply --auto-approve --batch-size 1 --parallelism 2 roster.yaml >stdout.txt\necho EXIT=$?\nsleep 600\n")
			socket := "roster-test-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatBool(noColor)
			run := func(args ...string) string {
				out, err := exec.Command(tmux, append([]string{"-L", socket}, args...)...).CombinedOutput()
				if err != nil {
					t.Fatalf("tmux %v: %v\n%s", args, err, out)
				}
				return string(out)
			}
			run("-f", "/dev/null", "new-session", "-d", "-x", "160", "-y", "30", "-c", dir, "sh run.sh")
			t.Cleanup(func() { _ = exec.Command(tmux, "-L", socket, "kill-server").Run() })

			usersRe := regexp.MustCompile(`(?m)^users\s+(\d+) of 300 .*created (\d+), updated 0, failed 0`)
			var counts []int
			var screens []string
			deadline := time.Now().Add(3 * time.Minute)
			for {
				screen := run("capture-pane", "-p", "-e")
				screens = append(screens, screen)
				if m := usersRe.FindStringSubmatch(stripSGR(screen)); m != nil {
					n, _ := strconv.Atoi(m[1])
					if len(counts) == 0 || counts[len(counts)-1] != n {
						counts = append(counts, n)
					}
				}
				if strings.Contains(screen, "EXIT=") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("apply did not end within 3 minutes; the screen:\n%s", screen)
				}
				time.Sleep(100 * time.Millisecond)
			}
			final := stripSGR(screens[len(screens)-1])
			if !strings.Contains(final, "EXIT=0") {
				t.Fatalf("apply failed; the screen:\n%s", final)
			}
			for _, want := range []string{
				`(?m)^read\s+realm "` + r.Name + `"\s+\d+ users in `,
				`(?m)^users\s+300 of 300 \[=+\] created 300, updated 0, failed 0\s+\d+/s done`,
				`(?m)^read-back\s+300 of 300 \[=+\] failed 0 .*done`,
			} {
				if !regexp.MustCompile(want).MatchString(final) {
					t.Errorf("the final screen does not match %s:\n%s", want, final)
				}
			}
			// The count rose in steps while the users were written, before the read-back.
			rising := 0
			for _, n := range counts {
				if n > 0 && n < users {
					rising++
				}
			}
			if rising < 2 {
				t.Errorf("saw the users' count at %v, want at least two values between 0 and %d", counts, users)
			}
			for _, s := range screens {
				if strings.Contains(s, "read-back") && !strings.Contains(stripSGR(s), "users           300 of 300") {
					t.Errorf("the read-back started before all users were written:\n%s", stripSGR(s))
				}
			}
			colored := strings.Contains(strings.Join(screens, ""), "\x1b[32m")
			if noColor && regexp.MustCompile(`\x1b\[[0-9;]*m`).MatchString(strings.Join(screens, "")) {
				t.Errorf("NO_COLOR is set, but the screen has colour codes:\n%q", final)
			}
			if !noColor && !colored {
				t.Errorf("without NO_COLOR, the finished phases should be green:\n%q", screens[len(screens)-1])
			}
		})
	}
}

// stripSGR removes colour codes.
func stripSGR(s string) string { return regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(s, "") }

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}
