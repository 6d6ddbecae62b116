#!/usr/bin/env bash
# demo.sh — the README's first command: a local Keycloak with realm codemie-prod.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/keycloak.sh up)"
token=$(curl -fsS --data-urlencode "username=$KEYCLOAK_ADMIN_USER" --data-urlencode "password=$KEYCLOAK_ADMIN_PASSWORD" \
	-d grant_type=password -d client_id=admin-cli "$KEYCLOAK_URL/realms/master/protocol/openid-connect/token" |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$KEYCLOAK_URL/admin/realms/codemie-prod")
if [ "$status" = 404 ]; then
	curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
		-d '{"realm":"codemie-prod","enabled":true}' "$KEYCLOAK_URL/admin/realms"
	echo "demo: created realm codemie-prod" >&2
fi
cat >&2 <<MSG
demo: Keycloak is running at $KEYCLOAK_URL with realm codemie-prod
demo: admin console: $KEYCLOAK_URL/admin (user $KEYCLOAK_ADMIN_USER, password $KEYCLOAK_ADMIN_PASSWORD)
demo: roster cannot plan or apply yet, so the demo stops here; validate the example with
demo:   bin/roster validate examples/codemie-prod.yaml
demo: stop the server with: make keycloak-down
MSG
