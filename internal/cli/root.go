package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/spf13/cobra"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/iostreams"
)

// Exit codes. They are part of roster's contract with CI jobs.
const (
	ExitOK          = 0
	ExitError       = 1 // invalid input, a failed change, any other error
	ExitChanges     = 2 // plan --detailed-exitcode: the realm differs from the configuration
	ExitUnreachable = 3 // the server could not be reached or refused the credentials
)

// exitError makes Main exit with Code. A nil Err means the command already said everything.
type exitError struct {
	Code int
	Err  error
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
func Main(args []string, ios *iostreams.IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	cmd := newRootCmd(ios)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			printError(ios, ee.Err)
		}
		return ee.Code
	}
	printError(ios, err)
	return ExitError
}

// printError writes "roster: message" and any hint lines the error carries, each on one line:
// messages quote server answers and values, which go through escape.Text.
func printError(ios *iostreams.IOStreams, err error) {
	fmt.Fprintf(ios.ErrOut, "roster: %s\n", escape.Text(err.Error()))
	var h interface{ Hints() []string }
	if errors.As(err, &h) {
		for _, hint := range h.Hints() {
			fmt.Fprintf(ios.ErrOut, "roster: hint: %s\n", escape.Text(hint))
		}
	}
}

// hintError is an error with lines that suggest a fix.
type hintError struct {
	err   error
	hints []string
}

func (e *hintError) Error() string   { return e.err.Error() }
func (e *hintError) Unwrap() error   { return e.err }
func (e *hintError) Hints() []string { return e.hints }

// withHint attaches hints to err.
func withHint(err error, hints ...string) error { return &hintError{err: err, hints: hints} }

func newRootCmd(ios *iostreams.IOStreams) *cobra.Command {
	root := &cobra.Command{
		Use:   "roster",
		Short: "Manage who can use CodeMie, as code",
		Long: `roster manages who can use the CodeMie AI platform from a desired-state YAML file.

CodeMie reads access from Keycloak: the realm role admin or developer lets a user
sign in, and the user attributes applications and applications_admin name the
projects they use and administer. roster validates the file, plans the changes to
the realm, and applies them.`,
		Example: `  # Check a configuration without touching Keycloak
  roster validate examples/codemie-prod.yaml

  # Print the JSON Schema of the format, e.g. for an editor
  roster schema > roster.schema.json

  # Check that Keycloak and the realm are ready for the configuration
  roster doctor examples/codemie-prod.yaml

  # Show what would change in the realm, then make the changes
  roster plan examples/codemie-prod.yaml
  roster apply examples/codemie-prod.yaml

  # Shell completion for bash, in the current shell (see roster completion --help)
  source <(roster completion bash)`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var verbose bool
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false,
		"log each request to Keycloak on stderr: method, path, status and duration (never bodies, headers or query strings)")
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		if verbose {
			cmd.SetContext(context.WithValue(cmd.Context(), requestLogKey{}, ios.ErrOut))
		}
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
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
