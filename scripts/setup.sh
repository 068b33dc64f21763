#!/usr/bin/env bash
# Idempotent setup: Python virtualenv with the project installed, and the built frontend.
#   scripts/setup.sh          runtime only (web + AI servers)
#   scripts/setup.sh --dev    also test tools, the `fer` comparison package and Chromium for browser tests
# Re-running is cheap: each step is skipped while its inputs are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1
python=${PYTHON:-python3}
extras=web,ai
[ $dev = 1 ] && extras=dev

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$extras"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing Python packages [$extras] (first run takes a few minutes)"
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e ".[$extras]"
  if [ $dev = 1 ]; then
    # The fer package is only a benchmark/comparison baseline; its own pins would downgrade TensorFlow.
    .venv/bin/pip install --quiet --no-deps "fer==22.5.1"
  fi
  touch "$stamp"
fi

if [ $dev = 1 ] && [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Chromium from Debian (browser tests)"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

if [ $dev = 1 ] && [ ! -x /usr/sbin/nginx ]; then
  echo "==> installing nginx from Debian (the replica test puts it in front of two web processes)"
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nginx-light >/dev/null
fi

if [ -f frontend/package.json ]; then
  fstamp=frontend/dist/.built
  newest=$(find frontend/src frontend/index.html frontend/package-lock.json frontend/vite.config.* \
    -newer "$fstamp" -print -quit 2>/dev/null || true)
  if [ ! -f "$fstamp" ] || [ -n "$newest" ] || [ ! -d frontend/node_modules ]; then
    echo "==> building the frontend"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
    touch "$fstamp"
  fi
fi
