package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/diag"
	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/iostreams"
	"github.com/rosterhq/roster/internal/operation"
	"github.com/rosterhq/roster/internal/output"
	"github.com/rosterhq/roster/internal/redact"
	"github.com/rosterhq/roster/internal/secret"
)

// Exit codes. They are part of roster's contract with CI jobs.
const (
	ExitOK          = 0
	ExitError       = 1 // invalid input, a failed change, any other error
	ExitChanges     = 2 // plan --detailed-exitcode: the realm differs from the configuration
	ExitUnreachable = 3 // the server could not be reached or refused the credentials
	// ExitPrerequisite is plan --detailed-exitcode without changes while a prerequisite of
	// CodeMie's reading fails: nothing to apply, yet CodeMie does not read the declared access.
	ExitPrerequisite = 4
)

// exitError makes Main exit with Code. A nil Err means the command already said everything.
type exitError struct {
	Code int
	Err  error
	// InResult means the JSON document the command printed carries Err: Main says it on stderr
	// but prints no failure document, so that stdout holds one document.
	InResult bool
}

// inResult is err, from a command whose JSON document on stdout already carries it when json.
func inResult(err error, json bool) error {
	if !json {
		return err
	}
	ee := &exitError{Code: ExitError, Err: err, InResult: true}
	if inner, ok := err.(*exitError); ok {
		ee.Code, ee.Err = inner.Code, inner.Err
	}
	return ee
}

func (e *exitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *exitError) Unwrap() error { return e.Err }

// silentExit ends the command with code; the command has already reported why.
func silentExit(code int) error { return &exitError{Code: code} }

// Main runs roster with args and returns the process exit code.
//
// SIGINT (Ctrl-C) and SIGTERM (what timeout, Kubernetes and CI cancellation send) both cancel
// the command's context: nothing new starts, work under way gets its grace period, and the
// command reports what it did and releases what it holds. A panic of the command ends in exit
// code 1, never the 2 that plan --detailed-exitcode gives for changes (package supervise covers
// the crashes no recover can catch).
func Main(args []string, ios *iostreams.IOStreams) int {
	return mainAt(args, ios, operation.SystemClock{})
}

// mainAt is Main with the clock the commands read: the scripts fix it, so that what export
// writes in its header does not change from run to run.
func mainAt(args []string, ios *iostreams.IOStreams, clock operation.Clock) (code int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer func() { _ = ios.Flush() }()
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(ios.ErrOut, "roster: internal error: %v\n%s", r, debug.Stack())
			fmt.Fprintln(ios.ErrOut, "roster: hint: this is a bug in roster; please report it with the lines above")
			code = ExitError
		}
	}()
	registerSecrets(ios.Secrets)

	ctx = context.WithValue(ctx, reportKey{}, &runReport{})
	ctx = context.WithValue(ctx, clockKey{}, clock)
	root := newRootCmd(ios)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return finish(ctx, ios, cmd, err)
}

// finish reports the error cmd ended with — on stderr, and as the failure document on stdout
// when cmd was asked for JSON and has not printed its own — and returns the exit code.
func finish(ctx context.Context, ios *iostreams.IOStreams, cmd *cobra.Command, err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			printError(ios, ee.Err)
			if !ee.InResult {
				writeFailureJSON(ctx, ios, cmd, ee.Err, ee.Code)
			}
		}
		return ee.Code
	}
	printError(ios, err)
	writeFailureJSON(ctx, ios, cmd, err, ExitError)
	return ExitError
}

// clockKey carries the clock of the run in a command's context.
type clockKey struct{}

// clockOf returns the clock of the run: the system's, unless mainAt was given another.
func clockOf(ctx context.Context) operation.Clock {
	if c, ok := ctx.Value(clockKey{}).(operation.Clock); ok {
		return c
	}
	return operation.SystemClock{}
}

// registerSecrets adds the credentials roster may be given, and every secret the operator
// exposes to configurations in the environment, to the secrets masked in its output, whether
// or not this command uses them.
func registerSecrets(s *redact.Secrets) {
	s.Add(os.Getenv("KEYCLOAK_CLIENT_SECRET"), os.Getenv("KEYCLOAK_PASSWORD"))
	registerURL(s, os.Getenv("KEYCLOAK_URL"))
	for _, kv := range os.Environ() {
		if name, value, _ := strings.Cut(kv, "="); strings.HasPrefix(name, secret.EnvPrefix) {
			s.Add(value)
		}
	}
}

// registerURL adds the credentials a server URL carries, if any: roster refuses such a URL,
// and the refusal must not print them.
func registerURL(s *redact.Secrets, server string) {
	if u, err := url.Parse(server); err == nil && u.User != nil {
		p, _ := u.User.Password()
		s.Add(p, u.User.String())
	}
}

// printError writes "roster: message", the indented detail lines and the hint lines the error
// carries, each on one line: they quote server answers and values, which go through escape.Text.
func printError(ios *iostreams.IOStreams, err error) {
	fmt.Fprintf(ios.ErrOut, "roster: %s\n", escape.Text(err.Error()))
	var d interface{ Details() []string }
	if errors.As(err, &d) {
		for _, line := range d.Details() {
			fmt.Fprintf(ios.ErrOut, "  %s\n", escape.Text(line))
		}
	}
	for _, hint := range diag.HintsOf(err) {
		fmt.Fprintf(ios.ErrOut, "roster: hint: %s\n", escape.Text(hint))
	}
}

// withHint attaches hints to err.
func withHint(err error, hints ...string) error { return operation.WithHint(err, hints...) }

func newRootCmd(ios *iostreams.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "roster",
		Short: "Manage who can use CodeMie, as code",
		Long: `roster manages who can use the CodeMie AI platform from a desired-state YAML file.

CodeMie reads access from Keycloak: the realm role admin or developer lets a user
sign in, and the user attributes applications and applications_admin name the
projects they use and administer. roster validates the file, plans the changes to
the realm, and applies them.`,
		Example: `  # Check a configuration without touching Keycloak, and keep it in the canonical layout
  roster validate examples/codemie-prod.yaml
  roster fmt examples/codemie-prod.yaml

  # Print the JSON Schema of the format, e.g. for an editor
  roster schema > roster.schema.json

  # Check that Keycloak and the realm are ready for the configuration
  roster doctor examples/codemie-prod.yaml

  # Show what would change in the realm, then make the changes
  roster plan examples/codemie-prod.yaml
  roster apply examples/codemie-prod.yaml

  # Save a plan, review it later, apply exactly it
  roster plan --out roster.plan examples/codemie-prod.yaml
  roster show roster.plan
  roster apply roster.plan

  # Shell completion for bash, in the current shell (see roster completion --help)
  source <(roster completion bash)`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var verbose bool
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false,
		"log each request to Keycloak on stderr: method, path, status, full time with its body, and each retry (never bodies, headers or query strings)")
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		ctx := context.WithValue(cmd.Context(), secretsKey{}, ios.Secrets)
		if f := cmd.Flags().Lookup("server"); f != nil {
			registerURL(ios.Secrets, f.Value.String())
		}
		if verbose {
			ctx = context.WithValue(ctx, requestLogKey{}, ios.ErrOut)
		}
		cmd.SetContext(ctx)
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		var format *output.UnknownError
		if errors.As(err, &format) {
			return withHint(fmt.Errorf("unknown format %q", format.Name), "use --format "+format.Allowed)
		}
		return withHint(err, fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath()))
	})
	root.AddCommand(
		newVersionCmd(ios),
		newValidateCmd(ios, nil),
		newPlanCmd(ios),
		newApplyCmd(ios),
		newSchemaCmd(ios),
		newExportCmd(ios),
		newAccessCmd(ios),
		newDoctorCmd(ios),
		newShowCmd(ios),
		newFmtCmd(ios),
		newInitCmd(ios),
	)
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil {
		c.Example = `  # bash, in the current shell (needs the bash-completion package)
  source <(roster completion bash)

  # bash, zsh or fish, in every new shell
  roster completion bash > /etc/bash_completion.d/roster
  roster completion zsh > "${fpath[1]}/_roster"
  roster completion fish > ~/.config/fish/completions/roster.fish`
	}
	return root
}
