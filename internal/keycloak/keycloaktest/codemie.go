package keycloaktest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"

	"github.com/rosterhq/roster/internal/model"
)

// CodeMieClient creates a confidential client clientID standing in for CodeMie's (see
// BareCodeMieClient) with one User Attribute mapper per CodeMie attribute (claim named like the
// attribute, String, in the ID token, the access token and userinfo), multivalued or not, on a
// default client scope of the client: Keycloak's profile, as CodeMie's guide has it, or a new
// scope of the given name. It returns the client's id.
func (r *Realm) CodeMieClient(ctx context.Context, clientID, scope string, multivalued bool) (string, error) {
	var mappers []map[string]any
	for _, attr := range model.CodeMieAttributes() {
		m := model.CodeMieTokenMapper(attr)
		m.Config["multivalued"] = fmt.Sprint(multivalued)
		mappers = append(mappers, map[string]any{
			"name": m.Name, "protocol": "openid-connect", "protocolMapper": m.ProtocolMapper, "config": m.Config,
		})
	}
	if scope == "profile" {
		var scopes []scopeRef
		if err := r.Admin(ctx, http.MethodGet, "/client-scopes", nil, &scopes); err != nil {
			return "", err
		}
		i := slices.IndexFunc(scopes, func(s scopeRef) bool { return s.Name == scope })
		if i < 0 {
			return "", fmt.Errorf("no client scope %s", scope)
		}
		for _, m := range mappers {
			if err := r.Admin(ctx, http.MethodPost, "/client-scopes/"+scopes[i].ID+"/protocol-mappers/models", m, nil); err != nil {
				return "", err
			}
		}
		return r.BareCodeMieClient(ctx, clientID)
	}
	if err := r.Admin(ctx, http.MethodPost, "/client-scopes", map[string]any{
		"name": scope, "protocol": "openid-connect", "protocolMappers": mappers,
	}, nil); err != nil {
		return "", err
	}
	return r.BareCodeMieClient(ctx, clientID, scope)
}

type scopeRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// BareCodeMieClient creates a confidential client clientID standing in for CodeMie's, as
// CodeMie's installation leaves it before the attribute mappers are added: its default client
// scopes are Keycloak's roles, profile and basic, plus the extra scopes given. It returns the
// client's id.
func (r *Realm) BareCodeMieClient(ctx context.Context, clientID string, extraScopes ...string) (string, error) {
	if err := r.Admin(ctx, http.MethodPost, "/clients", map[string]any{
		"clientId": clientID, "protocol": "openid-connect", "publicClient": false, "standardFlowEnabled": true,
		"redirectUris":        []string{"https://codemie.example/*"},
		"defaultClientScopes": append([]string{"roles", "profile", "basic"}, extraScopes...),
	}, nil); err != nil {
		return "", err
	}
	return r.clientUUID(ctx, clientID)
}

// clientUUID returns the internal id of the client clientID.
func (r *Realm) clientUUID(ctx context.Context, clientID string) (string, error) {
	var found []struct {
		ID string `json:"id"`
	}
	if err := r.Admin(ctx, http.MethodGet, "/clients?"+url.Values{"clientId": {clientID}}.Encode(), nil, &found); err != nil {
		return "", err
	}
	if len(found) != 1 {
		return "", fmt.Errorf("client %s: found %d", clientID, len(found))
	}
	return found[0].ID, nil
}

// ExampleClaims returns the claims Keycloak's "evaluate scopes" gives for a user signing in
// through the client (its id) with scope openid, without the user's password: kind is
// access-token, id-token or userinfo.
func (r *Realm) ExampleClaims(ctx context.Context, clientUUID, userID, kind string) (map[string]any, error) {
	var claims map[string]any
	q := url.Values{"userId": {userID}, "scope": {"openid"}}
	err := r.Admin(ctx, http.MethodGet, "/clients/"+url.PathEscape(clientUUID)+"/evaluate-scopes/generate-example-"+kind+"?"+q.Encode(), nil, &claims)
	return claims, err
}

// LimitScope turns Full scope allowed off on the client (its id) and gives it scope mappings to
// the named realm roles only: its tokens then carry no other realm role.
func (r *Realm) LimitScope(ctx context.Context, clientUUID string, roles ...string) error {
	var client map[string]any
	if err := r.Admin(ctx, http.MethodGet, "/clients/"+url.PathEscape(clientUUID), nil, &client); err != nil {
		return err
	}
	client["fullScopeAllowed"] = false
	if err := r.Admin(ctx, http.MethodPut, "/clients/"+url.PathEscape(clientUUID), client, nil); err != nil {
		return err
	}
	var reps []map[string]any
	for _, name := range roles {
		var rep map[string]any
		if err := r.Admin(ctx, http.MethodGet, "/roles/"+url.PathEscape(name), nil, &rep); err != nil {
			return err
		}
		reps = append(reps, rep)
	}
	return r.Admin(ctx, http.MethodPost, "/clients/"+url.PathEscape(clientUUID)+"/scope-mappings/realm", reps, nil)
}

// OwnRoleMapper takes Keycloak's client scope roles off the client's default scopes and gives the
// client its own realm-role mapper instead, into realm_access.roles in the access token, with the
// extra configuration given (a role prefix, for instance).
func (r *Realm) OwnRoleMapper(ctx context.Context, clientUUID string, config map[string]string) error {
	var scopes []scopeRef
	if err := r.Admin(ctx, http.MethodGet, "/clients/"+url.PathEscape(clientUUID)+"/default-client-scopes", nil, &scopes); err != nil {
		return err
	}
	i := slices.IndexFunc(scopes, func(s scopeRef) bool { return s.Name == "roles" })
	if i < 0 {
		return fmt.Errorf("client scope roles is not a default scope of the client")
	}
	if err := r.Admin(ctx, http.MethodDelete, "/clients/"+url.PathEscape(clientUUID)+"/default-client-scopes/"+scopes[i].ID, nil, nil); err != nil {
		return err
	}
	cfg := map[string]string{"claim.name": model.ClaimRealmRoles, "jsonType.label": "String", "multivalued": "true", "access.token.claim": "true"}
	maps.Copy(cfg, config)
	return r.Admin(ctx, http.MethodPost, "/clients/"+url.PathEscape(clientUUID)+"/protocol-mappers/models", map[string]any{
		"name": "realm roles", "protocol": "openid-connect", "protocolMapper": model.ProtocolMapperRealmRoles, "config": cfg,
	}, nil)
}
