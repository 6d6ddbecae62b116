package keycloak

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/rosterhq/roster/internal/model"
)

// protocolMapperRep is Keycloak's ProtocolMapperRepresentation.
type protocolMapperRep struct {
	ID             string            `json:"id,omitempty"`
	Name           string            `json:"name"`
	Protocol       string            `json:"protocol"`
	ProtocolMapper string            `json:"protocolMapper"`
	Config         map[string]string `json:"config"`
}

func (r protocolMapperRep) model() model.LiveTokenMapper {
	cfg := r.Config
	if cfg == nil {
		cfg = map[string]string{}
	}
	m := model.LiveTokenMapper{ID: r.ID, Name: r.Name, ProtocolMapper: r.ProtocolMapper}
	m.SetConfig(cfg)
	return m
}

// ReadClientScope reads the client scope with the given name and its protocol mappers; it returns
// nil, nil when the realm has no such scope. One request: the listing of the realm's client scopes
// carries their mappers.
func (c *Client) ReadClientScope(ctx context.Context, name string) (*model.LiveClientScope, error) {
	scopes, err := c.ReadClientScopes(ctx)
	if err != nil {
		return nil, err
	}
	if i := slices.IndexFunc(scopes, func(s model.LiveClientScope) bool { return s.Name == name }); i >= 0 {
		return &scopes[i], nil
	}
	return nil, nil
}

// ReadClientScopes reads every client scope of the realm with its protocol mappers, each list
// sorted by name, in one request.
func (c *Client) ReadClientScopes(ctx context.Context) ([]model.LiveClientScope, error) {
	var reps []struct {
		ID              string              `json:"id"`
		Name            string              `json:"name"`
		ProtocolMappers []protocolMapperRep `json:"protocolMappers"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/client-scopes", nil, &reps); err != nil {
		return nil, err
	}
	scopes := make([]model.LiveClientScope, 0, len(reps))
	for _, r := range reps {
		s := model.LiveClientScope{ID: r.ID, Name: r.Name}
		for _, m := range r.ProtocolMappers {
			s.Mappers = append(s.Mappers, m.model())
		}
		slices.SortFunc(s.Mappers, func(a, b model.LiveTokenMapper) int { return strings.Compare(a.Name, b.Name) })
		scopes = append(scopes, s)
	}
	slices.SortFunc(scopes, func(a, b model.LiveClientScope) int { return strings.Compare(a.Name, b.Name) })
	return scopes, nil
}

// identityProviderRep is the part of Keycloak's IdentityProviderRepresentation roster reads.
type identityProviderRep struct {
	InternalID  string            `json:"internalId,omitempty"`
	Alias       string            `json:"alias"`
	DisplayName string            `json:"displayName"`
	ProviderID  string            `json:"providerId"`
	Enabled     bool              `json:"enabled"`
	Config      map[string]string `json:"config"`
}

// identityProviderMapperRep is Keycloak's IdentityProviderMapperRepresentation.
type identityProviderMapperRep struct {
	ID     string            `json:"id,omitempty"`
	Name   string            `json:"name"`
	Alias  string            `json:"identityProviderAlias"`
	Type   string            `json:"identityProviderMapper"`
	Config map[string]string `json:"config"`
}

// idpPageSize is the page size of the identity-provider listing.
const idpPageSize = 100

// ReadIdentityProviders reads every identity provider of the realm with its mappers, sorted by
// alias: one listing plus one request per provider.
func (c *Client) ReadIdentityProviders(ctx context.Context) ([]model.LiveIdentityProvider, error) {
	reps, err := pages(ctx, c, "/identity-provider/instances", url.Values{"briefRepresentation": {"false"}}, idpPageSize,
		func(r identityProviderRep) string { return r.Alias }, uncounted)
	if err != nil {
		return nil, err
	}
	idps := make([]model.LiveIdentityProvider, 0, len(reps))
	for _, r := range reps {
		cfg := r.Config
		if cfg == nil {
			cfg = map[string]string{}
		}
		p := model.LiveIdentityProvider{
			InternalID: r.InternalID, Alias: r.Alias, DisplayName: r.DisplayName, Enabled: r.Enabled, ProviderID: r.ProviderID,
		}
		p.SetConfig(cfg)
		var mappers []identityProviderMapperRep
		if _, err := c.do(ctx, http.MethodGet, idpPath(r.Alias)+"/mappers", nil, &mappers); err != nil {
			return nil, err
		}
		for _, m := range mappers {
			mc := m.Config
			if mc == nil {
				mc = map[string]string{}
			}
			lm := model.LiveIdentityProviderMapper{ID: m.ID, Name: m.Name, Type: m.Type}
			lm.SetConfig(mc)
			p.Mappers = append(p.Mappers, lm)
		}
		slices.SortFunc(p.Mappers, func(a, b model.LiveIdentityProviderMapper) int { return strings.Compare(a.Name, b.Name) })
		idps = append(idps, p)
	}
	slices.SortFunc(idps, func(a, b model.LiveIdentityProvider) int { return strings.Compare(a.Alias, b.Alias) })
	return idps, nil
}

// idpPath is the escaped path of the identity provider with the given alias.
func idpPath(alias string) string {
	return "/identity-provider/instances/" + url.PathEscape(alias)
}

// mapperRep is the ProtocolMapperRepresentation roster sends for m.
func mapperRep(m model.LiveTokenMapper) protocolMapperRep {
	return protocolMapperRep{ID: m.ID, Name: m.Name, Protocol: "openid-connect", ProtocolMapper: m.ProtocolMapper, Config: m.Config}
}

// CreateTokenMapper adds the protocol mapper m to the client scope with the given id. A mapper
// of that name that exists already (409) is an error: roster would have corrected it had the
// plan seen it.
func (c *Client) CreateTokenMapper(ctx context.Context, scopeID string, m model.LiveTokenMapper) error {
	_, err := c.do(ctx, http.MethodPost, "/client-scopes/"+url.PathEscape(scopeID)+"/protocol-mappers/models", mapperRep(m), nil)
	return err
}

// UpdateTokenMapper replaces the protocol mapper m.ID of the client scope with m. Keycloak's
// update replaces the whole mapper, so m carries every configuration key to keep.
func (c *Client) UpdateTokenMapper(ctx context.Context, scopeID string, m model.LiveTokenMapper) error {
	path := "/client-scopes/" + url.PathEscape(scopeID) + "/protocol-mappers/models/" + url.PathEscape(m.ID)
	_, err := c.do(ctx, http.MethodPut, path, mapperRep(m), nil)
	return err
}

// CreateIdentityProvider creates the identity provider p, with the client secret when it is not
// empty.
func (c *Client) CreateIdentityProvider(ctx context.Context, p model.LiveIdentityProvider, secret model.Secret) error {
	cfg := maps.Clone(p.Config)
	if secret != "" {
		cfg["clientSecret"] = string(secret)
	}
	rep := identityProviderRep{Alias: p.Alias, DisplayName: p.DisplayName, ProviderID: p.ProviderID, Enabled: p.Enabled, Config: cfg}
	_, err := c.do(ctx, http.MethodPost, "/identity-provider/instances", rep, nil)
	return err
}

// UpdateIdentityProvider changes what u lists on the identity provider. Keycloak's update
// replaces the whole provider, so it reads the provider fresh, changes only those fields and
// sends everything back. The client secret reads back masked; sent back masked, Keycloak keeps
// the stored one, so only a rotation sends a real secret.
func (c *Client) UpdateIdentityProvider(ctx context.Context, alias string, u model.IdentityProviderUpdate) error {
	path := idpPath(alias)
	var rep map[string]json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, path, nil, &rep); err != nil {
		return err
	}
	var cfg map[string]string
	if raw, ok := rep["config"]; ok {
		if err := json.Unmarshal(raw, &cfg); err != nil {
			return fmt.Errorf("GET %s: config: %w", path, err)
		}
	}
	if cfg == nil {
		cfg = map[string]string{}
	}
	maps.Copy(cfg, u.Config)
	if u.ClientSecret != nil {
		cfg["clientSecret"] = string(*u.ClientSecret)
	}
	rep["config"] = mustJSON(cfg)
	if u.DisplayName != nil {
		rep["displayName"] = mustJSON(*u.DisplayName)
	}
	if u.Enabled != nil {
		rep["enabled"] = mustJSON(*u.Enabled)
	}
	_, err := c.do(ctx, http.MethodPut, path, rep, nil)
	return err
}

func idpMapperRep(alias string, m model.LiveIdentityProviderMapper) identityProviderMapperRep {
	return identityProviderMapperRep{ID: m.ID, Name: m.Name, Alias: alias, Type: m.Type, Config: m.Config}
}

// CreateIdentityProviderMapper adds the mapper m to the identity provider with the alias.
func (c *Client) CreateIdentityProviderMapper(ctx context.Context, alias string, m model.LiveIdentityProviderMapper) error {
	_, err := c.do(ctx, http.MethodPost, idpPath(alias)+"/mappers", idpMapperRep(alias, m), nil)
	return err
}

// UpdateIdentityProviderMapper replaces the mapper m.ID of the identity provider with m, which
// carries every configuration key to keep.
func (c *Client) UpdateIdentityProviderMapper(ctx context.Context, alias string, m model.LiveIdentityProviderMapper) error {
	_, err := c.do(ctx, http.MethodPut, idpPath(alias)+"/mappers/"+url.PathEscape(m.ID), idpMapperRep(alias, m), nil)
	return err
}

// mappedRep is the part of a client or client scope representation that holds its mappers.
type mappedRep struct {
	ID              string              `json:"id"`
	ClientID        string              `json:"clientId"` // clients only
	Name            string              `json:"name"`     // client scopes only
	ProtocolMappers []protocolMapperRep `json:"protocolMappers"`
	// FullScopeAllowed is the client's Full scope allowed (clients only; absent means on).
	FullScopeAllowed *bool `json:"fullScopeAllowed"`
}

// ReadCodeMieClient reads CodeMie's client (Config.CodeMie.ClientID) with the protocol mappers
// that reach it: its own and those of its default client scopes, and, when its Full scope
// allowed is off, the realm roles its scope lets into its tokens. Three requests, four for a
// client with Full scope allowed off. It answers nil and no reason when the realm has no such
// client, and nil with the reason when roster may not read clients (view-clients): the plan then
// says it cannot check what CodeMie receives.
func (c *Client) ReadCodeMieClient(ctx context.Context) (*model.LiveCodeMieClient, string, error) {
	clientID := c.cfg.CodeMie.ClientID
	if clientID == "" {
		clientID = model.DefaultClientID
	}
	var clients []mappedRep
	_, err := c.do(ctx, http.MethodGet, "/clients?"+url.Values{"clientId": {clientID}}.Encode(), nil, &clients)
	if statusOf(err) == http.StatusForbidden {
		return nil, fmt.Sprintf("roster may not read clients (it needs the realm-management role %s)", ViewClients), nil
	}
	if err != nil {
		return nil, "", err
	}
	i := slices.IndexFunc(clients, func(x mappedRep) bool { return x.ClientID == clientID })
	if i < 0 {
		return nil, "", nil
	}
	cl := &model.LiveCodeMieClient{ID: clients[i].ID, ClientID: clientID}
	for _, m := range clients[i].ProtocolMappers {
		cl.Mapping.Mappers = append(cl.Mapping.Mappers, m.model())
	}
	var defaults []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if _, err := c.do(ctx, http.MethodGet, "/clients/"+url.PathEscape(cl.ID)+"/default-client-scopes", nil, &defaults); err != nil {
		return nil, "", err
	}
	var scopes []mappedRep
	if _, err := c.do(ctx, http.MethodGet, "/client-scopes", nil, &scopes); err != nil {
		return nil, "", err
	}
	for _, d := range defaults {
		cl.DefaultScopes = append(cl.DefaultScopes, d.Name)
		for _, s := range scopes {
			if s.ID != d.ID {
				continue
			}
			for _, m := range s.ProtocolMappers {
				lm := m.model()
				lm.Scope = s.Name
				cl.Mapping.Mappers = append(cl.Mapping.Mappers, lm)
			}
		}
	}
	slices.Sort(cl.DefaultScopes)
	if full := clients[i].FullScopeAllowed; full != nil && !*full {
		if cl.Mapping.Scope, err = c.readScope(ctx, cl.ID); err != nil {
			return nil, "", err
		}
		cl.Mapping.Scoped = true
	}
	// A fixed order, so that the fingerprint of a saved plan does not change with Keycloak's.
	slices.SortFunc(cl.Mapping.Mappers, func(a, b model.LiveTokenMapper) int {
		return cmp.Or(strings.Compare(a.Scope, b.Scope), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	return cl, "", nil
}

// readScope returns the names of the realm roles the client with id clientUUID lets into its
// tokens, sorted, as Keycloak evaluates them for a client whose Full scope allowed is off: its
// own scope mappings and its default client scopes', composites expanded.
func (c *Client) readScope(ctx context.Context, clientUUID string) ([]string, error) {
	var roles []struct {
		Name string `json:"name"`
	}
	path := "/clients/" + url.PathEscape(clientUUID) + "/evaluate-scopes/scope-mappings/" + url.PathEscape(c.cfg.Realm) + "/granted"
	if _, err := c.do(ctx, http.MethodGet, path, nil, &roles); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}
