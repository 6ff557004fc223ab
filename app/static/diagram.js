// Render the instance's BPMN with finished (zx-done) and current (zx-current) steps highlighted, and
// list the same steps with their state as text (#diagram-steps): the diagram's text alternative.
(function () {
  var el = document.getElementById('diagram');
  if (!el || !window.BpmnJS) { return; }
  var viewer = new window.BpmnJS({ container: el });
  var STEP = /^bpmn:(.*Task|SubProcess|CallActivity|StartEvent|EndEvent|IntermediateCatchEvent|IntermediateThrowEvent)$/;

  function listSteps(done, current, names, untranslated) {
    var list = document.getElementById('diagram-steps');
    if (!list) { return; }
    var steps = viewer.get('elementRegistry').filter(function (e) {
      return STEP.test(e.type) && e.businessObject && e.businessObject.name;
    });
    steps.sort(function (a, b) { return (a.x - b.x) || (a.y - b.y); });
    list.textContent = '';
    steps.forEach(function (e) {
      var state = current.indexOf(e.id) >= 0 ? 'current' : (done.indexOf(e.id) >= 0 ? 'done' : 'pending');
      var li = document.createElement('li');
      li.setAttribute('data-element-id', e.id);
      li.setAttribute('data-state', state);
      var name = (names && names[e.id]) || e.businessObject.name.replace(/\s+/g, ' ');
      var label = document.createElement('span');
      label.textContent = name;
      if (untranslated && untranslated.indexOf(e.id) >= 0) { label.lang = 'zh-CN'; }   // the diagram's own words
      li.appendChild(label);
      li.appendChild(document.createTextNode(' — ' + (el.getAttribute('data-' + state) || state)));
      if (state === 'current') { li.className = 'fw-bold'; }
      list.appendChild(li);
    });
  }

  Promise.all([
    fetch(el.dataset.xml, { credentials: 'same-origin' }).then(function (r) { return r.text(); }),
    fetch(el.dataset.progress, { credentials: 'same-origin' }).then(function (r) { return r.json(); })
  ]).then(function (res) {
    return viewer.importXML(res[0]).then(function () {
      var canvas = viewer.get('canvas');
      canvas.zoom('fit-viewport');
      res[1].completed.forEach(function (id) { try { canvas.addMarker(id, 'zx-done'); } catch (e) {} });
      res[1].current.forEach(function (id) { try { canvas.addMarker(id, 'zx-current'); } catch (e) {} });
      listSteps(res[1].completed, res[1].current, res[1].names, res[1].untranslated);
      el.setAttribute('data-rendered', 'true');
    });
  }).catch(function (err) { el.setAttribute('data-error', String(err)); });
})();
