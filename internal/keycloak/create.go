package keycloak

import (
	"context"
	"net/http"
)

// postUser sends the create of a user. When it fails without a clear answer — a broken
// connection, 500, 502 or 504 — the server may or may not have created the user: a lookup by
// username tells. Only when the lookup finds no such user is the create sent again, so it never
// makes a second user; when the user exists, or the lookup fails, the create's failure is
// returned and the caller decides (apply adopts the user). Keycloak refuses a second user with
// the same username anyway, with 409.
func (c *Client) postUser(ctx context.Context, rep userCreate) (*answer, error) {
	for attempt := 1; ; attempt++ {
		resp, err := c.do(ctx, http.MethodPost, "/users", rep, nil)
		if err == nil || attempt == maxAttempts || !transient(resp, err) || ctx.Err() != nil {
			return resp, err
		}
		if _, found, ferr := c.FindUser(ctx, rep.Username); ferr != nil || found {
			return resp, err
		}
		if sleep(ctx, backoff(attempt, resp)) != nil {
			return resp, err
		}
	}
}
