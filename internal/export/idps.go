package export

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/rosterhq/roster/internal/model"
)

// identityProviders adds the realm's OpenID Connect providers and their hardcoded-role and
// attribute-importer mappers as the files declare them. The client secret cannot be exported
// (Keycloak shows it masked): a comment says to add a reference. Providers of other types and
// other mappers are named in comments and left out.
func (e *Export) identityProviders(root *yaml.Node) {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	var skipped []string
	for _, p := range e.live.IdentityProviders {
		if p.ProviderID != model.ProviderOIDC {
			skipped = append(skipped, "identity provider "+p.Alias+" ("+p.ProviderID+"): roster manages OpenID Connect providers only")
			continue
		}
		seq.Content = append(seq.Content, idpNode(p))
	}
	if len(seq.Content) == 0 && len(skipped) == 0 {
		return
	}
	addKey(root, "identityProviders", seq)
	if len(skipped) > 0 {
		root.Content[len(root.Content)-2].HeadComment = commentLines(append([]string{"Not exported:"}, skipped...))
	}
}

func idpNode(p model.LiveIdentityProvider) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	addKey(n, "alias", str(p.Alias))
	if p.DisplayName != "" {
		addKey(n, "displayName", str(p.DisplayName))
	}
	if !p.Enabled {
		addKey(n, "enabled", boolean(false))
	}
	addKey(n, "clientId", str(p.ClientID))
	n.Content[len(n.Content)-1].LineComment = "# Keycloak does not show the secret: add clientSecret: {env: ROSTER_SECRET_<NAME>} to send it"
	if t := entraTenant(p.Issuer); t != "" && p.Endpoints == model.EntraEndpoints(t) {
		addKey(n, "tenant", str(t))
	} else {
		for _, kv := range p.Endpoints.Config() {
			if kv.Value != "" {
				addKey(n, kv.Key, str(kv.Value))
			}
		}
	}
	if p.DefaultScope != "" {
		addKey(n, "scopes", list(strings.Fields(p.DefaultScope)))
	}
	if p.SyncMode != "" {
		addKey(n, "syncMode", str(p.SyncMode))
	}
	mappers := &yaml.Node{Kind: yaml.SequenceNode}
	var skipped []string
	for _, m := range p.Mappers {
		mn := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		addKey(mn, "name", str(m.Name))
		kind, ok := model.IdPMapperKindOf(m.Type)
		if ok {
			addKey(mn, "type", str(string(kind)))
		}
		switch kind {
		case model.HardcodedRole:
			addKey(mn, "role", str(m.Role))
		case model.AttributeImporter:
			addKey(mn, "claim", str(m.Claim))
			addKey(mn, "attribute", str(m.Attribute))
		default:
			skipped = append(skipped, "mapper "+m.Name+" ("+m.Type+"): roster manages hardcoded-role and attribute-importer mappers only")
			continue
		}
		if m.SyncMode != "" && model.SyncMode(m.SyncMode) != model.SyncInherit {
			addKey(mn, "syncMode", str(m.SyncMode))
		}
		mappers.Content = append(mappers.Content, mn)
	}
	if len(mappers.Content) > 0 || len(skipped) > 0 {
		addKey(n, "mappers", mappers)
		if len(skipped) > 0 {
			n.Content[len(n.Content)-2].HeadComment = commentLines(append([]string{"Not exported:"}, skipped...))
		}
	}
	return n
}

// entraTenant returns the tenant of an Entra ID v2.0 issuer, or "".
func entraTenant(issuer string) string {
	t, ok := strings.CutPrefix(issuer, "https://login.microsoftonline.com/")
	if !ok {
		return ""
	}
	t, ok = strings.CutSuffix(t, "/v2.0")
	if !ok || strings.Contains(t, "/") {
		return ""
	}
	return t
}
