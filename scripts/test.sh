#!/usr/bin/env bash
# Run every check: lint, format, types (Python and TypeScript), frontend units, and
# the whole pytest suite
# (unit, integration over a real server on SQLite and PostgreSQL, and real Chromium).
# Extra arguments go to pytest (e.g. scripts/test.sh -k resume).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
if [ -z "${VISAVIS_TEST_PG_URL:-}" ] && ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  VISAVIS_TEST_PG_URL=$(bash scripts/pg.sh)
  export VISAVIS_TEST_PG_URL
fi
echo "== ruff"
paths=(src tests scripts)
[ -d bench ] && paths+=(bench)
ruff check "${paths[@]}"
ruff format --check "${paths[@]}"
echo "== mypy"
mypy
echo "== import contracts"
lint-imports --no-cache
if [ -f frontend/package.json ]; then
  echo "== tsc, eslint, prettier, vitest"
  (cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent test)
fi
echo "== pytest"
# In parallel (pytest-xdist): most of a test's time is waiting for servers, not CPU.
# Browser tests stay one group (one Chromium at a time, tests/conftest.py).
# VISAVIS_TEST_WORKERS=0 runs everything in this one process, one test after another.
workers=${VISAVIS_TEST_WORKERS:-3}
parallel=()
[ "$workers" != 0 ] && parallel=(-n "$workers" --dist loadgroup)
exec pytest -q -p no:cacheprovider "${parallel[@]}" "$@"
