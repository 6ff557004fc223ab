#!/usr/bin/env bash
# Install everything zengxin needs on a fresh Debian machine (idempotent).
#   scripts/install.sh           python env, front-end libraries, translations
#   scripts/install.sh --browser also Debian's Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."
want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
}

command -v python3 >/dev/null || apt_install python3 python3-venv
# Debian ships venv/ensurepip separately from python3
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
command -v npm >/dev/null || apt_install nodejs npm
[ $want_browser -eq 1 ] && apt_install chromium fonts-wqy-microhei   # CJK glyphs for screenshots

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=.venv/.zx-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v WARNING || true
  .venv/bin/pip install -q -e '.[test]' 2>&1 | grep -v WARNING || true
  touch "$stamp"
fi
if [ ! -f app/static/vendor/bpmn-js/bpmn-viewer.production.min.js ] || [ ! -f app/static/vendor/form-js/form-viewer.min.js ] || [ package.json -nt app/static/vendor ]; then
  bash scripts/vendor.sh
fi
if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then
  .venv/bin/pybabel -q compile -d translations
fi
echo "zengxin installed"
