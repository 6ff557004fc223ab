#!/usr/bin/env bash
# Copy front-end libraries from node_modules (installed from the npm registry) to app/static/vendor.
set -euo pipefail
cd "$(dirname "$0")/.."
# pipefail keeps npm's exit status; grep only hides npm's notes about this machine's user config
npm ci --no-audit --no-fund --loglevel=error 2>&1 | { grep -v 'Unknown user config' || true; }
V=app/static/vendor
rm -rf "$V" && mkdir -p "$V/bootstrap" "$V/htmx" "$V/bpmn-js" "$V/form-js"
cp node_modules/bootstrap/dist/css/bootstrap.min.css "$V/bootstrap/"
cp node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$V/bootstrap/"
cp node_modules/htmx.org/dist/htmx.min.js "$V/htmx/"
# Apache ECharts for the dashboards: the full build (both built-in locales, ZH and EN)
mkdir -p "$V/echarts" && cp node_modules/echarts/dist/echarts.min.js "$V/echarts/"
cp node_modules/bpmn-js/dist/bpmn-viewer.production.min.js "$V/bpmn-js/"
cp node_modules/bpmn-js/dist/assets/diagram-js.css "$V/bpmn-js/"
cp node_modules/bpmn-js/dist/assets/bpmn-js.css "$V/bpmn-js/"
cp -r node_modules/bpmn-js/dist/assets/bpmn-font "$V/bpmn-js/"
# form-js viewer: ES modules only on the registry, bundled here into one file (global FormViewer)
node_modules/.bin/esbuild scripts/vendor/form-viewer.entry.js --bundle --minify --format=iife \
  --global-name=FormViewer --log-level=warning --outfile="$V/form-js/form-viewer.min.js"
# the administrators' modeler: bpmn-js Modeler + properties panel + bpmn-auto-layout + the spiffworkflow moddle,
# one bundle (global ZxModeler) so the panel and the modeler share one bpmn-js
node_modules/.bin/esbuild scripts/vendor/modeler.entry.js --bundle --minify --format=iife \
  --global-name=ZxModeler --log-level=warning --outfile="$V/bpmn-js/modeler.min.js"
cp node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css "$V/bpmn-js/"
# the form-js editor (its own form-js-viewer 1.x inside): one bundle, global FormEditorJs, and its stylesheets
E=node_modules/@bpmn-io/form-js-editor
mkdir -p "$V/form-js-editor"
node_modules/.bin/esbuild scripts/vendor/form-editor.entry.js --bundle --minify --format=iife \
  --global-name=FormEditorJs --log-level=warning --outfile="$V/form-js-editor/form-editor.min.js"
cp "$E/node_modules/@bpmn-io/form-js-viewer/dist/assets/form-js.css" "$E/dist/assets/form-js-editor.css" \
   "$E/dist/assets/properties-panel.css" "$E/dist/assets/draggle.css" "$V/form-js-editor/"
cp node_modules/@bpmn-io/form-js-viewer/dist/assets/form-js.css "$V/form-js/"
cp node_modules/@bpmn-io/form-js-viewer/dist/assets/flatpickr/light.css "$V/form-js/flatpickr-light.css"
echo "vendor libraries copied to $V"
