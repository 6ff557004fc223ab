// Bundled by scripts/vendor.sh (esbuild) into app/static/vendor/form-js/form-viewer.min.js, exposed as the
// global `FormViewer`: @bpmn-io/form-js-viewer ships only ES modules with bare imports, which a browser
// cannot load without a bundler (and the CSP allows no CDN).
import flatpickr from 'flatpickr';
import { Mandarin } from 'flatpickr/dist/esm/l10n/zh.js';

export { Form } from '@bpmn-io/form-js-viewer';

// The viewer's date picker is flatpickr (the same module instance, bundled once): its month and weekday
// names follow the page's language.  Call before the form is drawn.
export function setLanguage(lang) {
  flatpickr.localize(String(lang || '').toLowerCase().indexOf('zh') === 0 ? Mandarin : flatpickr.l10ns.default);
}
