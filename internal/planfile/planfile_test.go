package planfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/plan"
)

func TestFingerprintIgnoresWhoLoggedIn(t *testing.T) {
	t.Parallel()
	view := &model.Live{Realm: "r", Policy: model.PolicyAdminEdit, Identity: "service-account-roster-view"}
	write := &model.Live{Realm: "r", Policy: model.PolicyAdminEdit, Identity: "service-account-roster"}
	if Fingerprint(view) != Fingerprint(write) {
		t.Error("the fingerprint depends on the identity that read the realm")
	}
	if view.Identity != "service-account-roster-view" {
		t.Error("Fingerprint changed the live state it was given")
	}
	write.Policy = model.PolicyEnabled
	if Fingerprint(view) == Fingerprint(write) {
		t.Error("the fingerprint does not depend on the realm's policy")
	}
}

// userPlan is a plan with one user update that removes one attribute and sets another.
func userPlan(remove string) *plan.Plan {
	return &plan.Plan{Realm: "r", Changes: []plan.Change{{
		Addr: plan.Address{Kind: plan.KindUser, Name: "bob"}, Action: plan.Update,
		User: &plan.UserChange{
			Before: &model.LiveUser{ID: "id-1", Username: "bob", Attributes: map[string][]string{"x": {"live"}}},
			After:  &model.User{Username: "bob", Role: model.RoleDeveloper},
			Patch:  model.UserPatch{Attributes: map[string][]string{"applications": {"alpha"}, remove: nil}},
		},
		Fields: []plan.FieldChange{{Name: "applications", After: plan.AttributeValue([]string{"alpha"})}},
		Reason: "for people only",
	}}}
}

func TestChangeSetIsWhatApplyExecutes(t *testing.T) {
	t.Parallel()
	cs := ChangeSet(userPlan("old"))
	if len(cs) != 1 || cs[0].Address != "user.bob" || cs[0].Action != "update" {
		t.Fatalf("change set %+v", cs)
	}
	v := cs[0].Values
	for path, want := range map[string]string{
		"User.Before.ID":                     `"id-1"`,
		"User.Patch.Attributes.applications": `["alpha"]`,
		"User.Patch.Attributes.old":          `null`, // removes the attribute: part of the change
	} {
		if got := string(v[path]); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
	for path := range v {
		if strings.HasPrefix(path, "User.Before.Attributes") || strings.Contains(path, "Fields") || strings.Contains(path, "Reason") {
			t.Errorf("the change set holds %s, which apply does not execute", path)
		}
	}
	if Digest(cs) != Digest(ChangeSet(userPlan("old"))) {
		t.Error("the digest of the same plan differs")
	}
	if Digest(cs) == Digest(ChangeSet(userPlan("other"))) {
		t.Error("removing another attribute has the same digest")
	}
}

func TestDiffSaysWhatDiffers(t *testing.T) {
	t.Parallel()
	reviewed := ChangeSet(userPlan("old"))
	now := ChangeSet(userPlan("other"))
	now = append(now, Change{Address: "user.mallory", Action: "create"})
	want := []string{
		`user "bob": User.Patch.Attributes.old is null in the reviewed plan; apply would not set it now`,
		`user "bob": User.Patch.Attributes.other is null now; the reviewed plan does not set it`,
		`user "mallory": apply would now create it; the reviewed plan does not change it`,
	}
	if diff := cmp.Diff(want, Diff(reviewed, now)); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`realm.unmanagedAttributePolicy: the reviewed plan would update it; apply would not change it now`},
		Diff([]Change{{Address: "realm.unmanagedAttributePolicy", Action: "update"}}, nil)); diff != "" {
		t.Errorf("Diff of a change no longer planned (-want +got):\n%s", diff)
	}
}

func TestReadRefusesAnEditedPlan(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "p.plan")
	f := &File{RosterVersion: "v1.0.0", Server: "https://kc", Realm: "r", LiveFingerprint: "sha256:0",
		Sources: []Source{{Path: "roster.yaml", Content: []byte("version: 1\n")}},
		Changes: ChangeSet(userPlan("old")), Plan: json.RawMessage(`{"changes": []}`)}
	if err := Write(path, f, nil); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Read(bytes.NewReader(written), "v1.0.0"); err != nil {
		t.Fatalf("Read of the plan as written: %v", err)
	}
	var ve *VersionError
	if _, err := Read(bytes.NewReader(written), "v1.0.1"); !errors.As(err, &ve) || ve.Made != "v1.0.0" {
		t.Errorf("Read by another version: %v, want a VersionError", err)
	}
	for name, edit := range map[string][2]string{
		"server":         {`"server": "https://kc"`, `"server": "https://kc2"`},
		"configuration":  {`"content": "dmVyc2lvbjogMQo="`, `"content": "dmVyc2lvbjogMgo="`},
		"reviewed plan":  {`"changes": []`, `"changes": [1]`},
		"change set":     {`"alpha"`, `"beta"`},
		"file digest":    {`"digest": "sha256:`, `"digest": "sha256:0`},
		"changes digest": {`"changes_digest": "sha256:`, `"changes_digest": "sha256:0`},
	} {
		edited := bytes.Replace(written, []byte(edit[0]), []byte(edit[1]), 1)
		if bytes.Equal(edited, written) {
			t.Fatalf("%s: %q is not in the file:\n%s", name, edit[0], written)
		}
		var de *DamagedError
		if _, err := Read(bytes.NewReader(edited), "v1.0.0"); !errors.As(err, &de) {
			t.Errorf("%s edited: Read returned %v, want a DamagedError", name, err)
		}
	}
}

func TestMismatchErrorCountsAndDetails(t *testing.T) {
	t.Parallel()
	var now []Change
	for i := range maxDifferences + 2 {
		now = append(now, Change{Address: fmt.Sprintf("user.u%02d", i), Action: "create"})
	}
	err := Check(Digest(nil), nil, now)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Check = %v, want a MismatchError", err)
	}
	if got, want := err.Error(), "the saved plan is not what apply would do now: 12 differences from the reviewed plan"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	d := me.Details()
	if len(d) != maxDifferences+1 || d[0] != `user "u00": apply would now create it; the reviewed plan does not change it` || d[maxDifferences] != "and 2 more" {
		t.Errorf("Details() = %q", d)
	}
	if err := Check(Digest(now), now, now); err != nil {
		t.Errorf("Check of the same change set = %v", err)
	}
}
