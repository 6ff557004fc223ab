// A task's form-js form (templates/tasks/formjs.html): @bpmn-io/form-js-viewer replaces the plain fields the
// server drew, in the page's language; on submit the viewer's values are posted as the same form-encoded
// fields (key=value, a key repeated per chosen value, checkbox "true"), which the server validates again.
(function () {
  'use strict';
  var host = document.getElementById('formjs-viewer');
  var htmlForm = document.getElementById('formjs-form');
  var fallback = document.getElementById('formjs-fallback');
  if (!host || !htmlForm || !fallback || !window.FormViewer) { return; }

  function read(name) { return JSON.parse(host.getAttribute('data-' + name) || '{}'); }
  var has = Object.prototype.hasOwnProperty;
  var texts = read('texts');
  var serverErrors = read('errors');

  function translate(template, replacements) {
    var text = has.call(texts, template) ? texts[template] : template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (all, key) {
      return has.call(replacements, key) ? String(replacements[key]) : all;
    });
  }

  if (window.FormViewer.setLanguage) { window.FormViewer.setLanguage(document.documentElement.lang); }
  var viewer = new window.FormViewer.Form({
    container: host,
    additionalModules: [{ translate: ['value', translate] }]
  });

  // The server's refusals stay next to their fields until the field is changed: the viewer validates every
  // field that has an initial value once it is drawn (an effect after the import), which would otherwise
  // replace them with its own (empty) result.
  var initial = read('data');
  var keyOf = {};
  (function walk(components) {
    (components || []).forEach(function (c) {
      if (c.key) { keyOf[c.id] = c.key; }
      walk(c.components);
    });
  }(read('schema').components));
  var sticky = {};
  Object.keys(serverErrors).forEach(function (id) { sticky[id] = serverErrors[id]; });
  function keepServerErrors() {
    var state = viewer._getState();
    var missing = {};
    Object.keys(sticky).forEach(function (id) {
      var key = keyOf[id];
      if (key !== undefined && String(state.data[key]) !== String(initial[key])) { delete sticky[id]; return; }
      if (!(state.errors[id] || []).length) { missing[id] = sticky[id]; }
    });
    if (Object.keys(missing).length) { viewer._setState({ errors: Object.assign({}, state.errors, missing) }); }
  }

  viewer.importSchema(read('schema'), initial).then(function () {
    fallback.replaceChildren();           // one set of fields only: the viewer's
    host.hidden = false;
    viewer.on('changed', keepServerErrors);
    keepServerErrors();
    host.setAttribute('data-rendered', 'true');
  }).catch(function (err) {
    host.setAttribute('data-error', String((err && err.message) || err));   // the plain fields stay
  });

  function addValue(key, value) {
    var input = document.createElement('input');
    input.type = 'hidden';
    input.name = key;
    input.value = value;
    input.setAttribute('data-formjs-value', '');
    htmlForm.appendChild(input);
  }

  htmlForm.addEventListener('submit', function (event) {
    if (host.getAttribute('data-rendered') !== 'true') { return; }   // the plain fields post themselves
    event.preventDefault();
    var result = viewer.submit();
    if (Object.keys(result.errors || {}).length) { return; }           // the viewer shows them by the fields
    htmlForm.querySelectorAll('[data-formjs-value]').forEach(function (node) { node.remove(); });
    Object.keys(result.data).forEach(function (key) {
      var value = result.data[key];
      if (value === null || value === undefined || value === false || value === '') { return; }
      if (Array.isArray(value)) { value.forEach(function (item) { addValue(key, String(item)); }); }
      else if (value === true) { addValue(key, 'true'); }
      else { addValue(key, String(value)); }
    });
    htmlForm.submit();
  });
}());
