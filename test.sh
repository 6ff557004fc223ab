#!/usr/bin/env bash
# The whole check: install (with the test extras), lock up to date with pyproject.toml, ruff, then the test suite on SQLite
# and on the PostgreSQL at 127.0.0.1:5432 (database test).
#   ./test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh --test --browser     # also brings python3-venv and the pinned uv on a fresh machine
echo "== uv.lock matches pyproject.toml =="
if ! bash scripts/uv.sh lock --check; then
  echo "uv.lock is out of date with pyproject.toml: run scripts/lock.sh and commit uv.lock" >&2
  exit 1
fi
echo "== ruff =="
.venv/bin/ruff check --quiet .
PG_URL="${ZX_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"
echo "== pytest on SQLite =="
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
echo "== pytest on PostgreSQL ($PG_URL) =="
ZX_TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
