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

  echo "==> generated API client matches the web server"
  # The frontend builds only against src/client/, generated from the web server's OpenAPI: regenerate it
  # and fail when it differs from what is committed (a route or model changed without the client).
  (cd frontend && npm run --silent generate-client >/dev/null)
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
    [ -n "$(git status --porcelain -- frontend/src/client frontend/openapi.json)" ]; then
    git status --short -- frontend/src/client frontend/openapi.json
    git --no-pager diff --stat -- frontend/src/client frontend/openapi.json
    echo "The generated API client is stale: run 'cd frontend && npm run generate-client'" \
      "and commit frontend/openapi.json and frontend/src/client/." >&2
    exit 1
  fi
fi

echo "==> pytest"
.venv/bin/pytest -p no:cacheprovider "$@"
