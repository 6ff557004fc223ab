// What the administrators' browser modeler (modeler.js) and form editor (form_editor.js) share: the message
// area, the table of refusals (file · element · reason) and the deploy POST with the CSRF token.  Loaded
// before either; `zxEditorPage.page(host)` binds them to the page's #modeler-status / #modeler-refusals.
(function () {
  'use strict';
  function fill(text, values) {
    return String(text || '').replace(/{([^}]+)}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }
  function errorText(err) { return String((err && err.message) || err); }

  function page(host) {
    var status = document.getElementById('modeler-status');
    var refusals = document.getElementById('modeler-refusals');
    var texts = JSON.parse(host.getAttribute('data-texts') || '{}');
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
        [r.file, r.element || '—', r.reason].forEach(function (text, i) {
          var td = document.createElement('td');
          if (i === 1) { var code = document.createElement('code'); code.textContent = text; td.appendChild(code); }
          else { td.textContent = text; }
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      refusals.classList.toggle('d-none', rows.length === 0);
    }
    return {
      status: status, texts: texts,
      loadFailed: function (err) {
        var message = errorText(err);
        host.setAttribute('data-error', message);
        show('danger', fill(texts.loadFailed, { error: message }));
      },
      deploying: function () {
        show('info', texts.deploying || '');
        showRefusals([]);
        host.removeAttribute('data-deployed');
      },
      // POST `field` = `value` (and the `extra` fields) to the page's data-deploy URL; resolves to the
      // server's JSON answer
      deploy: function (field, value, extra) {
        var body = new URLSearchParams();
        body.set('csrf_token', host.getAttribute('data-csrf'));
        body.set(field, value);
        Object.keys(extra || {}).forEach(function (k) { body.set(k, extra[k]); });
        return fetch(host.getAttribute('data-deploy'), {
          method: 'POST', credentials: 'same-origin', body: body,
          headers: { 'Accept': 'application/json', 'X-CSRFToken': host.getAttribute('data-csrf') }
        }).then(function (r) { return r.json(); });
      },
      report: function (result) {
        show(result.ok ? 'success' : 'danger', result.message);
        showRefusals(result.refusals || []);
      },
      failed: function (err) {
        show('danger', fill(texts.failed, { error: errorText(err) }));
        host.setAttribute('data-deployed', 'error');
      }
    };
  }
  window.zxEditorPage = { fill: fill, page: page };
})();
