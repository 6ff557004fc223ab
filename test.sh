#!/usr/bin/env bash
# The whole test suite: on SQLite, then on the PostgreSQL at 127.0.0.1:5432 (database test).
#   ./test.sh [pytest args]
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh --browser
PG_URL="${ZX_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}"
echo "== pytest on SQLite =="
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
echo "== pytest on PostgreSQL ($PG_URL) =="
ZX_TEST_DATABASE_URL="$PG_URL" .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
