#!/usr/bin/env bash
# One command on a fresh machine: install, create the database with demo data, start web + worker + beat.
#   ./run.sh            SQLite in instance/, embedded Celery broker (no extra service), http://127.0.0.1:5000
#   PORT=8080 HOST=0.0.0.0 ./run.sh   another port, or listen on every interface
#   DATABASE_URL=postgresql://... CELERY_BROKER_URL=redis://... ./run.sh   to use real services
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh            # the application only (uv.lock without the test extras)
mkdir -p instance
[ -s instance/secret_key ] || .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(48))' > instance/secret_key
export FLASK_APP=app:create_app
.venv/bin/flask zx init-db
.venv/bin/flask zx demo
PORT="${PORT:-5000}"
HOST="${HOST:-127.0.0.1}"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
.venv/bin/celery -A app.jobs.worker worker --loglevel=warning --concurrency=2 &
pids+=($!)
.venv/bin/celery -A app.jobs.worker beat --loglevel=warning -s instance/celerybeat-schedule &
pids+=($!)
echo "zengxin: http://${HOST}:${PORT}  (logins above; stop with Ctrl-C)"
.venv/bin/flask run --host "$HOST" --port "$PORT" &
pids+=($!)
# the first of the three to end, or a signal to this script (Ctrl-C, or a TERM from a service manager),
# stops the others at once: a TERM no longer waits for the web server to exit by itself
wait -n
