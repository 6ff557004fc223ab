// The administrators' form-js editor (templates/admin/form_editor.html, vendor/form-js-editor/form-editor.min.js,
// global FormEditorJs): loads a deployed form's schema; "部署" posts the edited schema (JSON text) with the CSRF
// token and shows the new version or the refusal (file · element · reason).  `window.zxFormEditor` is the
// editor (test hook).
(function () {
  'use strict';
  var host = document.getElementById('form-editor');
  var button = document.getElementById('form-editor-deploy');
  if (!host || !button || !window.FormEditorJs || !window.zxEditorPage) { return; }
  var page = window.zxEditorPage.page(host);

  var editor = new window.FormEditorJs.FormEditor({ container: host });
  window.zxFormEditor = editor;

  var originalSchema = null;
  // nothing edited: deploy the version's own schema, so that an older version deployed unchanged becomes
  // current again (rollback) and the current one unchanged makes no new version
  function schemaToDeploy() {
    if (originalSchema !== null && !editor.get('commandStack').canUndo()) { return originalSchema; }
    return JSON.stringify(editor.saveSchema());
  }

  fetch(host.getAttribute('data-schema'), { credentials: 'same-origin' })
    .then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.text();
    })
    .then(function (text) {
      originalSchema = text;
      return editor.importSchema(JSON.parse(text));
    })
    .then(function () {
      button.disabled = false;
      host.setAttribute('data-rendered', 'true');
    })
    .catch(page.loadFailed);

  button.addEventListener('click', function () {
    button.disabled = true;
    page.deploying();
    page.deploy('schema', schemaToDeploy()).then(function (result) {
      page.report(result);
      host.setAttribute('data-deployed', result.ok ? 'ok' : 'refused');
    }).catch(page.failed).then(function () { button.disabled = false; });
  });
})();
