// The administrators' form-js editor (templates/admin/form_editor.html, vendor/form-js-editor/form-editor.min.js,
// global FormEditorJs): loads a deployed form's schema; "部署" posts the edited schema (JSON text) with the CSRF
// token and shows the new version or the refusal (file · element · reason).  `window.zxFormEditor` is the
// editor (test hook).
(function () {
  'use strict';
  var host = document.getElementById('form-editor');
  var button = document.getElementById('form-editor-deploy');
  var status = document.getElementById('modeler-status');
  var refusals = document.getElementById('modeler-refusals');
  if (!host || !button || !window.FormEditorJs) { return; }
  var texts = JSON.parse(host.getAttribute('data-texts') || '{}');
  function fill(text, values) {
    return String(text || '').replace(/{([^}]+)}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }
  function show(kind, message) {
    status.className = 'alert alert-' + kind;
    status.textContent = message;
  }
  function showRefusals(rows) {
    var body = refusals.querySelector('tbody');
    body.replaceChildren();
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.className = 'refusal';
      [r.file, r.element || '—', r.reason].forEach(function (text) {
        var td = document.createElement('td');
        td.textContent = text;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    refusals.classList.toggle('d-none', rows.length === 0);
  }

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
    .catch(function (err) {
      var message = String((err && err.message) || err);
      host.setAttribute('data-error', message);
      show('danger', fill(texts.loadFailed, { error: message }));
    });

  button.addEventListener('click', function () {
    button.disabled = true;
    show('info', texts.deploying || '');
    showRefusals([]);
    host.removeAttribute('data-deployed');
    var body = new URLSearchParams();
    body.set('csrf_token', host.getAttribute('data-csrf'));
    body.set('schema', schemaToDeploy());
    fetch(host.getAttribute('data-deploy'), {
      method: 'POST', credentials: 'same-origin', body: body,
      headers: { 'Accept': 'application/json', 'X-CSRFToken': host.getAttribute('data-csrf') }
    }).then(function (r) { return r.json(); }).then(function (result) {
      show(result.ok ? 'success' : 'danger', result.message);
      showRefusals(result.refusals || []);
      host.setAttribute('data-deployed', result.ok ? 'ok' : 'refused');
    }).catch(function (err) {
      show('danger', fill(texts.failed, { error: String((err && err.message) || err) }));
      host.setAttribute('data-deployed', 'error');
    }).then(function () { button.disabled = false; });
  });
})();
