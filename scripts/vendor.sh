#!/usr/bin/env bash
# Copy front-end libraries from node_modules (installed from the npm registry) to app/static/vendor.
set -euo pipefail
cd "$(dirname "$0")/.."
# pipefail keeps npm's exit status; grep only hides npm's notes about this machine's user config
npm ci --no-audit --no-fund --loglevel=error 2>&1 | { grep -v 'Unknown user config' || true; }
V=app/static/vendor
rm -rf "$V" && mkdir -p "$V/bootstrap" "$V/htmx" "$V/bpmn-js"
cp node_modules/bootstrap/dist/css/bootstrap.min.css "$V/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$V/bootstrap/"
cp node_modules/htmx.org/dist/htmx.min.js "$V/htmx/"
cp node_modules/bpmn-js/dist/bpmn-viewer.production.min.js "$V/bpmn-js/"
cp node_modules/bpmn-js/dist/assets/diagram-js.css "$V/bpmn-js/"
cp node_modules/bpmn-js/dist/assets/bpmn-js.css "$V/bpmn-js/"
cp -r node_modules/bpmn-js/dist/assets/bpmn-font "$V/bpmn-js/"
echo "vendor libraries copied to $V"
