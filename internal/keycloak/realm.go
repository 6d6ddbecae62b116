package keycloak

import (
	"context"
	"fmt"
	"net/http"

	"github.com/rosterhq/roster/internal/model"
)

// RealmInfo is what roster needs to know about the realm itself.
type RealmInfo struct {
	ID      string `json:"id"`
	Name    string `json:"realm"`
	Enabled bool   `json:"enabled"`
	// SMTPServer is the realm's mail configuration; without a host Keycloak sends no email.
	SMTPServer map[string]string `json:"smtpServer"`
	// The login settings plans depend on (model.LoginSettings).
	EditUsernameAllowed    bool `json:"editUsernameAllowed"`
	DuplicateEmailsAllowed bool `json:"duplicateEmailsAllowed"`
	LoginWithEmailAllowed  bool `json:"loginWithEmailAllowed"`
}

// Login returns the realm's login settings.
func (r RealmInfo) Login() model.LoginSettings {
	return model.LoginSettings{EditUsernameAllowed: r.EditUsernameAllowed, DuplicateEmailsAllowed: r.DuplicateEmailsAllowed,
		LoginWithEmailAllowed: r.LoginWithEmailAllowed}
}

// CanSendEmail reports whether the realm has an SMTP server to send email through.
func (r RealmInfo) CanSendEmail() bool { return r.SMTPServer["host"] != "" }

// ReadRealm reads the managed realm; a missing realm is an error that says so.
func (c *Client) ReadRealm(ctx context.Context) (RealmInfo, error) {
	var r RealmInfo
	_, err := c.do(ctx, http.MethodGet, "", nil, &r)
	if IsNotFound(err) {
		return r, fmt.Errorf("realm %q does not exist on %s: create it first, or fix realm in the configuration", c.cfg.Realm, c.cfg.URL)
	}
	return r, err
}
