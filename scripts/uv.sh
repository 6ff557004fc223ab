#!/usr/bin/env bash
# Run the pinned uv (from PyPI) for this project: scripts/uv.sh ARGS...
# uv lives in its own small virtualenv (.tools/), not in .venv, so that `uv sync` can keep .venv
# exactly as uv.lock says (it removes whatever the lock does not list).
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
if [ "$(.tools/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  [ -x .tools/bin/python ] || python3 -m venv .tools
  # pipefail keeps pip's exit status; grep only hides pip's notes about this machine's extra indexes
  .tools/bin/pip install -q --disable-pip-version-check "uv==$UV_VERSION" 2>&1 \
    | { grep -v '^WARNING: Location' || true; }
fi
export UV_PYTHON_DOWNLOADS=never     # use this machine's python3 (>= 3.11), never fetch an interpreter
exec .tools/bin/uv "$@"
