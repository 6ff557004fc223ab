// Bundled by scripts/vendor.sh (esbuild) into app/static/vendor/form-js/form-viewer.min.js, exposed as the
// global `FormViewer`: @bpmn-io/form-js-viewer ships only ES modules with bare imports, which a browser
// cannot load without a bundler (and the CSP allows no CDN).
export { Form } from '@bpmn-io/form-js-viewer';
