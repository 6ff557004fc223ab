// Bundled by scripts/vendor.sh (esbuild) into app/static/vendor/form-js-editor/form-editor.min.js, exposed as the
// global `FormEditorJs`: the administrators' editor for deployed .form files (ES modules only on the registry).
export { FormEditor } from '@bpmn-io/form-js-editor';
