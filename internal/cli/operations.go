package cli

import (
	"context"

	"github.com/rosterhq/roster/internal/doctor"
	"github.com/rosterhq/roster/internal/keycloak"
	"github.com/rosterhq/roster/internal/model"
	"github.com/rosterhq/roster/internal/operation"
)

// dialAs is dial for an operation that sees the client as C: a VerifyRealm to verify tokens,
// an AccountAdmin to manage service accounts. A failed dial gives no client, never a nil one.
func dialAs[C any](o *connectOptions, as func(*keycloak.Client) C) operation.Dial[C] {
	return func(ctx context.Context, realm string, cm model.CodeMie) (C, error) {
		c, err := o.dial(ctx, realm, cm)
		if err != nil {
			var none C
			return none, err
		}
		return as(c), nil
	}
}

func asVerifyRealm(c *keycloak.Client) operation.VerifyRealm   { return c }
func asAccountAdmin(c *keycloak.Client) operation.AccountAdmin { return c }

// doctorOpen returns the server for doctor without logging in, refusing the master realm unless
// --allow-master-realm.
func (o *connectOptions) doctorOpen() operation.Dial[doctor.Target] {
	return func(ctx context.Context, realm string, cm model.CodeMie) (doctor.Target, error) {
		if err := o.checkRealm(realm); err != nil {
			return nil, err
		}
		cfg := o.clientConfig(ctx, realm)
		cfg.CodeMie = cm
		return openTarget(cfg)
	}
}

// openTarget is keycloak.Open for doctor's checks: a failure gives no target, never a nil one.
func openTarget(cfg keycloak.Config) (doctor.Target, error) {
	c, err := keycloak.Open(cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}
