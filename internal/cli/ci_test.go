package cli

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/internal/escape/escapetest"
)

// ciStep is one shell script a CI job runs: a GitHub Actions `run:` step, a GitLab job's script
// or after_script, or a Kubernetes container's `sh -c` command.
type ciStep struct {
	name   string
	script string
	always bool   // runs even after an earlier step failed (if: always(), after_script)
	flags  string // sh flags the platform runs it with
	skip   string // why the test skips it, if it does
	env    string // export lines for the variables the CI file sets literally
	dir    string // the container's working directory, under $WORK (Kubernetes workingDir)
}

// githubPath is the preamble of every GitHub Actions step: the directories earlier steps added to
// $GITHUB_PATH come first in PATH, the last added first, as on a runner.
const githubPath = `if [ -f "$GITHUB_PATH" ]; then while IFS= read -r p; do PATH=$p:$PATH; done <"$GITHUB_PATH"; fi
`

// knownActions are the actions the example workflows may use. They set up the runner or move
// files between jobs, so the scripts skip them; the steps around them do what they would.
var knownActions = []string{"actions/checkout@", "actions/setup-go@", "actions/upload-artifact@"}

// pinned is how the example workflows name an action's version: by full commit SHA, so that a
// moved tag cannot change what runs (the version goes in a comment).
var pinned = regexp.MustCompile(`@[0-9a-f]{40}$`)

// cmdCIJob extracts the shell commands of one job of a CI file and writes them to DIR as step
// files and a driver, DIR/run.sh, that runs them the way the platform does (stopping at the first
// failed step except for steps that always run) and exits with the job's exit code:
// cijob FILE JOB DIR. FILE is a GitHub Actions workflow, a .gitlab-ci.yml or a Kubernetes CronJob
// manifest (JOB is then the container's name). Each step file starts by exporting the variables
// the file sets literally (GitHub env, GitLab variables, an init container's env); the script
// provides those the platform would (secrets, pull-request numbers) and the container's
// environment. The install steps run for real, from the release ROSTER_DOWNLOAD points at (see
// `release` and `serve`); GitHub steps see what earlier ones added to $GITHUB_PATH, and a
// Kubernetes container with a workingDir W runs in $WORK/W. The known actions are skipped;
// anything else the test could not run faithfully is an error. It prints one line per step:
// run, always or skip.
func cmdCIJob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: cijob FILE JOB DIR")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	var doc map[string]any
	ts.Check(yaml.Unmarshal(data, &doc))
	var steps []ciStep
	switch {
	case doc["jobs"] != nil:
		steps = githubSteps(ts, doc, args[1])
	case doc["kind"] == "CronJob":
		steps = cronJobSteps(ts, doc, args[1])
	default:
		steps = gitlabSteps(ts, doc, args[1])
	}
	dir := ts.MkAbs(args[2])
	ts.Check(os.MkdirAll(dir, 0o777))
	driver := fmt.Sprintf("#!/bin/sh\nrc=0\nexport GITHUB_PATH=%q\n", filepath.Join(dir, "github_path"))
	n := 0
	for _, s := range steps {
		if s.skip != "" {
			fmt.Fprintf(ts.Stdout(), "skip %s: %s\n", s.name, s.skip)
			continue
		}
		n++
		file := filepath.Join(dir, fmt.Sprintf("%02d.sh", n))
		ts.Check(os.WriteFile(file, []byte(s.env+s.script), 0o666))
		run := fmt.Sprintf("sh %s %q", s.flags, file)
		if s.dir != "" {
			run = fmt.Sprintf("(cd %q && %s)", ts.MkAbs(s.dir), run)
		}
		if s.always {
			fmt.Fprintf(ts.Stdout(), "always %s\n", s.name)
			driver += fmt.Sprintf("%s || { s=$?; [ \"$rc\" -ne 0 ] || rc=$s; }\n", run)
		} else {
			fmt.Fprintf(ts.Stdout(), "run %s\n", s.name)
			driver += fmt.Sprintf("[ \"$rc\" -ne 0 ] || %s || rc=$?\n", run)
		}
	}
	driver += "exit \"$rc\"\n"
	ts.Check(os.WriteFile(filepath.Join(dir, "run.sh"), []byte(driver), 0o777))
}

func githubSteps(ts *testscript.TestScript, doc map[string]any, job string) []ciStep {
	if shell := dig(doc, "defaults", "run", "shell"); shell != "sh" {
		ts.Fatalf("the workflow's defaults.run.shell is %v; the test runs steps with sh -e, as shell: sh does", shell)
	}
	j, ok := dig(doc, "jobs", job).(map[string]any)
	if !ok {
		ts.Fatalf("no job %q", job)
	}
	var steps []ciStep
	for i, raw := range j["steps"].([]any) {
		st := raw.(map[string]any)
		name, _ := st["name"].(string)
		if uses, ok := st["uses"].(string); ok {
			if !hasAnyPrefix(uses, knownActions) {
				ts.Fatalf("step %d uses %s, which the test cannot stand in for", i+1, uses)
			}
			if !pinned.MatchString(uses) {
				ts.Fatalf("step %d uses %s: pin the action by full commit SHA, with its version in a comment", i+1, uses)
			}
			steps = append(steps, ciStep{name: uses, skip: "the runner's part"})
			continue
		}
		script, _ := st["run"].(string)
		if strings.Contains(script, "${{") {
			ts.Fatalf("step %q has an expression in run: pass it through env so that the shell quotes it", name)
		}
		always := false
		switch cond := st["if"]; cond {
		case nil:
		case "always()":
			always = true
		default:
			ts.Fatalf("step %q: the test does not understand if: %v", name, cond)
		}
		if _, ok := st["shell"]; ok {
			ts.Fatalf("step %q sets shell: the test runs every step with sh -e", name)
		}
		if name == "" {
			name = strings.SplitN(script, "\n", 2)[0]
		}
		env := ciEnv(ts, doc["env"], j["env"], st["env"])
		steps = append(steps, ciStep{name: name, script: script, always: always, flags: "-e", env: githubPath + env})
	}
	return steps
}

func gitlabSteps(ts *testscript.TestScript, doc map[string]any, job string) []ciStep {
	j, ok := doc[job].(map[string]any)
	if !ok {
		ts.Fatalf("no job %q", job)
	}
	before := j["before_script"]
	if before == nil {
		before = dig(doc, "default", "before_script")
	}
	// GitLab runs before_script and script in one shell, stopping at the first failed line, and
	// after_script in a shell of its own, after either.
	var script []string
	for _, part := range []any{before, j["script"]} {
		if l := lines(ts, part); l != "" {
			script = append(script, l)
		}
	}
	env := ciEnv(ts, doc["variables"], j["variables"])
	steps := []ciStep{{name: job + " script", script: strings.Join(script, "\n"), flags: "-e", env: env}}
	if after := j["after_script"]; after != nil {
		steps = append(steps, ciStep{name: job + " after_script", script: lines(ts, after), always: true, flags: "-e", env: env})
	}
	return steps
}

// cronJobSteps runs one container, or init container, of a CronJob. An init container's env is
// exported (the script sets the main container's); its workingDir W becomes $WORK/W.
func cronJobSteps(ts *testscript.TestScript, doc map[string]any, container string) []ciStep {
	pod := dig(doc, "spec", "jobTemplate", "spec", "template", "spec")
	inits, _ := dig(pod, "initContainers").([]any)
	cs, _ := dig(pod, "containers").([]any)
	for i, raw := range append(inits, cs...) {
		c := raw.(map[string]any)
		if c["name"] != container {
			continue
		}
		cmd, _ := c["command"].([]any)
		if len(cmd) != 3 || cmd[0] != "/bin/sh" || cmd[1] != "-c" {
			ts.Fatalf("container %q: the test runs a command of the form [/bin/sh, -c, SCRIPT], not %v", container, cmd)
		}
		step := ciStep{name: "container " + container, script: cmd[2].(string)}
		if i < len(inits) {
			step.name = "init container " + container
			env := map[string]any{}
			list, _ := c["env"].([]any)
			for _, e := range list {
				m, _ := e.(map[string]any)
				env[fmt.Sprint(m["name"])] = m["value"]
			}
			step.env = ciEnv(ts, env)
		}
		if wd, ok := c["workingDir"].(string); ok {
			step.dir = strings.TrimPrefix(wd, "/")
		}
		return []ciStep{step}
	}
	ts.Fatalf("no container %q", container)
	return nil
}

// ciEnv turns the variables a CI file sets (workflow, job, step: later ones win) into export
// lines. A value that is a GitHub expression (a secret, the pull request's number) stands for the
// platform: the script must set that variable itself, and ciEnv checks that it did.
func ciEnv(ts *testscript.TestScript, levels ...any) string {
	vars := map[string]string{}
	for _, level := range levels {
		m, _ := level.(map[string]any)
		for k, v := range m {
			vars[k] = fmt.Sprint(v)
		}
	}
	var names []string
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		v := vars[k]
		if strings.Contains(v, "${{") {
			if ts.Getenv(k) == "" {
				ts.Fatalf("the CI file sets %s to %s: set it in the script, as the platform would", k, v)
			}
			continue
		}
		fmt.Fprintf(&b, "export %s='%s'\n", k, strings.ReplaceAll(v, "'", `'\''`))
	}
	return b.String()
}

// lines joins a GitLab script (a string or a list of strings) into one shell script.
func lines(ts *testscript.TestScript, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		var out []string
		for _, l := range v {
			s, ok := l.(string)
			if !ok {
				ts.Fatalf("script line %v is not a string", l)
			}
			out = append(out, strings.TrimRight(s, "\n"))
		}
		return strings.Join(out, "\n")
	}
	ts.Fatalf("script %v is neither a string nor a list", v)
	return ""
}

// dig follows keys through nested mappings; nil when one is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// cmdRelease writes a release of the roster under test for this machine to DIR, laid out as
// scripts/release.sh lays one out: roster_OS_ARCH.tar.gz holding the binary, and SHA256SUMS in
// sha256sum's format: release DIR. The CI examples' install steps fetch it through `serve` and
// verify it as they would a published release.
func cmdRelease(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: release DIR")
	}
	releaseOnce.Do(func() { releaseBin, releaseErr = buildRoster() })
	ts.Check(releaseErr)
	bin, err := os.ReadFile(releaseBin)
	ts.Check(err)
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	ts.Check(tw.WriteHeader(&tar.Header{Name: "roster", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg}))
	_, err = tw.Write(bin)
	ts.Check(err)
	ts.Check(tw.Close())
	ts.Check(gz.Close())
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o777))
	name := fmt.Sprintf("roster_%s_%s.tar.gz", runtime.GOOS, runtime.GOARCH)
	ts.Check(os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o666))
	sum := sha256.Sum256(buf.Bytes())
	ts.Check(os.WriteFile(filepath.Join(dir, "SHA256SUMS"), fmt.Appendf(nil, "%x  %s\n", sum, name), 0o666))
}

var (
	releaseOnce sync.Once
	releaseBin  string
	releaseErr  error
)

// buildRoster builds cmd/roster of this checkout into a temporary directory that lives as long
// as the test process.
func buildRoster() (string, error) {
	dir, err := os.MkdirTemp("", "roster-release-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "roster")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/roster")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/roster: %v\n%s", err, out)
	}
	return bin, nil
}

// cmdServe serves DIR over HTTP on loopback for the rest of the script and sets VAR to its URL:
// serve DIR VAR. It stands for a release server or an internal mirror.
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: serve DIR VAR")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(ts.MkAbs(args[0]))))
	ts.Defer(srv.Close)
	ts.Setenv(args[1], srv.URL)
}

// cmdMDOutline prints a Markdown file as GitHub reads it (escapetest.Parse): one line per block,
// then "mention: …" for each word GitHub would turn into a mention. The CI scripts compare it
// with the comment structure they expect.
func cmdMDOutline(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mdoutline FILE")
	}
	o := escapetest.Parse(ts.ReadFile(args[0]))
	for _, b := range o.Blocks {
		fmt.Fprintln(ts.Stdout(), b)
	}
	for _, m := range o.Mentions {
		fmt.Fprintln(ts.Stdout(), "mention: "+m)
	}
}
