package apply_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/rosterhq/roster/internal/apply"
	"github.com/rosterhq/roster/internal/keycloak/keycloaktest"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/schema"
)

// hostileUsernames are usernames that look like others or hide characters, and a few plain ones.
var hostileUsernames = []string{
	"alice.plain",        // plain
	"\u0430lice",         // Cyrillic а: looks like alice
	"b\u043eb.cyr",       // Cyrillic о inside
	"\u03c9mega",         // Greek omega
	"alice\u200d",        // zero-width joiner
	"al\u200bice",        // zero-width space
	"a\u2060lice",        // word joiner
	"bob\u00ad",          // soft hyphen
	"x\u202eevil",        // right-to-left override
	"caf\u0065\u0301",    // e + combining acute accent
	"caf\u00e9",          // é precomposed
	"\uff41dmin",         // fullwidth a
	"\u0130van",          // capital I with dot above
	"user\U0001F600",     // emoji
	"a\U0001F600",        // emoji: two UTF-16 units
	"\u65e5\u672c\u8a9e", // Han
	"tab\u00a0space",     // no-break space
	"o\u2019brien",       // right single quotation mark
	"ab",                 // too short
}

// TestValidateRefusesWhatKeycloakRefuses creates each hostile username directly through
// Keycloak's POST /users (which runs the user-profile validators), and compares with what
// validate says. Names validate accepts are then created through roster both ways — in one
// batch (partial import, which skips the user-profile validators) and one by one — and must
// exist afterwards either way.
func TestValidateRefusesWhatKeycloakRefuses(t *testing.T) {
	ctx := context.Background()
	direct := keycloaktest.NewCodeMieRealm(t)
	refusedByKeycloak := map[string]string{}
	for _, name := range hostileUsernames {
		err := direct.Admin(ctx, http.MethodPost, "/users", map[string]any{"username": name, "enabled": true}, nil)
		if err != nil {
			refusedByKeycloak[name] = err.Error()
		}
	}

	var accepted []string
	for _, name := range hostileUsernames {
		_, diags := schema.LoadFiles([]schema.File{{Name: "roster.yaml", Data: []byte(fmt.Sprintf(
			"version: 1\nrealm: r\nusers:\n  - {username: %s, role: admin}\n", yamlQuote(name)))}}, schema.Options{})
		refused := diags.HasErrors()
		kc, kcRefused := refusedByKeycloak[name]
		switch {
		case refused && !kcRefused:
			t.Errorf("%q: validate refuses what Keycloak accepts: %v", name, diags)
		case !refused && kcRefused:
			t.Errorf("%q: validate accepts what Keycloak refuses: %s", name, kc)
		case !refused:
			accepted = append(accepted, name)
		}
	}

	for _, batch := range []int{apply.DefaultBatchSize, 0} {
		t.Run(fmt.Sprintf("batch %d", batch), func(t *testing.T) {
			realm, c := prepared(t)
			var b strings.Builder
			fmt.Fprintf(&b, "version: 1\nrealm: %s\nusers:\n", realm.Name)
			for _, name := range accepted {
				fmt.Fprintf(&b, "  - {username: %s, role: admin}\n", yamlQuote(name))
			}
			cfg := load(t, b.String())
			res := apply.Run(ctx, planFor(t, c, cfg), c, apply.Options{BatchSize: batch})
			if res.Failed > 0 || res.Added != len(accepted) {
				t.Fatalf("apply: %+v: %v", res, res.Err())
			}
			for _, name := range accepted {
				if _, ok, err := c.FindUser(ctx, name); err != nil || !ok {
					t.Errorf("%q was not created (err %v)", name, err)
				}
			}
		})
	}

	// Why validate must refuse them: a batch (partial import) skips the user-profile validators
	// and creates a look-alike a single create refuses.
	_, c := prepared(t)
	ids, err := c.ImportUsers(ctx, []model.UserImport{{User: model.NewUser{Username: "\u0430lice", Enabled: true}}})
	if err != nil || ids["\u0430lice"] == "" {
		t.Errorf("partial import of a Cyrillic look-alike: ids %v, err %v; Keycloak validates batches now?", ids, err)
	}
}

// hostileEmails are addresses Keycloak's email validator may refuse.
var hostileEmails = []string{
	"plain@example.com",
	"a@localhost",
	"a b@example.com",
	"a..b@example.com",
	".a@example.com",
	"a@-example.com",
	"a@example..com",
	"a@" + strings.Repeat("x", 64) + ".com",
	strings.Repeat("x", 65) + "@example.com",
	"\u0430lice@example.com",
	"alice@\u0435xample.com",
	"alice\u200b@example.com",
	"alice@exa_mple.com",
	"alice@[127.0.0.1]",
}

// TestValidateRefusesEveryEmailKeycloakRefuses sends each address with a single create, which
// runs Keycloak's email validator, and checks that validate refuses every address Keycloak
// refuses (validate may refuse more: it accepts only addresses mail systems deliver to).
func TestValidateRefusesEveryEmailKeycloakRefuses(t *testing.T) {
	ctx := context.Background()
	realm := keycloaktest.NewCodeMieRealm(t)
	for i, email := range hostileEmails {
		err := realm.Admin(ctx, http.MethodPost, "/users", map[string]any{
			"username": fmt.Sprintf("user%02d", i), "email": email, "enabled": true}, nil)
		_, diags := schema.LoadFiles([]schema.File{{Name: "roster.yaml", Data: []byte(fmt.Sprintf(
			"version: 1\nrealm: r\nusers:\n  - {username: user%02d, email: %s, role: admin}\n", i, yamlQuote(email)))}}, schema.Options{})
		if err != nil && !diags.HasErrors() {
			t.Errorf("%q: validate accepts what Keycloak refuses: %v", email, err)
		}
		t.Logf("%q: Keycloak refuses: %v, validate refuses: %v", email, err != nil, diags.HasErrors())
	}
}

func yamlQuote(s string) string { return strconv.QuoteToASCII(s) }
