#!/usr/bin/env bash
# Set up a development/demo install in ./.venv and build the frontend into the
# package's static folder. Idempotent: re-running only does what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.visavis-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "== installing Python packages"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[test]'
  touch "$stamp"
fi
if [ -f frontend/package.json ]; then
  if ! command -v npm >/dev/null; then
    echo "npm is needed to build the frontend (apt-get install nodejs npm)" >&2
    exit 1
  fi
  if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules ]; then
    echo "== installing frontend packages"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  fi
  echo "== building frontend"
  (cd frontend && npm run --silent build)
fi
