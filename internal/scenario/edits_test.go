package scenario

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
)

// editsFile updates the 100 seeded users o000–o099: the even ones get a new email (no attribute
// written), the odd ones project alpha instead of their own (their attributes are written). The
// odd ones lose their project on purpose, so the access guard's limit is lifted.
func editsFile(realm string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nrealm: %s\nsettings: {unmanagedAttributePolicy: ADMIN_EDIT, maxAccessLosses: 1000}\nusers:\n", realm)
	for i := range 100 {
		name := fmt.Sprintf("o%03d", i)
		if i%2 == 0 {
			fmt.Fprintf(&b, "  - {username: %s, email: %s@new.example.com, role: developer, projects: {member: [%s]}}\n", name, name, project(i))
		} else {
			fmt.Fprintf(&b, "  - {username: %s, email: %s@example.com, role: developer, projects: {member: [alpha]}}\n", name, name)
		}
	}
	return b.String()
}

// wantApps is the applications editsFile gives user i.
func wantApps(i int) string {
	if i%2 == 0 {
		return project(i)
	}
	return "alpha"
}

// TestConsoleEditsDuringApply measures what is left of the window in which an administrator's
// edit made during an apply is lost. Apply updates 100 users through a proxy that delays every
// request by up to 300 ms, while an "administrator" edits every user once through the admin API
// (GET, then PUT of the whole user, as the console does), spread over the apply: the unmanaged
// attribute department and the unmanaged firstName of all, and the managed applications of every
// fifth. Asserted: no attribute edit is lost on a user whose update writes no attribute (roster
// leaves the attributes out of that PUT); a managed edit ends either as the plan said or kept,
// and then the next plan reports it. Logged: the other edits lost — attributes of users whose
// attributes roster writes, and firstName, a root field every update sends back as read (the
// remaining window: roster's read and write of one user) — and the requests updates cost.
func TestConsoleEditsDuringApply(t *testing.T) {
	realm := scenarioRealm(t, 100, 0)
	proxy := keycloaktest.NewFaultProxy(t, realm.Server)
	proxy.Inject(keycloaktest.Faults{Seed: 5, LatencyRate: 1, MaxLatency: 300 * time.Millisecond})
	slow := newRoster(t, realm, proxy.URL)
	slow.write("roster.yaml", editsFile(realm.Name))

	ctx := context.Background()
	ids := map[string]string{}
	for _, u := range listUsers(t, realm) {
		ids[u.Username] = u.ID
	}
	cmd := slow.command([]string{"apply", "--auto-approve", "roster.yaml"})
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	order := rand.New(rand.NewPCG(5, 5)).Perm(100)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, i := range order {
			name := fmt.Sprintf("o%03d", i)
			path := "/users/" + ids[name]
			var u map[string]any
			if err := realm.Admin(ctx, http.MethodGet, path, nil, &u); err != nil {
				t.Error(err)
				return
			}
			attrs, _ := u["attributes"].(map[string]any)
			attrs["department"] = []string{"edited-" + name}
			if i%5 == 0 {
				attrs["applications"] = []string{"console-edit"}
			}
			u["firstName"] = "Edited"
			if err := realm.Admin(ctx, http.MethodPut, path, u, nil); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(40 * time.Millisecond)
		}
	})
	wg.Wait()
	// A console edit of a managed attribute after roster wrote it makes that change unverified
	// (exit 1); nothing may fail.
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code > 1 || strings.Contains(out.String(), " failed to ") || strings.Contains(out.String(), "did not store") {
		t.Fatalf("apply: exit %d\n%s", code, out.String())
	}
	unverified := strings.Count(out.String(), "changed after roster wrote it")

	// lost counts the lost edits by what was edited (department, firstName) and by whether
	// roster's update of the user wrote attributes.
	lost := map[string]map[bool][]string{"department": {}, "firstName": {}}
	var keptManaged, planned []string
	for _, u := range listUsers(t, realm) {
		var i int
		fmt.Sscanf(u.Username, "o%03d", &i)
		var full struct {
			FirstName string `json:"firstName"`
		}
		if err := realm.Admin(ctx, http.MethodGet, "/users/"+u.ID, nil, &full); err != nil {
			t.Fatal(err)
		}
		writesAttrs := i%2 == 1
		if !slices.Equal(u.Attributes["department"], []string{"edited-" + u.Username}) {
			lost["department"][writesAttrs] = append(lost["department"][writesAttrs], u.Username)
		}
		if full.FirstName != "Edited" {
			lost["firstName"][writesAttrs] = append(lost["firstName"][writesAttrs], u.Username)
		}
		if i%5 == 0 {
			switch apps := strings.Join(u.Attributes["applications"], ","); apps {
			case "console-edit":
				keptManaged = append(keptManaged, u.Username)
			case wantApps(i):
				planned = append(planned, u.Username)
			default:
				t.Errorf("%s: applications %q, want the plan's %q or the console's edit", u.Username, apps, wantApps(i))
			}
		}
	}
	if l := lost["department"][false]; len(l) > 0 {
		t.Errorf("attribute edits lost on users whose update writes no attribute: %v", l)
	}
	direct := newRoster(t, realm, realm.Server.URL)
	direct.write("roster.yaml", editsFile(realm.Name))
	planOut, _, _ := direct.run("plan", "roster.yaml")
	for _, name := range keptManaged {
		if !strings.Contains(planOut, fmt.Sprintf("user %q", name)) {
			t.Errorf("%s kept the console's edit of applications, but the next plan does not show it", name)
		}
	}

	// The window: from roster's read of a user to its write, as the proxy saw them.
	read := map[string]time.Time{}
	var windows []time.Duration
	var gets, puts int
	for _, r := range proxy.Requests() {
		if !strings.HasPrefix(r.Path, "/admin/realms/"+realm.Name+"/users/") || strings.Count(r.Path, "/") != 5 {
			continue
		}
		switch r.Method {
		case http.MethodGet:
			gets++
			read[r.Path] = r.At
		case http.MethodPut:
			puts++
			if at, ok := read[r.Path]; ok {
				windows = append(windows, r.At.Sub(at))
			}
		}
	}
	slices.Sort(windows)
	t.Logf("edits lost — department: %d of 50 on users updated without attributes, %d of 50 on users whose attributes roster wrote; "+
		"firstName: %d and %d of 50; managed edits: %d kept (shown by the next plan; %d of them reported by apply as changed after its write), %d overwritten by the plan; "+
		"read-to-write window per updated user: median %s, max %s; the %d updates cost %d reads of a user (%d GET /users/{id} in all)",
		len(lost["department"][false]), len(lost["department"][true]), len(lost["firstName"][false]), len(lost["firstName"][true]),
		len(keptManaged), unverified, len(planned),
		windows[len(windows)/2].Round(time.Millisecond), windows[len(windows)-1].Round(time.Millisecond), puts, len(windows), gets)
}
