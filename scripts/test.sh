#!/usr/bin/env bash
# One command to run every test: lint, frontend unit tests, and pytest (web on SQLite + PostgreSQL,
# AI models on real data, both servers over real HTTP, browser end-to-end in Debian's Chromium).
# Extra arguments go to pytest, e.g. scripts/test.sh tests/web -x
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev

echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

if [ -f frontend/package.json ]; then
  echo "==> frontend unit tests"
  (cd frontend && npm test --silent)
fi

echo "==> pytest"
.venv/bin/pytest -p no:cacheprovider "$@"
