// Package secret is the one place roster decides which secrets a configuration may reach and
// reads them.
//
// The operator chooses the secrets, never the configuration: a secret reference may name only
// an environment variable whose name starts with EnvPrefix, or a file inside the secrets
// directory the operator names (--secrets-dir, or DirEnv). roster's own credentials
// (KEYCLOAK_*) can never be named, and a resolved value equal to one of them is refused too.
// The schema applies Check to every reference the files hold; validate, plan, apply and doctor
// load the files through it, and apply (and validate --check-secrets) read the values through
// Source.Resolve, which checks again.
package secret
