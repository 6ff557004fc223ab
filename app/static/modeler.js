// The administrators' modeler (templates/admin/modeler.html): bpmn-js Modeler with its properties panel and the
// platform's spiffworkflow properties group (vendor/bpmn-js/modeler.min.js, global ZxModeler).  A diagram with
// no diagram section gets one from bpmn-auto-layout; "部署" posts the edited XML with the CSRF token and shows
// the new version or each refusal (file · element · reason).  `window.zxModeler` is the modeler (test hook).
(function () {
  'use strict';
  var host = document.getElementById('modeler-canvas');
  var panel = document.getElementById('modeler-panel');
  var button = document.getElementById('modeler-deploy');
  var note = document.getElementById('modeler-note');
  var status = document.getElementById('modeler-status');
  var refusals = document.getElementById('modeler-refusals');
  if (!host || !panel || !button || !window.ZxModeler) { return; }
  var Z = window.ZxModeler;
  var DI = 'http://www.omg.org/spec/BPMN/20100524/DI';

  function read(name) { return JSON.parse(host.getAttribute('data-' + name) || '{}'); }
  var texts = read('texts');
  function fill(text, values) {
    return String(text || '').replace(/{([^}]+)}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  // the modeler's own English texts in the page's language (the server's catalog gives msgid → text)
  var dictionary = read('translations');
  function translate(template, replacements) {
    var text = Object.prototype.hasOwnProperty.call(dictionary, template) ? dictionary[template] : template;
    return fill(text, replacements || {});
  }

  var modeler = new Z.Modeler({
    container: host,
    propertiesPanel: { parent: panel },
    additionalModules: [Z.BpmnPropertiesPanelModule, Z.BpmnPropertiesProviderModule, Z.SpiffPropertiesModule,
                        { translate: ['value', translate] }],
    moddleExtensions: { spiffworkflow: Z.spiffworkflowModdle },
    zxSpiff: { labels: read('labels') }
  });
  window.zxModeler = modeler;

  function hasShapes(xml) {
    var doc = new DOMParser().parseFromString(xml, 'application/xml');
    return doc.getElementsByTagNameNS(DI, 'BPMNShape').length > 0;
  }

  // SpiffWorkflow reads some references as names (a multi-instance task's loopDataInputRef/loopDataOutputRef
  // name a task-data variable, not an element): bpmn-moddle cannot resolve them and would drop them on export.
  // Keep each as a stand-in holding the name, which the XML writer puts back as it was.
  function keepNamedReferences(warnings) {
    warnings.forEach(function (w) {
      if (!w.element || !w.property || typeof w.value !== 'string' || !/^unresolved reference/.test(w.message || '')) {
        return;
      }
      var descriptor = w.element.$descriptor && w.element.$descriptor.propertiesByName[w.property];
      if (!descriptor) { return; }
      if (descriptor.isMany) { w.element.get(w.property).push({ id: w.value }); }
      else { w.element.set(w.property, { id: w.value }); }
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

  var originalXml = null;
  // nothing edited (and no layout added): deploy the version's own text, so that deploying an older version
  // unchanged makes it current again (rollback) and the current one unchanged makes no new version
  function xmlToDeploy() {
    if (originalXml !== null && host.getAttribute('data-laid-out') !== 'true' &&
        !modeler.get('commandStack').canUndo()) {
      return Promise.resolve(originalXml);
    }
    return modeler.saveXML({ format: true }).then(function (saved) { return saved.xml; });
  }

  fetch(host.getAttribute('data-xml'), { credentials: 'same-origin' })
    .then(function (r) {
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.text();
    })
    .then(function (xml) {
      originalXml = xml;
      if (hasShapes(xml)) { return xml; }
      host.setAttribute('data-laid-out', 'true');
      note.textContent = texts.laidOut || '';
      return Z.layoutProcess(xml);
    })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function (result) {
      keepNamedReferences(result.warnings || []);
      var canvas = modeler.get('canvas');
      canvas.zoom('fit-viewport');
      var palette = host.querySelector('.djs-palette');   // keep the diagram's left edge clear of the palette
      if (palette) { canvas.scroll({ dx: palette.offsetLeft + palette.offsetWidth, dy: 0 }); }
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
    xmlToDeploy().then(function (xml) {
      var body = new URLSearchParams();
      body.set('csrf_token', host.getAttribute('data-csrf'));
      body.set('xml', xml);
      return fetch(host.getAttribute('data-deploy'), {
        method: 'POST', credentials: 'same-origin', body: body,
        headers: { 'Accept': 'application/json', 'X-CSRFToken': host.getAttribute('data-csrf') }
      });
    }).then(function (r) {
      return r.json();
    }).then(function (result) {
      show(result.ok ? 'success' : 'danger', result.message);
      showRefusals(result.refusals || []);
      if (result.ok) {
        var link = document.createElement('a');
        link.href = host.getAttribute('data-processes');
        link.className = 'ms-2';
        link.textContent = texts.back || '';
        status.appendChild(link);
      }
      host.setAttribute('data-deployed', result.ok ? 'ok' : 'refused');
    }).catch(function (err) {
      show('danger', fill(texts.failed, { error: String((err && err.message) || err) }));
      host.setAttribute('data-deployed', 'error');
    }).then(function () { button.disabled = false; });
  });
})();
