package views

import (
	"fmt"
	"io"
	"strings"

	"github.com/rosterhq/roster/internal/escape"
	"github.com/rosterhq/roster/internal/operation"
)

// Init writes, account by account, what init found and did, then the outcome and, when both
// accounts are as roster needs them, the commands that store them in CI. A result init did not
// finish (an error stopped it) ends after its last account.
func Init(w io.Writer, r operation.InitResult) error {
	var b strings.Builder
	for _, a := range r.Accounts {
		writeAccount(&b, a)
	}
	if r.Done {
		switch failed := r.Failed(); {
		case failed == 1:
			b.WriteString("\n1 account not as roster needs it: see above.\n")
		case failed > 1:
			fmt.Fprintf(&b, "\n%d accounts not as roster needs them: see above.\n", failed)
		case r.Created() == 0:
			b.WriteString("\nNo changes. Both service accounts exist as roster needs them.\n")
		default:
			fmt.Fprintf(&b, "\nCreated %s in realm %q.\n", operation.Plural(r.Created(), "service account"), r.Options.Realm)
		}
		if r.Failed() == 0 && r.Options.CI != operation.NoCI {
			b.WriteString(ciCommands(r.Options, r.Server))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeAccount(b *strings.Builder, a operation.Account) {
	roles := operation.JoinPermissions(a.Roles)
	switch a.Outcome {
	case operation.AccountUnchanged:
		fmt.Fprintf(b, "client %s: unchanged (service account holding %s)\n", a.ClientID, roles)
	case operation.AccountCreated:
		fmt.Fprintf(b, "client %s: created (service account holding %s)\n", a.ClientID, roles)
	case operation.AccountCompleted:
		fmt.Fprintf(b, "client %s: completed: granted %s (an earlier init stopped halfway)\n", a.ClientID, operation.JoinPermissions(a.Granted))
	case operation.AccountDiffers:
		fmt.Fprintf(b, "client %s: exists with other settings, left as it is: %s\n", a.ClientID, escape.Text(strings.Join(a.Differences, "; ")))
		fmt.Fprintf(b, "  fix: make it a confidential client with only its service account enabled, holding exactly %s; "+
			"or delete it and run roster init again; or choose another name with --%s-client\n", roles, a.Job)
		return
	}
	if a.SecretFile == "" {
		return
	}
	if a.SecretWritten {
		fmt.Fprintf(b, "  secret: %s, written (readable by its owner only)\n", escape.Text(a.SecretFile))
	} else {
		fmt.Fprintf(b, "  secret: %s, unchanged\n", escape.Text(a.SecretFile))
	}
	if !a.Checked {
		return
	}
	if a.Passed {
		fmt.Fprintf(b, "  doctor --for %s: %s passed\n", a.Job, operation.Plural(a.Checks, "check"))
		return
	}
	fmt.Fprintf(b, "  doctor --for %s: %d of %s did not pass:\n", a.Job, len(a.Failed), operation.Plural(a.Checks, "check"))
	for _, ch := range a.Failed {
		fmt.Fprintf(b, "    %s %s: %s\n", strings.ToUpper(string(ch.Status)), escape.Text(ch.Name), escape.Text(ch.Detail))
	}
}

// ciStore is how ci's command-line tool stores the accounts as the examples in examples/ci read
// them: a heading, then the commands for KEYCLOAK_URL, the plan account's id and secret, and the
// apply account's id and secret; a secret command reads it from stdin.
func ciStore(ci operation.CI) [6]string {
	if ci == operation.GitLab {
		return [6]string{
			"Store the accounts as examples/ci/gitlab/.gitlab-ci.yml expects (run in the project):",
			"glab variable set KEYCLOAK_URL %s",
			"glab variable set KEYCLOAK_READ_CLIENT_ID %s",
			"glab variable set KEYCLOAK_READ_CLIENT_SECRET --masked < %s",
			"glab variable set KEYCLOAK_CLIENT_ID --protected %s",
			"glab variable set KEYCLOAK_CLIENT_SECRET --masked --protected < %s",
		}
	}
	return [6]string{
		"Store the accounts as the workflows in examples/ci/github expect (run in the repository):",
		"gh secret set KEYCLOAK_URL --body %s",
		"gh secret set KEYCLOAK_READ_CLIENT_ID --body %s",
		"gh secret set KEYCLOAK_READ_CLIENT_SECRET < %s",
		"gh secret set KEYCLOAK_CLIENT_ID --env roster-apply --body %s",
		"gh secret set KEYCLOAK_CLIENT_SECRET --env roster-apply < %s",
	}
}

// ciCommands are the commands that store the accounts in the CI settings, the secrets read from
// their files so that they appear nowhere else.
func ciCommands(opts operation.InitOptions, server string) string {
	plan := shellQuote(opts.SecretFile(opts.PlanClient))
	apply := shellQuote(opts.SecretFile(opts.ApplyClient))
	cmds := ciStore(opts.CI)
	var b strings.Builder
	fmt.Fprintf(&b, "\n# %s\n", cmds[0])
	for i, arg := range []string{shellQuote(server), opts.PlanClient, plan, opts.ApplyClient, apply} {
		fmt.Fprintf(&b, cmds[i+1]+"\n", arg)
	}
	fmt.Fprintf(&b, "# then delete the secret files: rm %s %s\n", plan, apply)
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
