#!/usr/bin/env bash
# Schemathesis (property-based API testing) against one OpenAPI document of this service.
#
#   scripts/schemathesis.sh SCHEMA BASE_URL TOKEN [more schemathesis run options]
#
# SCHEMA is a file or URL (e.g. http://localhost:3000/openapi.json), TOKEN the bearer sent with every request
# (an installation key or an ops token). Installs schemathesis into .cache/venv on first use (PyPI). Fails
# (exit != 0) on any 5xx, any response that does not match its declared schema, status or content type.
# SCHEMATHESIS_EXAMPLES bounds the cases per operation (default 25), SCHEMATHESIS_SEED makes a run repeatable,
# SCHEMATHESIS_WORKERS runs that many operations at once (default 1: with 2, schemathesis 4.32.5 sometimes
# fails on its own, a KeyError while reading examples). Generated strings include NUL bytes (PostgreSQL refuses
# them); lone surrogates, charsets and encodings are not schemathesis's: the test sends those itself.
# tests/integration/openapi-property.test.ts runs it in `npm test` for every route (see docs/bad-input.md).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=4.32.5
VENV=.cache/venv
if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi
[ $# -ge 3 ] || { echo "usage: $0 SCHEMA BASE_URL TOKEN [options]" >&2; exit 2; }
schema=$1 url=$2 token=$3
shift 3
exec "$VENV/bin/schemathesis" --no-color run "$schema" \
  --url "$url" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-25}" \
  --seed "${SCHEMATHESIS_SEED:-20261123}" \
  --generation-database none \
  --generation-allow-x00 true \
  --suppress-health-check all \
  --request-timeout 20 \
  --workers "${SCHEMATHESIS_WORKERS:-1}" \
  "$@"
