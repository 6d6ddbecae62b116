// Package browser runs a headless Chromium on roster's HTML outputs: the access-review page and
// the rendered pull-request comment. Tests use it to check that a page loads without errors and
// holds what it should; `make screenshots` uses it to take the pictures in docs/.
//
// Chromium is found through ROSTER_BROWSER, which scripts/chromium.sh fills in (installing
// Debian's package chromium when it is missing). Each run gets a profile of its own in a
// temporary directory, so runs in parallel do not share state.
package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Env names the environment variable holding the browser's path.
const Env = "ROSTER_BROWSER"

// Timeout bounds one run of the browser.
const Timeout = 90 * time.Second

// Browser is a headless Chromium.
type Browser struct {
	// Path is the executable.
	Path string
}

// FromEnv returns the browser ROSTER_BROWSER names, or an error saying how to get one.
func FromEnv() (*Browser, error) {
	p := os.Getenv(Env)
	if p == "" {
		return nil, errors.New(Env + " is not set: run scripts/chromium.sh (it installs Debian's package chromium) and set " + Env + " to the path it prints")
	}
	path, err := exec.LookPath(p)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", Env, p, err)
	}
	return &Browser{Path: path}, nil
}

// run runs the browser headless on url with the extra flags, in a fresh profile, and returns
// its stdout and stderr. The virtual-time budget lets the page's scripts finish before the
// browser dumps or shoots it.
func (b *Browser) run(ctx context.Context, url string, flags ...string) (stdout, stderr []byte, err error) {
	profile, err := os.MkdirTemp("", "roster-browser-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(profile)
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-extensions", "--disable-background-networking", "--disable-sync", "--hide-scrollbars",
		"--user-data-dir=" + profile, "--virtual-time-budget=5000", "--enable-logging=stderr", "--v=0",
	}, flags...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, b.Path, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Dir = profile
	if err := cmd.Run(); err != nil {
		return nil, errOut.Bytes(), fmt.Errorf("%s: %w\n%s", b.Path, err, tail(errOut.String()))
	}
	return out.Bytes(), errOut.Bytes(), nil
}

// consoleProblem matches what Chromium logs to stderr for an uncaught exception, a refused
// resource or a CSP violation on the page.
var consoleProblem = regexp.MustCompile(`(?m)^.*(?:CONSOLE.*(?:Uncaught|Refused to|Error)|Refused to (?:load|execute|apply)).*$`)

// Load is a page as the browser left it.
type Load struct {
	// DOM is the document serialised after its scripts ran.
	DOM string
	// Console are the lines of the browser's log that report an error on the page.
	Console []string
}

// DumpDOM loads file (a local path; fragment, when set, is appended as #fragment) and returns
// the DOM after the page's scripts ran, with the errors the browser logged.
func (b *Browser) DumpDOM(ctx context.Context, file, fragment string) (Load, error) {
	url, err := fileURL(file)
	if err != nil {
		return Load{}, err
	}
	if fragment != "" {
		url += "#" + fragment
	}
	out, errOut, err := b.run(ctx, url, "--dump-dom")
	if err != nil {
		return Load{}, err
	}
	return Load{DOM: string(out), Console: consoleProblem.FindAllString(string(errOut), -1)}, nil
}

// Screenshot loads file in a window of width × height pixels and writes a PNG of it to png.
func (b *Browser) Screenshot(ctx context.Context, file, png string, width, height int) error {
	url, err := fileURL(file)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(png)
	if err != nil {
		return err
	}
	if _, _, err := b.run(ctx, url, fmt.Sprintf("--window-size=%d,%d", width, height), "--screenshot="+abs); err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("%s wrote no screenshot: %w", b.Path, err)
	}
	return nil
}

func fileURL(file string) (string, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	return "file://" + filepath.ToSlash(abs), nil
}

// tail is the last lines of a browser's log, for an error message.
func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return strings.Join(lines, "\n")
}
