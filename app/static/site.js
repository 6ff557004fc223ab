// Site-wide behaviour (every page): marks that scripts run, makes wide tables that scroll inside
// their box reachable by keyboard, and shows one of two alternative field groups (approve / decline).
(function () {
  document.body.classList.remove('no-js');

  // A table wider than its box scrolls inside it (app.css); give such a box a name and a Tab stop so
  // keyboard users can scroll it too (WCAG 2.1.1).
  function markScrollers() {
    document.querySelectorAll('main table').forEach(function (t) {
      var wide = t.scrollWidth > t.clientWidth + 1;
      if (wide && !t.hasAttribute('tabindex')) {
        t.setAttribute('tabindex', '0');
        t.setAttribute('data-zx-scroll', '1');
      } else if (!wide && t.getAttribute('data-zx-scroll')) {
        t.removeAttribute('tabindex');
        t.removeAttribute('data-zx-scroll');
      }
    });
  }
  markScrollers();
  window.addEventListener('resize', markScrollers);
  document.body.addEventListener('htmx:afterSwap', markScrollers);

  // Alternative field groups: <fieldset data-zx-when="decision=approve"> is shown only while the
  // radio (or select) named "decision" has the value "approve". Without scripts every group shows.
  function applyWhen(form) {
    form.querySelectorAll('[data-zx-when]').forEach(function (group) {
      var parts = group.getAttribute('data-zx-when').split('=');
      var name = parts[0], wanted = parts[1].split('|');
      var field = form.elements[name];
      if (!field) { return; }
      var value = field.value;
      if (field instanceof RadioNodeList || field.length) {
        value = '';
        Array.prototype.forEach.call(form.querySelectorAll('[name="' + name + '"]'), function (el) {
          if ((el.type === 'radio' || el.type === 'checkbox') ? el.checked : true) { value = el.value; }
        });
      }
      var show = value === '' ? false : wanted.indexOf(value) >= 0;
      group.hidden = !show;
      group.disabled = !show;      // hidden fields are not sent and not validated by the browser
    });
  }
  document.querySelectorAll('form').forEach(function (form) {
    if (!form.querySelector('[data-zx-when]')) { return; }
    applyWhen(form);
    form.addEventListener('change', function () { applyWhen(form); });
  });
})();
