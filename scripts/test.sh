#!/usr/bin/env bash
# Run every check: lint, format, types (Python and TypeScript), frontend units, and
# the whole pytest suite
# (unit, integration over a real server on SQLite and PostgreSQL, and real Chromium).
# Extra arguments go to pytest (e.g. scripts/test.sh -k resume).
set -euo pipefail
cd "$(dirname "$0")/.."
# "== step" lines say how long the step before took: where a slow CI run spent its time
step_started=$SECONDS
step_name=setup
step() {
  echo "== $1 ($step_name took $((SECONDS - step_started)) s)"
  step_started=$SECONDS
  step_name=$1
}
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
if [ -z "${VISAVIS_TEST_PG_URL:-}" ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  VISAVIS_TEST_PG_URL=$(bash scripts/pg.sh)
  export VISAVIS_TEST_PG_URL
fi
step "ruff"
paths=(src tests scripts)
[ -d bench ] && paths+=(bench)
ruff check "${paths[@]}"
ruff format --check "${paths[@]}"
step "mypy"
mypy
step "import contracts"
lint-imports --no-cache
if [ -f frontend/package.json ]; then
  step "tsc, eslint, prettier, vitest"
  (cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent test)
fi
step "pytest"
# In parallel (pytest-xdist): most of a test's time is waiting for servers, not CPU.
# Browser tests stay one group (one Chromium at a time, tests/conftest.py).
# VISAVIS_TEST_WORKERS=0 runs everything in this one process, one test after another.
workers=${VISAVIS_TEST_WORKERS:-3}
parallel=()
[ "$workers" != 0 ] && parallel=(-n "$workers" --dist loadgroup)
exec pytest -q -p no:cacheprovider "${parallel[@]}" "$@"
