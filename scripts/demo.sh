#!/usr/bin/env bash
# Set everything up and start the demo: server on http://127.0.0.1:8000, the demo
# shop page with the widget, the adviser console, and a seeded adviser login.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/visavis demo "$@"
