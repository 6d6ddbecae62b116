// Package apply carries out a plan.Plan against a Keycloak realm and reports, change by change,
// what was applied, what failed and what was never started.
//
// Run writes through a Target, the small interface this package declares in model types; the
// Keycloak adapter satisfies it, and tests use an in-memory fake. apply does no I/O of its own:
// initial passwords come from Options.Password, progress goes to Options.Progress.
//
// Run works in phases, each finished before the next starts:
//
//  1. the realm's unmanaged-attribute policy;
//  2. realm roles, created or re-described;
//  3. token mappers, then identity providers, each followed by its mappers: created or
//     corrected (a provider keeps what roster does not manage; its client secret, resolved by
//     Options.Secret, is sent on create and when the plan rotates it);
//  4. user creations and updates, up to Options.Parallelism users at a time; each user's steps
//     run in sequence: create or update, then role mappings, then identity links;
//  5. verification: a read-back of the users phase 4 wrote, checking that Keycloak stored every
//     attribute it was sent (it silently drops attributes its policy does not allow); a user that
//     does not match is read again, twice at most, before it fails;
//  6. removals (Disable, Delete), up to Options.Parallelism at a time.
//
// Users need the policy and the roles, so a failure in phase 1 or 2 leaves every user change
// not started; they do not need the token mappers or the identity providers. Otherwise a failure
// stops only the change it belongs to. A user create is never sent twice: when it fails, apply
// looks the user up by username, and if the create took effect after all, or someone else made
// the user since the plan, it adopts that user and brings it to the declared state instead.
//
// When the context is cancelled (Ctrl-C), nothing new starts; changes already under way finish
// on a context that outlives the cancellation by Options.Grace. The Result then tells applied,
// failed and not-started changes apart, and Result.Summary says the apply was interrupted.
//
// Result is the one model of the outcome: the CLI prints its lines and summary, and its JSON
// form (JSONResult, versioned by output.ApplyDocument) is a contract with scripts. No secret ever
// reaches a Result, an Event or an error.
package apply
