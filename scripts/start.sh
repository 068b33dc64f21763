#!/usr/bin/env bash
# One command to set up and run FASEL on this machine:
# AI server on 127.0.0.1:8001, web server + frontend on http://127.0.0.1:8000 (SQLite under ./data by default).
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

echo "==> migrating the database and creating the first admin"
.venv/bin/python -m web_server.prestart

host=${FASEL_HOST:-127.0.0.1}
export AI_SERVER_URL=${AI_SERVER_URL:-http://127.0.0.1:${AI_PORT:-8001}}
trap 'trap - EXIT; kill 0' EXIT INT TERM
.venv/bin/uvicorn ai_server.main:app --host 127.0.0.1 --port "${AI_PORT:-8001}" &
# web processes: WEB_WORKERS, default one per core on PostgreSQL (one on SQLite, a single-file database);
# each runs ANALYSIS_WORKERS analysis loops (they share the queue in the database)
db_url=${DATABASE_URL:-$(grep -s '^DATABASE_URL=' .env | cut -d= -f2- || true)}
case "$db_url" in
  postgres*) default_workers=$(nproc) ;;
  *) default_workers=1 ;;
esac
# --no-proxy-headers: X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS (the app checks it)
.venv/bin/uvicorn web_server.main:app --host "$host" --port "${WEB_PORT:-8000}" --no-proxy-headers \
  --workers "${WEB_WORKERS:-$default_workers}" &
echo "==> FASEL is starting: open http://$host:${WEB_PORT:-8000}/ (the AI models take a few seconds to load)"
wait -n
