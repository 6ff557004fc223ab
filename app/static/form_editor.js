// The administrators' form-js editor (templates/admin/form_editor.html, vendor/form-js-editor/form-editor.min.js,
// global FormEditorJs): loads a deployed form's schema, or an empty form (new form: no data-schema, the form id
// typed in #form-editor-form-id); "部署" posts the edited schema (JSON text) with the CSRF token and shows the
// new version or the refusal (file · element · reason).  `window.zxFormEditor` is the editor (test hook).
(function () {
  'use strict';
  var host = document.getElementById('form-editor');
  var button = document.getElementById('form-editor-deploy');
  if (!host || !button || !window.FormEditorJs || !window.zxEditorPage) { return; }
  var page = window.zxEditorPage.page(host);
  var formId = document.getElementById('form-editor-form-id');    // a new form only
  var EMPTY = { type: 'default', components: [], schemaVersion: 16 };

  var editor = new window.FormEditorJs.FormEditor({ container: host });
  window.zxFormEditor = editor;

  // The editor (form-js 1.x) has no translation service for its palette and properties panel: its English texts
  // are replaced in the page's language (data-translations: English → text, from the server's catalog) as
  // they are drawn.  Only the editor's own texts: the form being edited (canvas, a field's label in the panel's
  // header, CodeMirror inputs) is the administrator's content and stays as written.
  var dictionary = JSON.parse(host.getAttribute('data-translations') || '{}');
  var has = Object.prototype.hasOwnProperty;
  var SCOPE = '.fjs-palette, .fjs-properties-panel, .fjs-editor-properties-container';
  var CONTENT = '.cm-editor, .bio-properties-panel-header-label, .fjs-form, textarea, input, select';
  function translateNode(node) {
    if (node.nodeType === 3) {
      var parent = node.parentElement;
      var text = node.data.trim();
      if (text && has.call(dictionary, text) && dictionary[text] !== text && parent &&
          parent.closest(SCOPE) && !parent.closest(CONTENT)) {
        node.data = node.data.replace(text, dictionary[text]);
      }
      return;
    }
    if (node.nodeType !== 1 || !node.closest(SCOPE) && !node.querySelector(SCOPE)) { return; }
    ['placeholder', 'title', 'aria-label'].forEach(function (name) {
      var value = node.getAttribute(name);
      if (value && has.call(dictionary, value) && dictionary[value] !== value) {
        node.setAttribute(name, dictionary[value]);
      }
    });
    for (var child = node.firstChild; child; child = child.nextSibling) { translateNode(child); }
  }
  if (Object.keys(dictionary).length) {
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        if (r.type === 'characterData' || r.type === 'attributes') { translateNode(r.target); }
        else { r.addedNodes.forEach(translateNode); }
      });
    }).observe(host, { subtree: true, childList: true, characterData: true, attributes: true,
                       attributeFilter: ['placeholder', 'title', 'aria-label'] });
    translateNode(host);
  }

  var originalSchema = null;
  // nothing edited: deploy the version's own schema, so that an older version deployed unchanged becomes
  // current again (rollback) and the current one unchanged makes no new version
  function schemaToDeploy() {
    if (originalSchema !== null && !editor.get('commandStack').canUndo()) { return originalSchema; }
    return JSON.stringify(editor.saveSchema());
  }

  var loaded = !host.getAttribute('data-schema') ? Promise.resolve(null) :
    fetch(host.getAttribute('data-schema'), { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.text();
    });
  loaded
    .then(function (text) {
      originalSchema = text;
      return editor.importSchema(text === null ? EMPTY : JSON.parse(text));
    })
    .then(function () {
      button.disabled = false;
      host.setAttribute('data-rendered', 'true');
    })
    .catch(page.loadFailed);

  button.addEventListener('click', function () {
    button.disabled = true;
    page.deploying();
    // an edited form says which version was current when this page opened (409 if another deploy came since)
    var extra = formId ? { form_id: formId.value } : { seen_current: host.getAttribute('data-current') || '' };
    page.deploy('schema', schemaToDeploy(), extra).then(function (result) {
      page.report(result);
      if (result.ok && !formId && result.artifact_id) host.setAttribute('data-current', result.artifact_id);
      if (result.ok && result.edit_url) {
        var link = document.createElement('a');
        link.href = result.edit_url;
        link.className = 'ms-2';
        link.textContent = page.texts.edit || '';
        page.status.appendChild(link);
      }
      host.setAttribute('data-deployed', result.ok ? 'ok' : 'refused');
    }).catch(page.failed).then(function () { button.disabled = false; });
  });
})();
