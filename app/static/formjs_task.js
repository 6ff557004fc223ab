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

  var viewer = new window.FormViewer.Form({
    container: host,
    additionalModules: [{ translate: ['value', translate] }]
  });

  viewer.importSchema(read('schema'), read('data')).then(function () {
    fallback.replaceChildren();           // one set of fields only: the viewer's
    host.hidden = false;
    if (Object.keys(serverErrors).length) { viewer._setState({ errors: serverErrors }); }
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
