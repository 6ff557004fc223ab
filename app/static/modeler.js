// The administrators' modeler (templates/admin/modeler.html): bpmn-js Modeler with its properties panel and the
// platform's spiffworkflow properties group (vendor/bpmn-js/modeler.min.js, global ZxModeler).  A diagram with
// no diagram section gets one from bpmn-auto-layout; "部署" posts the edited XML with the CSRF token and shows
// the new version or each refusal (file · element · reason).  `window.zxModeler` is the modeler (test hook).
(function () {
  'use strict';
  var host = document.getElementById('modeler-canvas');
  var panel = document.getElementById('modeler-panel');
  var button = document.getElementById('modeler-deploy');
  var buttonNew = document.getElementById('modeler-deploy-new');       // "deploy as a new process"
  var newId = document.getElementById('modeler-new-process-id');
  var note = document.getElementById('modeler-note');
  if (!host || !panel || !button || !buttonNew || !newId || !window.ZxModeler || !window.zxEditorPage) { return; }
  var page = window.zxEditorPage.page(host);
  var fill = window.zxEditorPage.fill;
  var Z = window.ZxModeler;
  var DI = 'http://www.omg.org/spec/BPMN/20100524/DI';

  function read(name) { return JSON.parse(host.getAttribute('data-' + name) || '{}'); }
  var texts = page.texts;

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
      buttonNew.disabled = false;
      host.setAttribute('data-rendered', 'true');
    })
    .catch(page.loadFailed);

  function deploy(asNew) {
    button.disabled = buttonNew.disabled = true;
    page.deploying();
    // a new version says which version was current when this page opened (the server refuses if another
    // administrator has deployed since: the later deploy must not silently drop that change)
    var extra = asNew ? { new_process_id: newId.value } : { seen_current: host.getAttribute('data-current') || '' };
    // a new process always takes the edited text (the server renames its process)
    var xml = asNew ? modeler.saveXML({ format: true }).then(function (saved) { return saved.xml; }) : xmlToDeploy();
    xml.then(function (text) { return page.deploy('xml', text, extra); }).then(function (result) {
      page.report(result);
      if (result.ok && !asNew) {       // what this page deployed (or restored) is now the current version
        var made = (result.new || []).concat(result.restored || []);
        if (made.length) host.setAttribute('data-current', made[0].spec_id);
      }
      if (result.ok) {
        var link = document.createElement('a');
        link.href = host.getAttribute('data-processes');
        link.className = 'ms-2';
        link.textContent = texts.back || '';
        page.status.appendChild(link);
      }
      host.setAttribute('data-deployed', result.ok ? 'ok' : 'refused');
    }).catch(page.failed).then(function () { button.disabled = buttonNew.disabled = false; });
  }
  button.addEventListener('click', function () { deploy(false); });
  buttonNew.addEventListener('click', function () { deploy(true); });
})();
