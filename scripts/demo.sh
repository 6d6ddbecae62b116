#!/usr/bin/env bash
# demo.sh — the README's first command: a local Keycloak with realm codemie-prod, and roster
# planning, applying and re-planning examples/codemie-prod.yaml against it.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/keycloak.sh up)"

token=$(curl -fsS --data-urlencode "username=$KEYCLOAK_ADMIN_USER" --data-urlencode "password=$KEYCLOAK_ADMIN_PASSWORD" \
	-d grant_type=password -d client_id=admin-cli "$KEYCLOAK_URL/realms/master/protocol/openid-connect/token" |
	sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
admin() { curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }

if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$KEYCLOAK_URL/admin/realms/codemie-prod")" = 404 ]; then
	admin -d '{"realm":"codemie-prod","enabled":true}' "$KEYCLOAK_URL/admin/realms"
	echo "demo: created realm codemie-prod" >&2
fi

# roster logs in as the local administrator; the example's initial password and the Entra ID
# client secret (the example's tenant is a placeholder: nobody can sign in through it) come from here.
export KEYCLOAK_USER=$KEYCLOAK_ADMIN_USER KEYCLOAK_PASSWORD=$KEYCLOAK_ADMIN_PASSWORD
export CAROL_INITIAL_PASSWORD=Demo-Only-Pa55 ENTRA_CLIENT_SECRET=Demo-Only-Entra-Secret

step() { printf '\n\033[1m$ %s\033[0m\n' "$*" >&2; "$@"; }
step bin/roster plan examples/codemie-prod.yaml
step bin/roster apply --auto-approve examples/codemie-prod.yaml
step bin/roster plan examples/codemie-prod.yaml

cat >&2 <<MSG

demo: Keycloak runs at $KEYCLOAK_URL (admin console: $KEYCLOAK_URL/admin, user $KEYCLOAK_ADMIN_USER,
demo: password $KEYCLOAK_ADMIN_PASSWORD). Edit examples/codemie-prod.yaml and run make demo again
demo: to see the plan change; stop the server with: make keycloak-down
MSG
