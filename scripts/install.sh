#!/usr/bin/env bash
# Install everything zengxin needs on a fresh Debian machine (idempotent; fails when any step fails).
#   scripts/install.sh                  the application: .venv exactly as uv.lock says (no test tools),
#                                       front-end libraries, translations            (what ./run.sh does)
#   scripts/install.sh --test           also the `test` extras (pytest, Playwright, ruff, pyinstrument)
#   scripts/install.sh --test --browser also Debian's Chromium for the browser test  (what ./test.sh does)
set -euo pipefail
cd "$(dirname "$0")/.."
want_browser=0
extras=()
for arg in "$@"; do
  case "$arg" in
    --test) extras=(--extra test) ;;
    --browser) want_browser=1 ;;
    *) echo "usage: scripts/install.sh [--test] [--browser]" >&2; exit 2 ;;
  esac
done

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
# WeasyPrint (the PDF reports) needs Pango; a CJK font renders the Chinese in them
apt_install libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei
if [ $want_browser -eq 1 ]; then apt_install chromium fonts-wqy-microhei; fi   # CJK glyphs for screenshots

# Python packages: exactly the versions in uv.lock (regenerate it with scripts/lock.sh), the app
# itself editable. --frozen installs the lock as it is; ./test.sh checks that it matches pyproject.toml.
bash scripts/uv.sh sync --frozen --quiet "${extras[@]}"
if [ ! -f app/static/vendor/bpmn-js/bpmn-viewer.production.min.js ] || [ ! -f app/static/vendor/form-js/form-viewer.min.js ] || [ ! -f app/static/vendor/bpmn-js/modeler.min.js ] || [ ! -f app/static/vendor/form-js-editor/form-editor.min.js ] || [ ! -f app/static/vendor/echarts/echarts.min.js ] || [ package.json -nt app/static/vendor ] \
   || [ package-lock.json -nt app/static/vendor ]; then
  bash scripts/vendor.sh
fi
if ls translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then
  .venv/bin/pybabel -q compile -d translations
fi
echo "zengxin installed"
