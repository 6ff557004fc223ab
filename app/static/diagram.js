// Render the instance's BPMN with finished (zx-done) and current (zx-current) steps highlighted.
(function () {
  var el = document.getElementById('diagram');
  if (!el || !window.BpmnJS) { return; }
  var viewer = new window.BpmnJS({ container: el });
  Promise.all([
    fetch(el.dataset.xml, { credentials: 'same-origin' }).then(function (r) { return r.text(); }),
    fetch(el.dataset.progress, { credentials: 'same-origin' }).then(function (r) { return r.json(); })
  ]).then(function (res) {
    return viewer.importXML(res[0]).then(function () {
      var canvas = viewer.get('canvas');
      canvas.zoom('fit-viewport');
      res[1].completed.forEach(function (id) { try { canvas.addMarker(id, 'zx-done'); } catch (e) {} });
      res[1].current.forEach(function (id) { try { canvas.addMarker(id, 'zx-current'); } catch (e) {} });
      el.setAttribute('data-rendered', 'true');
    });
  }).catch(function (err) { el.setAttribute('data-error', String(err)); });
})();
